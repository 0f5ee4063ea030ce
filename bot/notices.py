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
from retrieval.documents import DocumentWords
from retrieval.model import Document
from retrieval.normalize import normalize_for_search
from retrieval.search import SearchResult

_SHORT_NAME = re.compile(r"(?:以下)?简称\s*[“\"「『]([^”\"」』]{2,20})[”\"」』]")
# Words every notice title shares: they say nothing about which notice is meant.
_TITLE_NOISE = re.compile(
    r"关于|开展|组织|做好|进行|举办|有关|事项|工作|的|通知|公告|通告|启事|函|年度?|学年"
)
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
    words: float = 0.0  # the share of the question's words the notice holds


@dataclass
class Resolution:
    """The notice a question is about, or the candidates to ask back about."""

    doc_id: str | None
    named: bool = False  # the question names the notice (title words or a short name)
    candidates: list[NoticeChoice] = field(default_factory=list)
    ambiguous: bool = False  # several notices fit and the question says nothing to choose by


def abbreviation_fit(word: str, name: str) -> tuple[int, int] | None:
    """How well a word shortens a name: (where it starts, how many characters it spans), or None."""
    best = None
    at = name.find(word[0])
    while at != -1:
        position, ok = at, True
        for ch in word[1:]:
            position = name.find(ch, position + 1)
            if position == -1 or position - at >= 12:
                ok = False
                break
        if ok:
            fit = (at, position - at)
            best = fit if best is None or fit < best else best
        at = name.find(word[0], at + 1)
    return best


def _shortens(word: str, title: str) -> bool:
    fit = (
        abbreviation_fit(word, title) if len(word) >= 2 and re.fullmatch(r"[\u4e00-\u9fff]+", word) else None
    )
    return fit is not None and fit[1] <= 2 * len(word) - 1


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
        self._words = DocumentWords((d.doc_id, d.title, d.text) for d in documents)
        # A bigram that many notices use in their text (预推免, 奖学金) names none of them, even if
        # only one title has it: document frequency comes from the texts, not the titles alone.
        self._matcher = TaskMatcher(
            list(names), background=[d.text[:MAX_BACKGROUND_CHARS] for d in documents]
        )

    def __len__(self) -> int:
        return len(self.titles)

    def named(self, text: str, words: set[str] | None = None) -> str | None:
        """The notice the text names: by a word that shortens its title (哈工大, 川大, 天大), else by
        its title or short name when one clearly fits."""
        fits = []
        for word in words or ():
            if len(word) < 2 or not re.fullmatch(r"[\u4e00-\u9fff]+", word):
                continue
            if any(word in n for n in self._doc_of_name):
                continue  # a title word, not a shortening
            for name, doc_id in self._doc_of_name.items():
                fit = abbreviation_fit(word, name)
                # Near the start of the name, and tight: 天大 is 天津大学, not 北京航空航天大学.
                if fit and fit[0] <= 2 and fit[1] <= 2.5 * len(word):
                    fits.append((fit, doc_id))
        fits.sort()
        if fits and (len(fits) == 1 or fits[0][0] < fits[1][0] or fits[0][1] == fits[1][1]):
            return fits[0][1]
        matched = self._matcher.match(text)
        return self._doc_of_name.get(matched) if matched else None

    def choice(self, text: str, offered: list[str]) -> str | None:
        """The offered notice a reply picks: its number (1, 2, 3), its title, or words of its title."""
        stripped = text.strip().rstrip("。.!！")
        if stripped.isdigit() and 1 <= int(stripped) <= len(offered):
            return offered[int(stripped) - 1]
        norm = normalize_for_search(stripped)
        for doc_id in offered:
            if norm and norm == self._words.titles.get(doc_id):
                return doc_id
        named = self.named(text)
        return named if named in offered else None

    def resolve(
        self,
        text: str,
        result: SearchResult,
        *,
        current: str | None = None,
        elliptical: bool = False,
        words: set[str] | None = None,
        english: bool = False,
        by_meaning: dict[str, float] | None = None,
    ) -> Resolution:
        """Pick the notice for a question from its words, the hits, and the conversation's notice.

        An elliptical follow-up ('那联系人呢？') stays on the conversation's notice; another question
        leaves it only for a notice that holds clearly more of the question's words.
        """
        if len(self.titles) == 1:
            return Resolution(next(iter(self.titles)))
        votes = self.votes(text, result, words or set(), english=english, by_meaning=by_meaning)
        named = self.named(text, words)
        best = votes[0].score if votes else 0.0
        named_score = next((v.score for v in votes if v.doc_id == named), 0.0)
        if named and named_score >= 0.7 * best:
            return Resolution(named, named=True, candidates=votes)
        if elliptical and current in self.titles:
            return Resolution(current)
        if not votes:
            return Resolution(current if current in self.titles else None)
        if current not in self.titles and len(votes) > 1 and not any(v.words for v in votes):
            # None of the question's words narrows the notices down ('什么时候截止？' to start with).
            return Resolution(votes[0].doc_id, candidates=votes[:MAX_CHOICES], ambiguous=True)
        if current in self.titles:
            mine = next((v.score for v in votes if v.doc_id == current), 0.0)
            if votes[0].doc_id != current and not (votes[0].score >= 0.5 and mine < 0.6 * votes[0].score):
                return Resolution(current, candidates=votes)
        return Resolution(votes[0].doc_id, candidates=votes)

    def votes(
        self,
        text: str,
        result: SearchResult,
        words: set[str],
        *,
        english: bool = False,
        by_meaning: dict[str, float] | None = None,
    ) -> list[NoticeChoice]:
        """Notices ranked by the share of the question's words they hold (title words twice), then
        by the passages found for it and the title bigrams it shares.

        An English question's words are translations, so its passages and the titles closest in
        meaning (`by_meaning`: doc id -> cosine of the question and the title) weigh most.
        """
        shares = self._word_shares(words)
        scores = {d: v * (0.3 if english else 1.0) for d, v in shares.items()}
        if by_meaning:
            # Cosines bunch together: what counts is how far a title stands above the others.
            values = sorted(by_meaning.values())
            mid, top = values[len(values) // 2], values[-1]
            for doc_id, cos in by_meaning.items():
                if top > mid and cos > mid:
                    scores[doc_id] = scores.get(doc_id, 0.0) + ((cos - mid) / (top - mid)) ** 2
        hits: dict[str, float] = {}
        for rank, hit in enumerate(result.hits[:8]):
            if hit.entry.kind != "faq" and hit.entry.doc_id in self.titles:
                hits[hit.entry.doc_id] = hits.get(hit.entry.doc_id, 0.0) + hit.relevance / (1 + 0.5 * rank)
        top_hit = max(hits.values(), default=0.0) or 1.0
        for doc_id, value in hits.items():
            scores[doc_id] = scores.get(doc_id, 0.0) + (1.0 if english else 0.3) * value / top_hit
        unit = self._matcher._unique_idf or 1.0
        for name, evidence in self._matcher.scores(text)[:5]:
            doc_id = self._doc_of_name[name]
            scores[doc_id] = scores.get(doc_id, 0.0) + 0.05 * min(evidence / unit, 3.0)
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        return [NoticeChoice(d, self.titles[d], round(s, 3), round(shares.get(d, 0.0), 3)) for d, s in ranked]

    def _word_shares(self, words: set[str]) -> dict[str, float]:
        """Each notice's idf-weighted share of the question's words (title words, and shortenings
        of title words such as 综测 for 综合测评, twice)."""
        aliases = {
            w: {
                d
                for d, t in self._words.titles.items()
                if w not in t and _shortens(normalize_for_search(w), t)
            }
            for w in words
        }
        return self._words.shares(words, title_aliases=aliases)
