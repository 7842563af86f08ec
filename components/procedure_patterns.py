"""Entity-ruler patterns for the `procedure` entity, generated from the knowledge base.

Each pattern's id is the procedure's CPT code, so a match is already normalised.
Names tolerate one typo (that is not another real word) per word of five letters or more (spaCy 3.4 has no fuzzy
matcher, so the misspelled forms are listed in an `IN` set, which matches in O(1)),
any determiner or possessive where the name has an article or a preposition ("anesthesia
for my spine scan", "sedation for my spine imaging"), hyphens written as spaces or left out,
a word spelt as it sounds ("discografy") and a one-word name written as two ("nucleo plasty").
"""

from __future__ import annotations

from typing import Iterable

from spacy.language import Language

from actions.knowledge_base import KnowledgeBase, Procedure
from actions.lemmas import english_words, lemma
from components.typos import one_typo_variants

LABEL = "procedure"
OTHER_TOPIC_LABEL = "other_topic"
ARTICLES = ("a", "an", "the")
DETERMINERS = (*ARTICLES, "my", "your", "his", "her", "their", "our", "this", "that", "these", "those")
PREPOSITIONS = ("for", "of", "in", "on", "with", "to")
OPTIONAL_DETERMINER = {"LOWER": {"IN": list(DETERMINERS)}, "OP": "?"}
MIN_FUZZY_LENGTH = 5
# Spelt as it sounds, then one typo: "discografy", "diskografy".
SOUNDS_ALIKE = (("ph", "f"), ("c", "k"))
# A one-word name written as two words: "nucleo plasty", "adhesio lysis".
MIN_SPLIT_LENGTH, MIN_PART_LENGTH = 8, 3


def _token_pattern(token: str, fuzzy: bool) -> dict:
    if token in ARTICLES:
        return OPTIONAL_DETERMINER
    if fuzzy and token.isalpha() and len(token) >= MIN_FUZZY_LENGTH:
        # A typo, never another real word: "spaced" is not "spacer", "spacers" is.
        real_words = english_words()
        variants = {v for form in _spelt_alike(token) for v in one_typo_variants(form)
                    if v not in real_words or lemma(v) == lemma(token)}
        return {"LOWER": {"IN": sorted(variants)}}
    return {"LOWER": token}


def _spelt_alike(token: str) -> set[str]:
    forms = {token}
    for written, sound in SOUNDS_ALIKE:
        forms |= {form.replace(written, sound) for form in forms}
    return forms


def _spellings(name: str) -> set[str]:
    """A name as written, with its hyphens as spaces and with them left out."""
    name = name.casefold()
    return {name, name.replace("-", " "), name.replace("-", "")}


def _fuzzy_patterns(nlp: Language, names: Iterable[str]) -> Iterable[list[dict]]:
    for name in names:
        for spelling in sorted(_spellings(name)):
            tokens = [t.text for t in nlp.make_doc(spelling)]
            pattern = []
            for token, following in zip(tokens, [*tokens[1:], None]):
                pattern.append(_token_pattern(token, fuzzy=True))
                if token in PREPOSITIONS and following not in (*ARTICLES, None):
                    pattern.append(OPTIONAL_DETERMINER)
            yield pattern
            if len(tokens) == 1 and tokens[0].isalpha() and len(tokens[0]) >= MIN_SPLIT_LENGTH:
                word = tokens[0]
                for i in range(MIN_PART_LENGTH, len(word) - MIN_PART_LENGTH + 1):
                    yield [{"LOWER": word[:i]}, {"LOWER": word[i:]}]


def _name_patterns(nlp: Language, procedure: Procedure) -> Iterable[list[dict]]:
    yield from _fuzzy_patterns(nlp, sorted({*procedure.names, *procedure.meta.misspellings}))
    for abbreviation in procedure.meta.abbreviations:  # and its plural: "ESIs"
        for form in (abbreviation, f"{abbreviation}s"):
            yield [{"LOWER": t.text} for t in nlp.make_doc(form.casefold())]
    # "62290", "+22870", "cpt62290" are single tokens; "cpt 62290" matches the code.
    codes = {f"{prefix}{code}" for code in procedure.codes for prefix in ("", "+", "cpt")}
    yield [{"LOWER": {"IN": sorted(codes)}}]


def procedure_patterns(nlp: Language, kb: KnowledgeBase) -> list[dict]:
    """Entity-ruler patterns for every procedure, and for the topics not covered."""
    procedures = [
        {"label": LABEL, "pattern": pattern, "id": procedure.code}
        for procedure in kb.procedures
        for pattern in _name_patterns(nlp, procedure)
    ]
    others = [
        {"label": OTHER_TOPIC_LABEL, "pattern": pattern}
        for pattern in _fuzzy_patterns(nlp, kb.other_topics)
    ]
    return procedures + others
