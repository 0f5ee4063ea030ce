"""Extractive answers: the best sentence(s) of the best passages, when they hold what the question
asks (its own words, and the kind of fact: an amount, a number, a contact, a date)."""

from __future__ import annotations

import re
from datetime import date

from bot.answer.citations import span_citation
from bot.answer.draft import Draft
from bot.answer.faq import faq_fits
from bot.answer.sources import Sources
from bot.answer.words import coverage
from bot.compose import deadline_status, next_occurrence, phrase, show_date, window_status
from bot.contract import Citation
from bot.knowledge import KnowledgeView
from bot.understand import Understanding
from retrieval.chunking import split_sentences
from retrieval.entities import EMAIL, PHONE, find_dates
from retrieval.search import Hit, SearchResult

_PROHIBITION = re.compile(r"不得|不能|不可|不予|不允许|不再|禁止|严禁|不受理")
_MONEY = re.compile(r"\d[\d,.]*\s*(?:万元|元|万|亿元|yuan|rmb)", re.I)


def extractive(
    sources: Sources,
    u: Understanding,
    intents: list[str],
    result: SearchResult,
    lang: str,
    day: date,
    *,
    content: set[str],
    task: str | None,
) -> Draft | None:
    """Answer with the best sentence(s) of the best passages, if they cover what the question asks."""
    hits = result.hits[:8]
    if not hits:
        return None
    q_tokens = set(sources.index.searcher.lexical.tokenizer.tokens(u.expanded))
    task_tokens = set(sources.index.searcher.lexical.tokenizer.tokens(task)) if task else set()
    scored: list[tuple[float, float, Hit, int, int]] = []
    for rank, hit in enumerate(hits):
        entry = hit.entry
        # A weakly ranked passage must make up for it with the question's words in one sentence.
        required = 0.34 if hit.relevance >= sources.min_relevance else 0.5
        if entry.kind == "faq":
            questions_text = str(entry.meta.get("questions_text") or entry.index_text)
            cover = coverage(content or q_tokens, questions_text)
            if not faq_fits(sources.index, u, questions_text, cover):
                continue  # it shares words with the question but was written for another one
            scored.append((1.0 + cover + hit.relevance, cover, hit, 0, len(entry.text)))
            continue
        if entry.kind != "chunk":
            continue
        doc = sources.view.documents.get(entry.doc_id)
        if doc is None:
            continue
        in_task = bool(task_tokens) and coverage(task_tokens, entry.section + entry.text) >= 0.6
        for s, e in split_sentences(entry.text, entry.start):
            sentence = doc.text[s:e]
            cover = coverage(content, sentence) if content else coverage(q_tokens, sentence)
            context_cover = coverage(content, entry.section + sentence) if content else cover
            score = cover + 0.3 * context_cover + _type_bonus(intents, sentence, u) + 0.3 * hit.relevance
            score += 0.3 * in_task - 0.03 * rank
            if max(cover, context_cover) >= required or not content:
                scored.append((score, max(cover, context_cover), hit, s, e))
    if not scored:
        return None
    scored.sort(key=lambda x: -x[0])
    best_score, best_cover, hit, s, e = scored[0]
    # The passage must hold the question's own words, not only its question words.
    if content and best_cover < 0.34 and hit.entry.kind != "faq":
        return None
    if not content and hit.relevance < sources.min_relevance:
        return None
    needs = _required_type(intents)
    if needs is None and "eligibility" not in intents and re.search(r"谁|哪些人|\bwho\b", u.normalized):
        needs = "contact"  # 'who are the reviewers' wants people, not a sentence that mentions them
    best_text = hit.entry.text if hit.entry.kind == "faq" else _slice(sources.view, hit, s, e)
    if needs and hit.entry.kind != "faq" and not _has_type(needs, best_text):
        return None
    draft = Draft(confidence=round(min(1.0, max(hit.relevance, best_cover)), 3))
    if hit.entry.kind == "faq":
        draft.lines.append(hit.entry.text)
        draft.cite(Citation(hit.entry.doc_id, hit.entry.title, hit.entry.section, hit.entry.text, "faq"))
        return draft
    chosen = [(hit, s, e)]
    for score, cover, other, s2, e2 in scored[1:4]:
        # A second sentence when it is nearly as good and says something else (another part, say).
        close_enough = other.entry.kind == "chunk" and score >= 0.85 * best_score and cover >= 0.34
        elsewhere = other.entry.entry_id != hit.entry.entry_id or abs(s2 - e) <= 2 or abs(s - e2) <= 2
        if close_enough and (s2, e2) != (s, e) and elsewhere:
            chosen.append((other, s2, e2))
            break
    said = " ".join(sources.view.documents[h.entry.doc_id].text[a:b] for h, a, b in chosen)
    if u.yes_no and _PROHIBITION.search(said):
        # The notice rules it out in so many words.
        draft.lines.append("No." if lang == "en" else "不可以。")
    for chosen_hit, cs, ce in chosen:
        doc = sources.view.documents[chosen_hit.entry.doc_id]
        sentence = doc.text[cs:ce]
        draft.lines.append(sentence if lang != "en" else f"The notice says: 「{sentence}」")
        draft.cite(span_citation(doc, cs, ce, section=chosen_hit.entry.section))
        draft.lines.extend(_date_notes(sentence, intents, lang, day))
    return draft


def _slice(view: KnowledgeView, hit: Hit, s: int, e: int) -> str:
    doc = view.documents.get(hit.entry.doc_id)
    return doc.text[s:e] if doc else ""


def states_money(sources: Sources, result: SearchResult) -> bool:
    """Tell whether a relevant passage states an amount of money (else a funding question escalates)."""
    return any(_MONEY.search(h.entry.text) for h in result.hits[:3] if h.relevance >= sources.min_relevance)


def _required_type(intents: list[str]) -> str | None:
    if "money" in intents:
        return "money"
    if intents[:1] == ["quantity"]:
        return "number"
    if intents[:1] == ["contact"]:
        return "contact"
    return None


def _has_type(kind: str, text: str) -> bool:
    if kind == "money":
        return _MONEY.search(text) is not None
    if kind == "number":
        return re.search(r"\d|[一二三四五六七八九十百千万]+[个项门所家类]", text) is not None
    if kind == "contact":
        return PHONE.search(text) is not None or EMAIL.search(text) is not None
    return True


def _type_bonus(intents: list[str], sentence: str, u: Understanding) -> float:
    """Prefer sentences that hold the kind of fact the question asks for."""
    bonus = 0.0
    dates = find_dates(sentence)
    if "deadline" in intents and dates:
        bonus += 0.3
    if ("每年" in u.normalized or "annual" in u.normalized) and any(
        d.kind == "recurring_date" for d in dates
    ):
        bonus += 0.3
    if u.yes_no and _PROHIBITION.search(sentence):
        bonus += 0.25  # a yes/no question is best answered by the sentence that allows or forbids
    if "quantity" in intents and re.search(r"\d", sentence):
        bonus += 0.3
    if "contact" in intents and PHONE.search(sentence):
        bonus += 0.3
    return bonus


def _date_notes(sentence: str, intents: list[str], lang: str, day: date) -> list[str]:
    """Add today's view of the dates a sentence holds: passed, days left, next occurrence.

    A plain date gets a status only when the question asks about time: a signature date has not 'passed'.
    """
    notes = []
    for entity in find_dates(sentence):
        if entity.kind == "date" and "deadline" not in intents:
            continue
        if entity.kind == "recurring_date":
            nxt = next_occurrence(entity.value["month"], entity.value["day"], day).isoformat()
            notes.append(
                phrase(
                    "recurring",
                    lang,
                    what=entity.text if lang != "en" else "Recurring date",
                    month=entity.value["month"],
                    day=entity.value["day"],
                    next=show_date(nxt, lang),
                    status=deadline_status(nxt, day, lang),
                )
            )
        elif entity.kind == "date_range":
            start, end = entity.value["start"], entity.value["end"]
            status = window_status(start, end, day, lang)
            notes.append(
                f"（{show_date(start, lang)}—{show_date(end, lang)}：{status}）"
                if lang != "en"
                else f"({start} to {end}: {status})"
            )
        elif entity.kind == "date" and not entity.value.get("year_inferred"):
            iso = entity.value["date"]
            notes.append(
                f"（{show_date(iso, lang)}：{deadline_status(iso, day, lang)}）"
                if lang != "en"
                else f"({iso}: {deadline_status(iso, day, lang)})"
            )
    return notes[:2]
