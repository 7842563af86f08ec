"""Procedures named by what they are, not by their name.

"The test where they inject dye into my discs" is the discogram; "the scar tissue
procedure with the catheter" is the Racz procedure. Each procedure's profile is the
words of its names, its official title, `described_as` in procedures.yml, and its
document's Summary and Purpose: a procedure a clinic adds gets one from its document.
A word counts by how few procedures' profiles have it (inverse document frequency),
so "spine" or "procedure" count for nothing and "dye" or "catheter" for much.

Patients' words for what the documents say (question_topics.yml: "put under" for
sedation) count too, each phrase as one word: "being put under for my back scan" is
the anesthesia for spine imaging.

The candidates are every procedure scoring close to the best one: one candidate is
the procedure meant; two or more are asked about with buttons.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

from sklearn.feature_extraction._stop_words import ENGLISH_STOP_WORDS

from actions.knowledge_base import KnowledgeBase, Procedure
from actions.lemmas import common_words, lemmas
from actions.retrieval import PhraseIndex, Topic

DESCRIBED = "described_procedure"  # the entity, one per candidate, valued with its code
PROFILE_SECTIONS = ("summary", "purpose")
MIN_SCORE = 2.0  # about two telling words, or one unique and one shared
MIN_WORDS = 2  # one word alone ("dye", "needle") is a detail, not a description
# A second procedure this close to the best is a real alternative, asked about with
# buttons. At 0.75, "inject contrast into each disc" (the Racz injects contrast too, not
# into discs) was asked about: development conversations 121 -> 125 of 139 at 0.8.
CLOSE = 0.8
# A word of the names, title or `described_as` describes the procedure more surely
# than one of its document's Summary or Purpose ("sedation" against "help").
NAMING_BONUS = 1.5
# In a conversation already about a procedure, a description moves it to another one
# only with this much evidence: "how does it help plan surgery?" stays on the discogram.
SWITCH_SCORE = 2 * MIN_SCORE


def content_words(text: str) -> set[str]:
    """The words that can describe a procedure: not everyday ones ("help", "work")."""
    common = common_words()
    return {w for w in lemmas(text)
            if w not in ENGLISH_STOP_WORDS and w not in common and len(w) > 2 and not w.isdigit()}


def naming_text(procedure: Procedure) -> str:
    return " ".join([*procedure.names, procedure.meta.title, *procedure.meta.described_as])


def profile_text(procedure: Procedure) -> str:
    sections = (procedure.section(key) for key in PROFILE_SECTIONS)
    return " ".join([
        naming_text(procedure),
        *(block.full_text for section in sections if section for block in section.blocks),
    ])


@dataclass(frozen=True)
class Candidate:
    code: str
    score: float


class DescriptionIndex:
    def __init__(self, kb: KnowledgeBase, topics: list[Topic]):
        self.profiles = {p.code: content_words(profile_text(p)) for p in kb.procedures}
        self.naming = {p.code: content_words(naming_text(p)) for p in kb.procedures}
        count = len(self.profiles)
        frequency = {w: sum(w in words for words in self.profiles.values())
                     for words in self.profiles.values() for w in words}
        self.weight = {w: math.log(count / n) for w, n in frequency.items()}
        self.rare = math.log(count / 2)
        self.topic_phrases = PhraseIndex([(phrase, frozenset(w for words in t.document_words for w in words))
                                          for t in topics for phrase in t.patient_words])

    def word_groups(self, text: str) -> list[frozenset[str]]:
        """The message's describing words, one group per word, and one per topic that
        a phrase of everyday words names ("put under", "knocked out"): its document words."""
        groups = [frozenset([w]) for w in content_words(text)]
        topics = dict.fromkeys(document_words for _, document_words in self._everyday_phrases(text) if document_words)
        return groups + list(topics)

    def _everyday_phrases(self, text: str) -> Iterator[tuple[tuple[str, ...], frozenset[str]]]:
        """The topics' phrases of everyday words only in the message ("put under"), each
        with its topic's document words."""
        words = content_words(text)
        for phrase, document_words in dict.fromkeys(self.topic_phrases.found(tuple(lemmas(text)))):
            if not words & set(phrase):
                yield phrase, document_words

    def naming_words(self, text: str, code: str) -> frozenset[str]:
        """The words of the message that describe procedure `code`: like its name, they
        say which procedure, not what is asked about it."""
        profile = self.profiles.get(code, set())
        naming = {w for w in content_words(text) & profile if self.weight[w] > 0}
        # And a phrase of everyday words that described it, as its document words ("put
        # under"); not a single word ("do they do a CT scan after?" asks about the CT).
        for phrase, document_words in self._everyday_phrases(text):
            if len(phrase) > 1 and any(self.weight[w] > 0 for w in document_words & profile):
                naming |= set(phrase)
        return frozenset(naming)

    def candidates(self, text: str) -> list[Candidate]:
        """The procedures the message describes, best first (none if it describes none)."""
        groups = self.word_groups(text)
        scored = []
        for code, profile in self.profiles.items():
            # Each group counts by its most telling word that the profile has.
            values, telling = [], 0
            for group in groups:
                shared = [w for w in group & profile if self.weight[w] > 0]
                if not shared:
                    continue
                values.append(max(self.weight[w] * (NAMING_BONUS if w in self.naming[code] else 1.0) for w in shared))
                # Counted as describing it: its naming words, and words few documents
                # share ("involve" is in most Summaries).
                telling += any(w in self.naming[code] or self.weight[w] >= self.rare for w in shared)
            if telling >= MIN_WORDS:
                scored.append(Candidate(code, sum(values)))
        scored.sort(key=lambda c: -c.score)
        if not scored or scored[0].score < MIN_SCORE:
            return []
        return [c for c in scored if c.score >= CLOSE * scored[0].score]
