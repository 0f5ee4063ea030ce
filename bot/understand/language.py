"""The language a question is written in: English, Traditional or Simplified Chinese."""

from __future__ import annotations

import re

from retrieval.normalize import CJK_CLASS, has_cjk, is_traditional


def detect_language(text: str) -> str:
    """Return 'en' for a question mostly in English words, 'zh-Hant' for Traditional characters, else 'zh-Hans'."""
    text = re.sub(r"<[^<>]*>", " ", text)  # markup in a question says nothing about its language
    english_words = re.findall(r"[A-Za-z]{2,}", text)
    cjk = re.findall(f"[{CJK_CLASS}]", text)
    # A quoted Chinese task name inside an English sentence keeps the question English.
    if english_words and (not has_cjk(text) or len(english_words) >= 3 and len(english_words) * 2 > len(cjk)):
        return "en"
    return "zh-Hant" if is_traditional(text) else "zh-Hans"
