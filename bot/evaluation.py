"""Evaluation harnesses: answer accuracy (`applybot eval`) and retrieval recall (`applybot eval-retrieval`)."""

from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bot.contract import Answer
from retrieval.entities import find_dates
from retrieval.normalize import normalize_for_search
from retrieval.search import HybridSearcher


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read a JSON Lines file, naming the line of any error."""
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from exc
    return items


def answer_view(text: str) -> str:
    """Normalise an answer for fact matching: Simplified, half-width, lower case, dates also in ISO."""
    norm = normalize_for_search(text)
    isos = []
    for entity in find_dates(text):
        if entity.kind == "date":
            isos.append(str(entity.value["date"]))
        elif entity.kind == "date_range":
            isos += [str(entity.value["start"]), str(entity.value["end"])]
    return norm + " " + " ".join(isos)


_NO_LEAD = re.compile(r"^\s*(?:不可以|不能|不行|不可|不需要|不用|不是|否|没有|no\b)", re.I)
_YES_LEAD = re.compile(r"^\s*(?:可以|能|是的|是|需要|要|有|yes\b)", re.I)


def yes_no_of(answer: str) -> str | None:
    """Return 'yes' or 'no' when an answer starts with one, else None."""
    if _NO_LEAD.search(answer):
        return "no"
    if _YES_LEAD.search(answer):
        return "yes"
    return None


def graded_text(answer: Answer) -> str:
    """What a grader reads: the answer and the contacts it returns (facts may be in either)."""
    contacts = " ".join(" ".join(v for v in vars(c).values() if v) for c in answer.contacts)
    return f"{answer.answer} {contacts}"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


@dataclass
class CaseResult:
    id: str
    question: str
    passed: bool
    escalated: bool
    expected_escalation: bool
    citations_valid: bool
    missing: list[str] = field(default_factory=list)
    unwanted: list[str] = field(default_factory=list)
    answer: str = ""
    ms: float = 0.0
    category: str = ""
    chars: int = 0


def citations_valid(answer: Answer, documents: dict[str, str]) -> bool:
    """Every quote of a document citation is a verbatim substring of that document's text."""
    for citation in answer.citations:
        if citation.kind == "faq":
            continue
        text = documents.get(citation.doc_id)
        if text is None or not citation.quote or citation.quote not in text:
            return False
    return True


def run_answer_eval(assistant: Any, cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Ask every case (after its earlier turns, in its own session) and score the answers."""
    documents = {d.doc_id: d.text for d in assistant.index.store.documents()}
    results: list[CaseResult] = []
    for i, case in enumerate(cases):
        session = f"eval-{i}-{case.get('id', '')}"
        today = date.fromisoformat(case["today"]) if case.get("today") else None
        for earlier in case.get("history", []):
            assistant.ask(earlier, session_id=session, today=today)
        started = time.perf_counter()
        answer = assistant.ask(case["question"], session_id=session, today=today)
        ms = (time.perf_counter() - started) * 1000
        view = answer_view(graded_text(answer))
        missing = [f for f in case.get("must_contain", []) if normalize_for_search(f) not in view]
        unwanted = [f for f in case.get("must_not_contain", []) if normalize_for_search(f) in view]
        expected = bool(case.get("escalate", False))
        # An answer states something only with a citation; asking back or escalating states nothing.
        valid = citations_valid(answer, documents) and (
            answer.escalated or bool(answer.clarify) or bool(answer.citations)
        )
        if case.get("yes_no") and yes_no_of(answer.answer) != case["yes_no"]:
            missing.append(f"yes_no={case['yes_no']}")
        passed = not missing and not unwanted and answer.escalated == expected and valid
        results.append(
            CaseResult(
                str(case.get("id", i)),
                case["question"],
                passed,
                answer.escalated,
                expected,
                valid,
                missing,
                unwanted,
                answer.answer,
                ms,
                str(case.get("category", "")),
                len(answer.answer),
            )
        )
    return summarize(results)


def summarize(results: list[CaseResult]) -> dict[str, Any]:
    n = len(results)
    tp = sum(r.escalated and r.expected_escalation for r in results)
    fp = sum(r.escalated and not r.expected_escalation for r in results)
    fn = sum(not r.escalated and r.expected_escalation for r in results)
    latencies = [r.ms for r in results]
    return {
        "n": n,
        "accuracy": round(sum(r.passed for r in results) / n, 4) if n else 0.0,
        "citation_validity": round(sum(r.citations_valid for r in results) / n, 4) if n else 0.0,
        "escalation_precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
        "escalation_recall": round(tp / (tp + fn), 4) if tp + fn else 1.0,
        "p50_ms": round(percentile(latencies, 0.5), 2),
        "p95_ms": round(percentile(latencies, 0.95), 2),
        "answer_chars_p50": percentile([float(r.chars) for r in results], 0.5),
        "answer_chars_max": max((r.chars for r in results), default=0),
        "by_category": _by_category(results),
        "failures": [
            {
                "id": r.id,
                "category": r.category,
                "question": r.question,
                "missing": r.missing,
                "unwanted": r.unwanted,
                "escalated": r.escalated,
                "expected_escalation": r.expected_escalation,
                "citations_valid": r.citations_valid,
                "answer": r.answer,
            }
            for r in results
            if not r.passed
        ],
    }


def _by_category(results: list[CaseResult]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[CaseResult]] = {}
    for r in results:
        groups.setdefault(r.category or "-", []).append(r)
    return {
        name: {"n": len(rs), "accuracy": round(sum(r.passed for r in rs) / len(rs), 4)}
        for name, rs in sorted(groups.items())
    }


def run_retrieval_eval(
    searcher: HybridSearcher, cases: list[dict[str, Any]], *, k: int = 5
) -> dict[str, Any]:
    """Recall@1/3/5, MRR and latency for hybrid, dense and lexical search side by side."""
    modes: dict[str, Any] = {}
    for mode in ("hybrid", "dense", "lexical"):
        ranks: list[int | None] = []
        latencies: list[float] = []
        searcher.clear_caches()  # each mode pays for its own query embeddings and vector searches
        for case in cases:
            started = time.perf_counter()
            result = searcher.search(case["question"], k=k, mode=mode)  # type: ignore[arg-type]
            latencies.append((time.perf_counter() - started) * 1000)
            rank = None
            for position, hit in enumerate(result.hits, start=1):
                texts = [hit.entry.text, *hit.entry.meta.get("context", [])]
                # Line breaks that parsing restores (flattened web text) do not change the passage.
                if any(_squeezed(case["expect"]) in _squeezed(t) for t in texts):
                    rank = position
                    break
            ranks.append(rank)
        n = len(cases) or 1
        modes[mode] = {
            "recall@1": round(sum(r == 1 for r in ranks) / n, 4),
            "recall@3": round(sum(r is not None and r <= 3 for r in ranks) / n, 4),
            "recall@5": round(sum(r is not None and r <= 5 for r in ranks) / n, 4),
            "mrr": round(sum(1 / r for r in ranks if r) / n, 4),
            "p50_ms": round(statistics.median(latencies), 2) if latencies else 0.0,
            "p95_ms": round(percentile(latencies, 0.95), 2),
        }
    return {"n": len(cases), "modes": modes}


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)
