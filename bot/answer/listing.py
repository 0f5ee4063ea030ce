"""A notice's list as an answer: materials, steps or conditions, item by item in the notice's order."""

from __future__ import annotations

import re

from bot.answer.draft import Cite, ProseDraft
from bot.answer.facts import Coverage, FactPick, pick_confidence, short_piece
from retrieval.chunking import split_sentences
from retrieval.model import Document

LIST_ITEMS = 6
_ITEM_MARK = re.compile(r"\s*(?:\d{1,2}\s*[.．、)）]|[（(]\d{1,2}[）)]|[①-⑩]|[a-zA-Z][.)）])")


def listing(doc: Document, picks: list[FactPick], lang: str, *, cite: Cite, coverage: Coverage) -> ProseDraft:
    """Materials, steps or conditions: the items of the best section, in the notice's order.

    A sentence that introduces a list ('…须提交以下材料：') is answered with the items under it.
    """
    best = picks[0].fact
    if best.text.rstrip().endswith(("：", ":")):
        items = items_after(doc, best.end)
        if items:
            lines = [short_piece(best.text, 0, 0, set(), coverage)]
            lines += [f"{i}. {list_item(doc.text[a:b])}" for i, (a, b) in enumerate(items, start=1)]
            citations = [cite(doc, best.start, best.end), *(cite(doc, a, b) for a, b in items)]
            if lang == "en":
                lines.insert(0, "The notice says:")
            return ProseDraft(lines, citations, [], pick_confidence(picks[0]))
    section = picks[0].fact.section
    chosen = sorted(
        {p.fact.start: p.fact for p in picks if p.fact.section == section}.values(), key=lambda f: f.start
    )[:LIST_ITEMS]
    if len(chosen) == 1:
        fact = chosen[0]
        lines = [short_piece(fact.text, 0, 0, set(), coverage)]
    else:
        lines = [f"{i}. {list_item(f.text)}" for i, f in enumerate(chosen, start=1)]
    if lang == "en":
        lines.insert(0, "The notice says:")
    citations = [cite(doc, f.start, f.end) for f in chosen]
    return ProseDraft(lines, citations, [], pick_confidence(picks[0]))


def items_after(doc: Document, offset: int) -> list[tuple[int, int]]:
    """The numbered items that follow a list's lead sentence (up to LIST_ITEMS)."""
    items: list[tuple[int, int]] = []
    for start, end in split_sentences(doc.text[offset : offset + 3000], offset):
        text = doc.text[start:end]
        if _ITEM_MARK.match(text):
            items.append((start, end))
        elif items:
            break  # the list has ended
        else:
            return []  # the lead is not followed by a list
        if len(items) >= LIST_ITEMS:
            break
    return items


def list_lead(doc: Document, start: int) -> tuple[int, int] | None:
    """The sentence that introduces the numbered item at `start` ('…之一者，不得参加…：'), if it is one."""
    if not re.match(r"\s*(?:\d{1,2}\s*[.．、]|[（(]\d{1,2}[）)]|[①-⑩])", doc.text[start : start + 6]):
        return None
    before = [span for span in split_sentences(doc.text[max(0, start - 1500) : start], max(0, start - 1500))]
    for s, e in reversed(before):
        text = doc.text[s:e]
        if text.rstrip().endswith(("：", ":")):
            return s, e
        if not re.match(r"\s*(?:\d{1,2}\s*[.．、]|[（(]\d{1,2}[）)]|[①-⑩])", text):
            return None
    return None


def list_item(text: str) -> str:
    """A list item without its number, cut for a phone screen."""
    text = re.sub(r"^\s*(?:\d{1,2}[.．、]|[（(]\d{1,2}[）)]|[①-⑩])\s*", "", text)
    return text if len(text) <= 90 else text[:88] + "…"
