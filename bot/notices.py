"""Which notice a question is about: its title words, its own short names, the search hits, the conversation.

With many notices loaded, a question is answered from one of them, and a contact is only ever taken
from that one. Titles and the short names a notice gives itself (简称“…”) are matched like task names
(distinctive character bigrams weigh most); the notices the best passages come from break ties; a
follow-up stays on the notice of the conversation unless it names another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.understand import TaskMatcher
from retrieval.model import Document
from retrieval.search import SearchResult

_SHORT_NAME = re.compile(r"(?:以下)?简称\s*[“\"「『]([^”\"」』]{2,20})[”\"」』]")
# Words every notice title shares: they say nothing about which notice is meant.
_TITLE_NOISE = re.compile(r"关于|开展|组织|做好|进行|举办|有关|事项|工作|的|通知|公告|通告|启事|函|年度?|学年")
MAX_CHOICES = 3
# A title longer than this is a parse that swallowed body text: only its opening names the notice.
MAX_NAME_CHARS = 60
MAX_BACKGROUND_CHARS = 4000


@dataclass
class NoticeChoice:
    """A notice a question may be about, with the evidence for it."""

    doc_id: str
    title: str
    score: float


@dataclass
class Resolution:
    """The notice a question is about, or the candidates to ask back about."""

    doc_id: str | None
    named: bool = False  # the question names the notice (title words or a short name)
    candidates: list[NoticeChoice] = field(default_factory=list)


def abbreviates(word: str, name: str) -> bool:
    """Tell whether a word shortens a name: its characters in order, from the name's first one on.

    哈工大 shortens 哈尔滨工业大学 and 川大 四川大学; the characters must fall within a dozen of the first.
    """
    at = name.find(word[0])
    while at != -1:
        rest = iter(name[at : at + 12])
        if all(ch in rest for ch in word[1:]):
            return True
        at = name.find(word[0], at + 1)
    return False


class NoticeResolver:
    """Resolve questions to notices; built from the documents whenever they change."""

    def __init__(self, documents: list[Document]) -> None:
        self.titles: dict[str, str] = {}
        names: dict[str, str] = {}
        for doc in documents:
            self.titles[doc.doc_id] = doc.title
            for name in {doc.title, *(p.title for p in doc.parts if p.kind != "attachment")}:
                names[_TITLE_NOISE.sub(" ", name[:MAX_NAME_CHARS])] = doc.doc_id
            for short in _SHORT_NAME.findall(doc.text):
                names.setdefault(short, doc.doc_id)
        self._doc_of_name = names
        # A bigram that many notices use in their text (预推免, 奖学金) names none of them, even if
        # only one title has it: document frequency comes from the texts, not the titles alone.
        self._matcher = TaskMatcher(list(names), background=[d.text[:MAX_BACKGROUND_CHARS] for d in documents])

    def __len__(self) -> int:
        return len(self.titles)

    def named(self, text: str, words: set[str] | None = None) -> str | None:
        """The notice the text names by its title or short name, when one clearly fits.

        Failing that, a word of the question that abbreviates exactly one title (哈工大, 川大) names it.
        """
        name = self._matcher.match(text)
        if name:
            return self._doc_of_name.get(name)
        for word in sorted(words or (), key=len, reverse=True):
            if len(word) < 2 or not re.fullmatch(r"[\u4e00-\u9fff]+", word):
                continue
            owners = {d for n, d in self._doc_of_name.items() if word not in n and abbreviates(word, n)}
            if len(owners) == 1:
                return owners.pop()
        return None

    def resolve(
        self,
        text: str,
        result: SearchResult,
        *,
        current: str | None = None,
        elliptical: bool = False,
        words: set[str] | None = None,
    ) -> Resolution:
        """Pick the notice for a question from its words, the hits, and the conversation's notice.

        An elliptical follow-up ('那联系人呢？') stays on the conversation's notice.
        """
        if len(self.titles) == 1:
            return Resolution(next(iter(self.titles)))
        named = self.named(text, words)
        if named:
            return Resolution(named, named=True)
        if elliptical and current in self.titles:
            return Resolution(current)
        votes = self.votes(text, result)
        if current in self.titles and (not votes or current in {c.doc_id for c in votes[:MAX_CHOICES]}):
            return Resolution(current, candidates=votes)
        if current in self.titles and votes and votes[0].score < 0.9:
            return Resolution(current, candidates=votes)
        if not votes:
            return Resolution(None)
        return Resolution(votes[0].doc_id, candidates=votes)

    def votes(self, text: str, result: SearchResult) -> list[NoticeChoice]:
        """Notices ranked by the passages found for the question and by the title words it shares."""
        scores: dict[str, float] = {}
        for rank, hit in enumerate(result.hits[:8]):
            if hit.entry.kind == "faq" or hit.entry.doc_id not in self.titles:
                continue
            scores[hit.entry.doc_id] = scores.get(hit.entry.doc_id, 0.0) + hit.relevance / (1 + 0.5 * rank)
        unit = self._matcher._unique_idf or 1.0
        for name, evidence in self._matcher.scores(text)[:5]:
            doc_id = self._doc_of_name[name]
            scores[doc_id] = scores.get(doc_id, 0.0) + 0.25 * evidence / unit
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        return [NoticeChoice(d, self.titles[d], round(s, 3)) for d, s in ranked]
