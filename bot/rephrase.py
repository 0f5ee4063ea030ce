"""Optional LLM rephrasing of a composed answer, checked so that it cannot add a fact.

Off unless APPLYBOT_LLM_BASE_URL names an OpenAI-compatible server (vLLM, Ollama, Qwen or DeepSeek
APIs). The model only rewords; its output is kept only when every date, number, phone, e-mail and
known person's name in it also appears in the composed answer or the cited passages.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from retrieval.entities import EMAIL, PHONE, find_dates
from retrieval.normalize import normalize_for_search

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You rewrite answers for applicants so they read naturally on a phone. Use only the facts in the "
    "draft answer and the quoted sources. Never add a date, number, phone, e-mail, name or fact. Keep "
    "every date, number, phone, e-mail and name exactly as written. Reply in {language}, in at most "
    "three short sentences, with no preamble."
)
_LANGUAGES = {"zh-Hans": "Simplified Chinese", "zh-Hant": "Traditional Chinese", "en": "English"}


def _facts(text: str) -> tuple[set[str], set[str], set[str]]:
    """Return (ISO dates, other numbers, phones and e-mails) stated in a text."""
    dates: set[str] = set()
    spans: list[tuple[int, int]] = []
    for entity in find_dates(text):
        value = entity.value if isinstance(entity.value, dict) else {}
        dates.update(str(v) for k, v in value.items() if k in ("date", "start", "end") and v)
        if entity.kind in ("year", "year_range"):
            dates.update(str(v) for v in value.values())
        spans.append((entity.start, entity.end))
    contacts = {m.group(0) for m in PHONE.finditer(text)} | {m.group(0).lower() for m in EMAIL.finditer(text)}
    masked = text
    for pattern in (PHONE, EMAIL):
        masked = pattern.sub(" ", masked)
    for start, end in sorted(spans, reverse=True):
        masked = masked[:start] + " " + masked[end:]
    numbers = set(re.findall(r"\d+(?:\.\d+)?", masked))
    return dates, numbers, contacts


def is_faithful(candidate: str, sources: Iterable[str], *, known_names: Iterable[str] = ()) -> bool:
    """Tell whether every checkable fact of the candidate is stated in the sources."""
    source_text = "\n".join(sources)
    dates, numbers, contacts = _facts(candidate)
    have_dates, have_numbers, have_contacts = _facts(source_text)
    source_digits = set(re.findall(r"\d+(?:\.\d+)?", source_text))
    if not dates <= have_dates | source_digits:
        return False
    if not numbers <= have_numbers | source_digits:
        return False
    if not contacts <= have_contacts:
        return False
    norm_candidate, norm_sources = normalize_for_search(candidate), normalize_for_search(source_text)
    return all(
        not (name in norm_candidate and name not in norm_sources)
        for name in map(normalize_for_search, known_names)
    )


class LlmRephraser:
    """Rewords composed answers through a LangChain chat model on an OpenAI-compatible server."""

    def __init__(self, *, base_url: str, model: str, api_key: str, timeout_s: float) -> None:
        from langchain_openai import ChatOpenAI

        self._llm = ChatOpenAI(
            base_url=base_url,
            model=model,
            api_key=api_key,
            timeout=timeout_s,
            max_retries=0,
            temperature=0,  # type: ignore[arg-type]
        )

    def rephrase(
        self, *, question: str, answer: str, quotes: list[str], language: str, known_names: Iterable[str] = ()
    ) -> str | None:
        """Return a checked rewording, or None (then the composed answer is used as it is)."""
        sources = "\n".join(f"[{i}] {q}" for i, q in enumerate(quotes, start=1))
        messages = [
            ("system", SYSTEM_PROMPT.format(language=_LANGUAGES.get(language, "Simplified Chinese"))),
            ("human", f"Question: {question}\n\nDraft answer:\n{answer}\n\nSources:\n{sources}"),
        ]
        try:
            reply = self._llm.invoke(messages)
        except Exception as exc:  # any failure of an optional helper falls back to the composed answer
            log.warning("LLM rephrasing failed, using the composed answer: %s", exc)
            return None
        text = str(reply.content).strip()
        if not text or len(text) > 4 * max(len(answer), 200):
            return None
        if not is_faithful(text, [answer, *quotes], known_names=known_names):
            log.info("LLM rewording dropped: it states a fact the sources do not")
            return None
        return text
