"""Plain-language versions of the documents (data/knowledge_base/plain/<code>.txt).

They are written by people, in the documents' own layout (same headings), from
the documents alone; code only checks them: grade 8 or below per section, every
number of the original kept, every glossary term of the original kept or put in
the glossary's plain words. plain/reviewed.yml says which the clinic has checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import textstat
import yaml

from actions import yaml_files
from actions.document_parser import Block, DocumentError, ParsedDocument, Section, parse_document
from actions.glossary import Glossary
from actions.knowledge_base import DEFAULT_DIRECTORY, KnowledgeBase, KnowledgeBaseError, Procedure

PLAIN_DIRECTORY = "plain"
REVIEWED_FILE = "reviewed.yml"
TARGET_GRADE = 8.0  # NIH, CDC and AMA ask for patient material at grade 8 or below
NUMBER = re.compile(r"\d+")
NUMBER_WORDS = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                "twelve", "first", "second", "half", "day", "week", "weeks", "hours", "minutes"}


def readable_text(blocks: Iterable[Block]) -> str:
    """A bullet without a full stop still ends a sentence for the readability formula."""
    return " ".join(b.full_text if b.full_text.endswith((".", "!", "?")) else f"{b.full_text}." for b in blocks)


def grade(blocks: Iterable[Block]) -> float:
    return textstat.flesch_kincaid_grade(readable_text(blocks))


@dataclass(frozen=True)
class PlainVersion:
    document: ParsedDocument
    reviewed: bool

    def section(self, key: str) -> Section | None:
        return self.document.sections.get(key)


class PlainVersions:
    def __init__(self, versions: dict[str, PlainVersion]):
        self._by_code = versions

    def get(self, procedure: Procedure, reviewed_only: bool = False) -> PlainVersion | None:
        version = self._by_code.get(procedure.code.lstrip("+"))
        if version is None or (reviewed_only and not version.reviewed):
            return None
        return version

    def section(self, procedure: Procedure, key: str, reviewed_only: bool = False) -> Section | None:
        version = self.get(procedure, reviewed_only)
        return version.section(key) if version else None


def load(kb: KnowledgeBase, directory: Path | str = DEFAULT_DIRECTORY) -> PlainVersions:
    folder = Path(directory) / PLAIN_DIRECTORY
    reviewed_path = folder / REVIEWED_FILE
    try:
        reviewed = (yaml_files.safe_load(reviewed_path.read_text(encoding="utf-8")) or {}).get("reviewed") or {}
    except FileNotFoundError:
        reviewed = {}
    except (OSError, yaml.YAMLError) as error:
        raise KnowledgeBaseError(f"{reviewed_path}: cannot read: {error}") from None
    versions = {}
    for path in sorted(folder.glob("*.txt")):
        procedure = kb.get(path.stem)
        if procedure is None:
            raise KnowledgeBaseError(f"{path}: no document {path.stem}.txt for this plain version")
        try:
            document = parse_document(path, kb.format)
        except DocumentError as error:
            raise KnowledgeBaseError(str(error)) from None
        extra = sorted(set(document.sections) - set(procedure.document.sections))
        if extra:
            raise KnowledgeBaseError(f"{path}: section(s) {extra} are not in {path.stem}.txt")
        versions[path.stem] = PlainVersion(document, reviewed.get(path.stem) is True)
    return PlainVersions(versions)


def missing_facts(original: Section, plain: Section, glossary: Glossary) -> list[str]:
    """What of the original a plain section lost: numbers, and terms (or their plain words)."""
    original_text, plain_text = readable_text(original.blocks), readable_text(plain.blocks)
    plain_words = set(re.findall(r"[a-z]+", plain_text.lower()))
    problems = [f"number {n}" for n in dict.fromkeys(NUMBER.findall(original_text))
                if n not in NUMBER.findall(plain_text)]
    problems += [f"'{w}'" for w in dict.fromkeys(re.findall(r"[a-z]+", original_text.lower()))
                 if w in NUMBER_WORDS and w not in plain_words]
    problems += [f"term '{e.term}' (or '{e.plain}')" for e in glossary.entries_in(original_text)
                 if not glossary.mentions(plain_text, e)]
    return problems


@lru_cache(maxsize=None)
def default() -> PlainVersions:
    from actions import knowledge_base  # the project's own knowledge base, loaded once

    return load(knowledge_base.default())
