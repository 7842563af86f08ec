"""The glossary (data/knowledge_base/glossary.yml): plain words for the documents' terms.

Three uses: explaining a term a patient asks about ("what does fluoroscopy mean?",
typos tolerated as for procedure names), finding the terms a section uses (for
the plain versions' checks and the inline explanations), and the coverage rule
that tells a clinic which words of a new document need an entry.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import textstat
import yaml
from pydantic import BaseModel, Field, ValidationError

from actions import yaml_files
from actions.knowledge_base import DEFAULT_DIRECTORY, KnowledgeBaseError, Procedure
from actions.lemmas import WORD_PROBABILITIES, english_words, lemma
from components.typos import one_typo_variants

GLOSSARY_FILE = "glossary.yml"
# Only entries the content team marked reviewed are served when this is "true".
REVIEWED_ONLY_VARIABLE = "PLAIN_WORDS_REVIEWED_ONLY"

# The coverage rule. A word needs an entry when it is rare in everyday English
# (spaCy's log word probability below RARE), or long and uncommon (3+ syllables
# and below UNCOMMON), or an abbreviation written in capitals (CT, CSF).
RARE = -13.0
UNCOMMON = -12.0
LONG_SYLLABLES = 3
MIN_TYPO_LENGTH = 5  # as for procedure names (components/procedure_patterns.py)
MAX_TYPO_LENGTH = 30  # longer than any term: no need to spell out its thousands of variants
MAX_TERM_WORDS = 4
WORD = re.compile(r"[A-Za-z]+")


class GlossaryEntry(BaseModel):
    term: str = Field(min_length=1)
    variants: list[str] = []
    plain: str = Field(min_length=1)
    definition: str = Field(min_length=1)
    reviewed: bool

    @property
    def forms(self) -> tuple[str, ...]:
        return (self.term, *self.variants)

    @property
    def display(self) -> str:
        return self.term if self.term.isupper() else self.term[:1].upper() + self.term[1:]

    @property
    def first_sentence(self) -> str:
        return re.split(r"(?<=[.!?])\s", self.definition, maxsplit=1)[0].rstrip(".")

    @property
    def inline(self) -> str:
        """What goes in brackets after the term in the original's words."""
        bracketed = re.search(r"\((.+)\)", self.plain)  # "disc (the cushion between ...)"
        if bracketed:
            return bracketed.group(1)
        if self.term.casefold() not in self.plain.casefold():
            return self.plain
        return self.first_sentence[:1].lower() + self.first_sentence[1:]


class GlossaryFile(BaseModel):
    terms: list[GlossaryEntry] = Field(min_items=1)
    everyday_words: list[str] = []


def normalise(text: str) -> str:
    """Lowercase words separated by single spaces ("X-ray" -> "x ray")."""
    return " ".join(w.lower() for w in WORD.findall(text))


@dataclass(frozen=True)
class Found:
    entry: GlossaryEntry
    start: int  # character offsets in the text searched
    end: int


class Glossary:
    def __init__(self, entries: list[GlossaryEntry], everyday_words: Iterable[str] = ()):
        self.entries = entries
        self.everyday_words = frozenset(w.lower() for w in everyday_words)
        self._by_form: dict[str, GlossaryEntry] = {}
        for entry in entries:
            for form in entry.forms:
                self._by_form.setdefault(normalise(form), entry)
        self._by_lemma = {" ".join(lemma(w) for w in f.split()): e for f, e in self._by_form.items()}

    def served(self, reviewed_only: bool) -> "Glossary":
        """The entries that may be shown to patients under the reviewed-only setting."""
        if not reviewed_only:
            return self
        return Glossary([e for e in self.entries if e.reviewed], self.everyday_words)

    # ---------- the terms of a text ----------

    def find(self, text: str) -> list[Found]:
        """Every term in the text, longest first where they overlap, in text order."""
        words = [(m.group(0).lower(), m.start(), m.end()) for m in WORD.finditer(text)]
        found, i = [], 0
        while i < len(words):
            for size in range(min(MAX_TERM_WORDS, len(words) - i), 0, -1):
                phrase = " ".join(w for w, _, _ in words[i:i + size])
                entry = self._by_form.get(phrase) or self._by_lemma.get(" ".join(lemma(w) for w in phrase.split()))
                if entry:
                    found.append(Found(entry, words[i][1], words[i + size - 1][2]))
                    i += size
                    break
            else:
                i += 1
        return found

    def entries_in(self, text: str) -> list[GlossaryEntry]:
        """The entries a text uses, each once, in order of first use."""
        return list({f.entry.term: f.entry for f in self.find(text)}.values())

    def mentions(self, text: str, entry: GlossaryEntry) -> bool:
        """The text uses the term (any form), its plain words or its definition."""
        lowered = normalise(text)
        return any(f.entry is entry for f in self.find(text)) or any(
            normalise(words) in lowered for words in (entry.plain, entry.definition)
        )

    # ---------- a patient's question ----------

    def lookup(self, question: str) -> GlossaryEntry | None:
        """The term a question asks about, with one typo per long word tolerated.

        The longest term wins ("herniated disc" over "disc").
        """
        found = self.find(question)
        if found:
            return max(found, key=lambda f: (len(normalise(question[f.start:f.end]).split()), -f.start)).entry
        real_words = english_words()
        for word in (w.lower() for w in WORD.findall(question)):
            if not MIN_TYPO_LENGTH <= len(word) <= MAX_TYPO_LENGTH or word in real_words:
                continue
            for variant in sorted(one_typo_variants(word)):
                entry = self._by_form.get(variant)
                if entry:
                    return entry
        return None

    # ---------- the coverage rule ----------

    def covers(self, word: str) -> bool:
        word = word.lower()
        known = {w for form in self._by_form for w in form.split()} | self.everyday_words
        return word in known or lemma(word) in known or lemma(word) in {lemma(k) for k in known}


@lru_cache(maxsize=1)
def _log_probabilities() -> dict[str, float]:
    return json.loads(gzip.decompress(WORD_PROBABILITIES.read_bytes()))


def is_term_candidate(word: str) -> bool:
    """The coverage rule (module constants above) for one word as written."""
    if len(word) >= 2 and word.isupper():
        return True
    probability = _log_probabilities().get(word.lower(), -99.0)
    if probability < RARE:
        return True
    return probability < UNCOMMON and textstat.syllable_count(word.lower()) >= LONG_SYLLABLES


def section_texts(procedure: Procedure) -> Iterable[tuple[str, str]]:
    """(section key, text) of a document, the procedure's name first (key "name")."""
    yield "name", procedure.document.name
    for key, section in procedure.document.sections.items():
        yield key, " ".join(b.full_text for b in section.blocks)


def uncovered_terms(glossary: Glossary, procedures: Iterable[Procedure]) -> dict[str, dict[str, list[str]]]:
    """{document file: {word: [section keys]}} for the candidate words without an entry."""
    missing: dict[str, dict[str, list[str]]] = {}
    for procedure in procedures:
        for key, text in section_texts(procedure):
            for word in WORD.findall(text):
                if is_term_candidate(word) and not glossary.covers(word):
                    sections = missing.setdefault(procedure.document.path.name, {}).setdefault(word.lower(), [])
                    if key not in sections:
                        sections.append(key)
    return missing


def describe_missing(missing: dict[str, dict[str, list[str]]]) -> str:
    lines = [f"{GLOSSARY_FILE} has no entry for these words (add a term, a variant, or an everyday word):"]
    for document, words in sorted(missing.items()):
        for word, sections in sorted(words.items()):
            lines.append(f"  {document}: '{word}' (in {', '.join(sections)})")
    return "\n".join(lines)


def load(directory: Path | str = DEFAULT_DIRECTORY) -> Glossary:
    path = Path(directory) / GLOSSARY_FILE
    try:
        data = yaml_files.safe_load(path.read_text(encoding="utf-8"))
        parsed = GlossaryFile.parse_obj(data)
    except (OSError, yaml.YAMLError, ValidationError) as error:
        raise KnowledgeBaseError(f"{path}: cannot read the glossary: {error}") from None
    # A form under two entries would make "what does it mean?" ambiguous.
    owner: dict[str, str] = {}
    for entry in parsed.terms:
        for form in {normalise(f) for f in entry.forms}:
            if owner.setdefault(form, entry.term) != entry.term:
                raise KnowledgeBaseError(f"{path}: '{form}' is listed for both '{owner[form]}' and '{entry.term}'")
    return Glossary(parsed.terms, parsed.everyday_words)


def reviewed_only() -> bool:
    return os.environ.get(REVIEWED_ONLY_VARIABLE, "").strip().lower() in ("1", "true", "yes")


@lru_cache(maxsize=None)
def default() -> Glossary:
    """The project's glossary, loaded once per process."""
    return load(DEFAULT_DIRECTORY)
