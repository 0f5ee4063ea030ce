"""Cut section text into passages small enough to cite: sentence groups that never cross a section."""

from __future__ import annotations

import re

from retrieval.model import Chunk, stable_id

TARGET_CHARS = 160
MAX_CHARS = 260
_SENTENCE_END = re.compile(r"[^。！？；!?;]*(?:[。！？；!?;]+[”’」』）)]*|$)")


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Return (start, end) spans of the sentences in text, shifted by offset; spans cover no newline."""
    spans = []
    for line_match in re.finditer(r"[^\n]+", text):
        line_start = line_match.start()
        for m in _SENTENCE_END.finditer(line_match.group(0)):
            if m.end() > m.start():
                s, e = m.start(), m.end()
                piece = m.group(0)
                s += len(piece) - len(piece.lstrip())
                e -= len(piece) - len(piece.rstrip())
                if e > s:
                    spans.append((offset + line_start + s, offset + line_start + e))
    return spans


def chunk_spans(sentences: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Group consecutive sentence spans into chunks of about TARGET_CHARS, never over MAX_CHARS if avoidable."""
    groups: list[tuple[int, int]] = []
    start = end = None
    for s, e in sentences:
        if start is None:
            start, end = s, e
        elif e - start > MAX_CHARS or end - start >= TARGET_CHARS:  # type: ignore[operator]
            groups.append((start, end))  # type: ignore[arg-type]
            start, end = s, e
        else:
            end = e
    if start is not None:
        groups.append((start, end))  # type: ignore[arg-type]
    return groups


def make_chunks(text: str, *, doc_id: str, paragraphs: list[tuple[int, int, str, int]]) -> list[Chunk]:
    """Chunk paragraphs given as (start, end, section path, part) runs of the document text."""
    chunks: list[Chunk] = []
    run: list[tuple[int, int]] = []
    run_key: tuple[str, int] | None = None

    def flush() -> None:
        if not run or run_key is None:
            return
        sentences = [span for s, e in run for span in split_sentences(text[s:e], s)]
        for s, e in chunk_spans(sentences):
            section, part = run_key
            chunks.append(
                Chunk(stable_id(doc_id, str(s), str(e), text[s:e]), doc_id, section, s, e, text[s:e], part)
            )
        run.clear()

    for start, end, section, part in paragraphs:
        if (section, part) != run_key:
            flush()
            run_key = (section, part)
        run.append((start, end))
    flush()
    return chunks
