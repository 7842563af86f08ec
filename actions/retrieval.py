"""Finds the bullet(s) of a procedure document that answer a pointed question.

"Can I drive home after a discogram?" is answered by one bullet of the
discogram's preparation section. Questions are matched to the documents' list
items and paragraphs by BM25 over spaCy lemmas, helped by question topics
(data/knowledge_base/question_topics.yml) that map patients' words to the
documents' words. When a question is about a topic the document never
mentions, the retriever says so rather than guessing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Generic, Iterator, TypeVar

from rank_bm25 import BM25Okapi
from sklearn.feature_extraction._stop_words import ENGLISH_STOP_WORDS

from actions import knowledge_base, yaml_files
from actions.document_parser import Block
from actions.knowledge_base import KnowledgeBase, Procedure
from actions.lemmas import english_words, lemmas
from actions.questions import question_part

TOPICS_FILE = "question_topics.yml"
# A passage must score at least this much (BM25, summed over the question's
# specific words) to be offered as the answer on its own.
MIN_SCORE = 1.5
# Further passages of the same section are shown if they score this close to the best.
CLOSE_TO_BEST = 0.75
MAX_PASSAGES = 3
# Words of questions that say which section is asked about, not what in it.
QUESTION_WORDS = {
    "procedure", "doctor", "need", "happen", "know", "tell", "long", "time", "mean",
    "thing", "ok", "okay", "normal", "expect", "usually", "really", "exactly", "use",
    "surgery", "surgeon", "perform", "kind", "type", "explain", "plain", "english", "mean", "patient",
}


@dataclass(frozen=True)
class Topic:
    name: str
    patient_words: tuple[tuple[str, ...], ...]  # lemma sequences
    document_words: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Passage:
    procedure: Procedure
    section_key: str
    block: Block
    lemmas: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    """The bullets that answer the question, as (section key, block), in document order."""

    passages: tuple[tuple[str, Block], ...]

    @property
    def section_key(self) -> str:
        """The section of the best bullet."""
        return self.passages[0][0]


@dataclass(frozen=True)
class NotInDocument:
    topic: str
    in_any_document: bool  # False for topics no procedure document covers (costs, parking)


def contains(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(words[i : i + n] == phrase for i in range(len(words) - n + 1))


T = TypeVar("T")


class PhraseIndex(Generic[T]):
    """Phrases (lemma sequences), each with a value, found in a text's lemmas by their
    first word: a question is read once, not once per phrase of every topic."""

    def __init__(self, phrases: list[tuple[tuple[str, ...], T]]):
        self._by_first: dict[str, list[tuple[tuple[str, ...], T]]] = defaultdict(list)
        for phrase, value in phrases:
            self._by_first[phrase[0]].append((phrase, value))

    def found(self, words: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], T]]:
        """Every (phrase, value) whose phrase `words` contains, once per occurrence."""
        for i, word in enumerate(words):
            for phrase, value in self._by_first.get(word, ()):
                if words[i : i + len(phrase)] == phrase:
                    yield phrase, value


def _phrases(values: list[str]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(lemmas(v)) for v in values if lemmas(v))


class Retriever:
    def __init__(self, kb: KnowledgeBase, topics: list[Topic]):
        self.topics = topics
        self.topic_phrases = PhraseIndex([(p, i) for i, t in enumerate(topics) for p in t.patient_words])
        self.passages = [
            Passage(procedure, key, block, tuple(lemmas(block.full_text)))
            for procedure in kb.procedures
            for key, section in procedure.document.sections.items()
            if key != "summary"  # the summary is the answer to "what is it", not a detail
            for block in section.blocks
        ]
        self.bm25 = BM25Okapi([self._terms(p.lemmas) for p in self.passages])
        section_words = {w for s in kb.section_specs for w in lemmas(s.title)}
        self.generic = {lemma for w in ENGLISH_STOP_WORDS for lemma in lemmas(w)}
        self.generic |= QUESTION_WORDS | section_words
        # A name in the question says which document, not what in it, in any word order
        # ("spine imaging anesthesia"); a word of a name that is mostly absent is a
        # question ("do they use a laser?" is not "laser disc decompression"). A topic's
        # word stays where the name has a proper name beside it ("do they use a catheter
        # for the Racz?": "Racz catheter" is a name, "catheter" the question).
        self.names = [frozenset(lemmas(n)) for p in kb.procedures for n in p.names if lemmas(n)]
        topic_words = {phrase[0] for t in topics for phrase in t.patient_words if len(phrase) == 1}
        english = english_words()
        self.asked_about = {w for w in topic_words if all(
            any(x not in english for x in name if x != w) for name in self.names if w in name)}

    @staticmethod
    def _terms(words: tuple[str, ...] | list[str]) -> list[str]:
        return [w for w in words if w not in ENGLISH_STOP_WORDS]

    def topics_in(self, words: tuple[str, ...]) -> list[Topic]:
        """Topics the question is about; a longer phrase wins ("drink alcohol" over "drink")."""
        longest: dict[int, int] = {}
        for phrase, index in self.topic_phrases.found(tuple(words)):
            longest[index] = max(longest.get(index, 0), len(phrase))
        if not longest:
            return []
        best = max(longest.values())
        return [self.topics[i] for i in sorted(longest) if longest[i] == best]

    def question_words(self, question: str, naming: frozenset[str]) -> tuple[str, ...]:
        """The lemmas that say what is asked: the asking sentences' (actions/questions.py),
        without the words that name the procedure (a name, or the description that
        named it: `naming`)."""
        return tuple(w for w in self._without_names(lemmas(question_part(question))) if w not in naming)

    def _without_names(self, words: list[str]) -> list[str]:
        present = set(words)
        named = {w for name in self.names if 2 * len(name & present) >= len(name) for w in name}
        return [w for w in words if w not in named - self.asked_about]

    def search(
        self, question: str, procedure: Procedure, section_key: str | None,
        naming: frozenset[str] = frozenset(),
    ) -> Match | NotInDocument | None:
        """The best answer within the procedure's document, or None for the whole section."""
        words = self.question_words(question, naming)
        specific = [w for w in words if w not in self.generic]
        topics = self.topics_in(words)
        candidates = [i for i, p in enumerate(self.passages) if p.procedure is procedure]
        if topics:
            topic_words = [w for t in topics for phrase in t.document_words for w in phrase]
            on_topic = [
                i for i in candidates
                if any(contains(self.passages[i].lemmas, ph) for t in topics for ph in t.document_words)
            ]
            if not on_topic:
                return NotInDocument(topics[0].name, any(t.document_words for t in topics))
            # The section asked about, where it speaks of the topic ("how do I look after
            # the incision?" is recovery, not the steps' "a small incision is made").
            asked = [i for i in on_topic if self.passages[i].section_key == section_key]
            return self._best(asked or on_topic, specific + topic_words, section_key, minimum=0.0)
        if not specific:
            return None
        # Without a topic, a word in common is weak evidence: stay in the section asked
        # about, unless the document lacks it ("is a laser used?" -> the steps). A detail
        # that the document gives elsewhere is found by its topic (question_topics.yml).
        if procedure.section(section_key or ""):
            candidates = [i for i in candidates if self.passages[i].section_key == section_key]
        return self._best(candidates, specific, section_key, minimum=MIN_SCORE) if candidates else None

    def closest_section(
        self, question: str, procedure: Procedure, naming: frozenset[str] = frozenset()
    ) -> str | None:
        """The section of the procedure's document that the question's words fit best."""
        scores = self._section_scores(question, procedure, naming)
        best = max(scores, key=scores.get, default=None)
        return best if best is not None and scores[best] >= MIN_SCORE else None

    def section_fit(
        self, question: str, procedure: Procedure, naming: frozenset[str] = frozenset()
    ) -> dict[str, float]:
        """How well the question's words fit each section of the procedure's document, the
        best-fitting section's as 1 (none if no word is shared)."""
        scores = self._section_scores(question, procedure, naming)
        top = max(scores.values(), default=0.0)
        return {key: score / top for key, score in scores.items()} if top > 0 else {}

    def _section_scores(self, question: str, procedure: Procedure, naming: frozenset[str]) -> dict[str, float]:
        """Each section's best passage score (BM25) for the question's specific words, in document order."""
        words = [w for w in self.question_words(question, naming) if w not in self.generic]
        if not words:
            return {}
        scores = self.bm25.get_scores(self._terms(words))
        best: dict[str, float] = {}
        for i, passage in enumerate(self.passages):
            if passage.procedure is procedure:
                best[passage.section_key] = max(best.get(passage.section_key, 0.0), scores[i])
        return best

    def _best(
        self, candidates: list[int], query: list[str], section_key: str | None, minimum: float
    ) -> Match | None:
        scores = self.bm25.get_scores(self._terms(query))
        # The section the question was classified as breaks ties in its favour.
        ranked = sorted(
            candidates,
            key=lambda i: scores[i] * (1.2 if self.passages[i].section_key == section_key else 1.0),
            reverse=True,
        )
        best = ranked[0]
        if scores[best] < minimum or (minimum and scores[best] <= 0):
            return None
        chosen = [i for i in ranked if scores[i] >= CLOSE_TO_BEST * scores[best]][:MAX_PASSAGES]
        # Best bullet's section first, then document order, as the patient would read them.
        chosen.sort(key=lambda i: (self.passages[i].section_key != self.passages[best].section_key, i))
        return Match(tuple((self.passages[i].section_key, self.passages[i].block) for i in chosen))


def load_topics(path: Path) -> list[Topic]:
    entries = yaml_files.safe_load(path.read_text(encoding="utf-8"))["topics"]
    return [
        Topic(e["name"], _phrases(e["patient_words"]), _phrases(e["document_words"]))
        for e in entries
    ]


@lru_cache(maxsize=None)
def default_topics() -> list[Topic]:
    return load_topics(knowledge_base.DEFAULT_DIRECTORY / TOPICS_FILE)


@lru_cache(maxsize=None)
def default() -> Retriever:
    """The retriever over the project's knowledge base, built once per process."""
    return Retriever(knowledge_base.default(), default_topics())
