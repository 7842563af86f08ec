"""Entity-ruler patterns for the `procedure` entity, generated from the knowledge base.

Each pattern's id is the procedure's CPT code, so a match is already normalised.
Names tolerate one typo per word of five letters or more (spaCy 3.4 has no fuzzy
matcher, so the misspelled forms are listed in an `IN` set, which matches in O(1)),
optional articles, and hyphens written as spaces or left out.
"""

from __future__ import annotations

import string
from typing import Iterable

from spacy.language import Language

from actions.knowledge_base import KnowledgeBase, Procedure

LABEL = "procedure"
ARTICLES = ("a", "an", "the")
MIN_FUZZY_LENGTH = 5


def one_typo_variants(word: str) -> set[str]:
    """The word and every spelling one deletion, insertion, swap or substitution away."""
    letters = string.ascii_lowercase
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletions = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    substitutions = {a + c + b[1:] for a, b in splits if b for c in letters}
    insertions = {a + c + b for a, b in splits for c in letters}
    return {word} | deletions | swaps | substitutions | insertions


def _token_pattern(token: str, fuzzy: bool) -> dict:
    if token in ARTICLES:
        return {"LOWER": {"IN": list(ARTICLES)}, "OP": "?"}
    if fuzzy and token.isalpha() and len(token) >= MIN_FUZZY_LENGTH:
        return {"LOWER": {"IN": sorted(one_typo_variants(token))}}
    return {"LOWER": token}


def _spellings(name: str) -> set[str]:
    """A name as written, with its hyphens as spaces and with them left out."""
    name = name.casefold()
    return {name, name.replace("-", " "), name.replace("-", "")}


def _name_patterns(nlp: Language, procedure: Procedure) -> Iterable[list[dict]]:
    fuzzy_names = {*procedure.names, *procedure.meta.misspellings}
    for name in fuzzy_names:
        for spelling in _spellings(name):
            tokens = [t.text for t in nlp.make_doc(spelling)]
            yield [_token_pattern(t, fuzzy=True) for t in tokens]
    for abbreviation in procedure.meta.abbreviations:
        yield [{"LOWER": t.text} for t in nlp.make_doc(abbreviation.casefold())]
    # "62290", "+22870", "cpt62290" are single tokens; "cpt 62290" matches the code.
    codes = {f"{prefix}{code}" for code in procedure.codes for prefix in ("", "+", "cpt")}
    yield [{"LOWER": {"IN": sorted(codes)}}]


def procedure_patterns(nlp: Language, kb: KnowledgeBase) -> list[dict]:
    """Entity-ruler patterns for every procedure in the knowledge base."""
    return [
        {"label": LABEL, "pattern": pattern, "id": procedure.code}
        for procedure in kb.procedures
        for pattern in _name_patterns(nlp, procedure)
    ]
