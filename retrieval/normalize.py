"""Text normalisation, in two strengths.

`clean_inline` makes the *document* text: it drops markup (Markdown emphasis, inline HTML tags,
the spaces a PDF puts between Chinese characters) and keeps every character a reader would quote.
`normalize_for_search` makes *index and query* text: full-width to half-width, Traditional to
Simplified, lower case, collapsed whitespace. Both sides of a comparison use the same function.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

_TAG = re.compile(r"<[^<>]{1,500}>")
_EMPHASIS = re.compile(r"(\*\*|__)")
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A PDF puts ASCII spaces between Chinese characters ('教育 部'); an ideographic space (U+3000) is the
# author's own separator ('王晓燕　电话') and is kept as one space.
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}]) +(?=[{_CJK}])")
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")


def clean_inline(text: str) -> str:
    """Return one line of document text without markup; what remains is what a reader would quote."""
    text = _CONTROL.sub("", text)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    text = _EMPHASIS.sub("", text)
    text = text.replace("\u00a0", " ")
    text = _SPACE_BETWEEN_CJK.sub("", text)
    text = _SPACES.sub(" ", text)
    return text.strip()


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    from opencc import OpenCC

    return OpenCC("t2s")


@lru_cache(maxsize=1)
def _s2t():  # type: ignore[no-untyped-def]
    from opencc import OpenCC

    return OpenCC("s2t")


def to_simplified(text: str) -> str:
    """Convert Traditional Chinese characters to Simplified ones."""
    return str(_t2s().convert(text))


def to_traditional(text: str) -> str:
    """Convert Simplified Chinese characters to Traditional ones."""
    return str(_s2t().convert(text))


def is_traditional(text: str) -> bool:
    """Tell whether the text uses Traditional characters (converting it to Simplified changes it)."""
    return to_simplified(text) != text


# Answering compares each question with the same few hundred passages again and again; converting
# them to Simplified (OpenCC, pure Python) was the largest cost of a warm answer. Bounded by count.
@lru_cache(maxsize=16384)
def normalize_for_search(text: str) -> str:
    """Return text as the index sees it: NFKC, Simplified, lower case, single spaces, no controls."""
    text = _CONTROL.sub(" ", text)
    text = unicodedata.normalize("NFKC", text)
    text = to_simplified(text)
    text = text.lower()
    return _SPACES.sub(" ", text).strip()


def has_cjk(text: str) -> bool:
    """Tell whether the text holds at least one Chinese character."""
    return re.search(f"[{_CJK}]", text) is not None


CJK_CLASS = _CJK

# A line break inside a table cell is a wrap: Chinese text, full-width punctuation and digits run on
# without a space (a phone number wrapped as 027-8758888 / 6 is one number); other words get one.
_WRAP_NO_SPACE = re.compile(
    rf"(?<=[{_CJK}\u3000-\u303f\uff00-\uffef\d\-])[ \t]*\n[ \t]*(?=[{_CJK}\u3000-\u303f\uff00-\uffef\d])"
)


def join_cell_lines(text: str) -> str:
    """Put a wrapped cell back on one line (see _WRAP_NO_SPACE) and clean it like any document text."""
    return clean_inline(_WRAP_NO_SPACE.sub("", text).replace("\n", " "))
