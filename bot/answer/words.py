"""The question's own words: what it asks about beyond the words that say what kind of fact it asks,
and how much of them a text holds."""

from __future__ import annotations

import re

from bot.understand import ASKED, INTENT_WORDS, PREDICATES, Understanding
from retrieval.index import KnowledgeIndex
from retrieval.normalize import normalize_for_search

_FEE = re.compile(r"[\u4e00-\u9fff]{1,2}费")

# Words that carry nothing of what a question is about: particles, question words, greetings.
FILLER = frozenset(
    [
        "那",
        "呢",
        "没有",
        "还",
        "又",
        "再",
        "也",
        "吧",
        "呀",
        "啊",
        "就",
        "都",
        "这",
        "里",
        "下",
        "说",
        "问",
        "有没有",
        "是不是",
        "能不能",
        "可不可以",
        "现在",
        "目前",
        "一下",
        "从哪来",
        "哪来",
        "具体",
        "哪个",
        "哪些",
        "什么",
        "怎么",
        "怎样",
        "如何",
        "多少",
        "哪里",
        "是否",
        "可以",
        "能否",
        "需要",
        "问题",
        "一下",
        "请问",
        "想问",
        "一般",
        "大概",
        "知道",
        "我们",
        "老师",
        "同学",
        "你好",
        "about",
        "and",
        "then",
        "what",
        "how",
        "does",
        "there",
        "any",
    ]
)


def question_words(index: KnowledgeIndex, u: Understanding) -> set[str]:
    """The question's own words, without the words that only say what kind of fact is asked."""
    # Expansions (synonyms, English to Chinese) help find passages; here only what was asked counts.
    rest = u.expanded if u.language == "en" else u.normalized
    for _name, pattern, _kinds in ASKED:
        rest = pattern.sub(" ", rest)
    for word in sorted({w for words in INTENT_WORDS.values() for w in words}, key=len, reverse=True):
        rest = rest.replace(word, " ")
    words = {w for w in index.searcher.lexical.tokenizer.tokens(rest) if _is_content(w)}
    # What happens is content even where it is also a question cue: 截止, 开始, 公示, 报名 …
    words |= {m.group(0) for m in PREDICATES.finditer(u.normalized)}
    # So is the kind of fee asked about: 报名费 is not 审查费 (a cue for 'how much' all the same).
    words |= {m.group(0) for m in _FEE.finditer(u.normalized) if m.group(0) != "费用"}
    if u.language == "en":
        words = {w for w in words if not w.isascii() or w in index.searcher._idf}
    return words - FILLER


def content_tokens(index: KnowledgeIndex, u: Understanding, task: str | None) -> set[str]:
    """The question's own words: jieba words minus intent cue words, fillers and the task's name."""
    rest = u.expanded
    for word in sorted({w for words in INTENT_WORDS.values() for w in words}, key=len, reverse=True):
        rest = rest.replace(word, " ")
    if task:
        for gram in grams(normalize_for_search(task)):
            rest = rest.replace(gram, " ")
    words = {w for w in index.searcher.lexical.tokenizer.tokens(rest) if _is_content(w)}
    if u.language == "en":
        # English words the notices never use cannot be found in them; their Chinese expansions can.
        words = {w for w in words if not w.isascii() or w in index.searcher._idf}
    if sum(len(w) for w in words) <= 3:
        # Nearly all cue words ('平台账号从哪来'): the cue words are then the content.
        words |= {w for w in index.searcher.lexical.tokenizer.tokens(u.expanded) if _is_content(w)}
        if task:
            words -= set(index.searcher.lexical.tokenizer.tokens(task))
    return words


def coverage(words: set[str], text: str) -> float:
    """The length-weighted share of `words` that text contains (a typo'd word counts if most bigrams do)."""
    if not words:
        return 0.0
    norm = normalize_for_search(text)
    total = got = 0.0
    for word in words:
        total += len(word)
        if word in norm:
            got += len(word)
        elif len(word) >= 3:
            pairs = grams(word)
            got += len(word) * sum(g in norm for g in pairs) / len(pairs) * 0.8
    return got / total


def known_word(index: KnowledgeIndex, word: str) -> bool:
    """A dictionary word that some notice of the knowledge base uses."""
    return word in index.searcher._idf and index.searcher.lexical.tokenizer.is_word(word)


def beyond_notices(index: KnowledgeIndex, words: set[str]) -> bool:
    """Tell whether a question is about something no notice speaks of: most of its words are
    dictionary words that no notice uses ('天气')."""
    content = [w for w in words if not w.isascii()]
    foreign = [
        w for w in content if w not in index.searcher._idf and index.searcher.lexical.tokenizer.is_word(w)
    ]
    return bool(content) and len(foreign) * 2 >= len(content)


def _is_content(word: str) -> bool:
    return not word.startswith("#") and word not in FILLER and len(word) >= 2


def grams(text: str) -> list[str]:
    """The character bigrams of a text, in order."""
    return [text[i : i + 2] for i in range(len(text) - 1)]
