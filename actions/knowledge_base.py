"""The procedure knowledge base: the documents in data/knowledge_base/ and their metadata.

Loaded and checked once per process. Every document must have a metadata entry
and every entry a document; anything wrong stops the load with a clear message.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError, validator

from actions import yaml_files
from actions.document_parser import (
    DocumentError,
    DocumentFormat,
    ParsedDocument,
    Section,
    SectionSpec,
    parse_document,
)

DEFAULT_DIRECTORY = Path(__file__).resolve().parent.parent / "data" / "knowledge_base"
METADATA_FILE = "procedures.yml"
FORMAT_FILE = "document_format.yml"
OTHER_TOPICS_FILE = "other_topics.yml"


class KnowledgeBaseError(ValueError):
    """The knowledge base cannot be loaded; the message says which file and why."""


class ProcedureMetadata(BaseModel):
    code: str = Field(regex=r"^\+?\d{4,5}[A-Z]?$")
    title: str
    name: str
    lay_names: list[str] = []
    abbreviations: list[str] = []
    misspellings: list[str] = []
    described_as: list[str] = []
    other_codes: list[str] = []
    code_status: str = Field(regex=r"^(current|deleted)$")
    code_note: str

    @validator("title", "name", "code_note")
    def _single_spaced(cls, value: str) -> str:
        return " ".join(value.split())


@dataclass(frozen=True)
class Procedure:
    meta: ProcedureMetadata
    document: ParsedDocument

    @property
    def code(self) -> str:
        return self.meta.code

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def display_name(self) -> str:
        """The short name, capitalised: "Lumbar discography (discogram)"."""
        return self.meta.name[:1].upper() + self.meta.name[1:]

    @property
    def label(self) -> str:
        """How answers name the procedure: "Lumbar discography (discogram), CPT 62290"."""
        return f"{self.display_name}, CPT {self.code}"

    @property
    def codes(self) -> tuple[str, ...]:
        """Its own code without "+", then any other codes that lead to it."""
        return (self.code.lstrip("+"), *self.meta.other_codes)

    @property
    def names(self) -> tuple[str, ...]:
        """Every name a patient may use for it, longest first."""
        names = {self.meta.name, *self.meta.lay_names, *self.document.common_names}
        names |= {n.split(" (")[0] for n in names}  # "x (y)" is also called "x"
        return tuple(sorted(names, key=len, reverse=True))

    def section(self, key: str) -> Section | None:
        return self.document.sections.get(key)


class KnowledgeBase:
    def __init__(
        self, procedures: list[Procedure], fmt: DocumentFormat, other_topics: list[str] = ()
    ):
        self.procedures = procedures
        self.format = fmt
        self.other_topics = list(other_topics)  # names of what it does not cover
        self._by_code = {p.code.lstrip("+"): p for p in procedures}

    @property
    def section_specs(self) -> list[SectionSpec]:
        return self.format.sections

    def get(self, code: str | None) -> Procedure | None:
        """The procedure with this CPT code ("+22870" and "22870" both work)."""
        if not isinstance(code, str):
            return None
        return self._by_code.get(code.strip().lstrip("+"))

    def section_spec(self, key: str) -> SectionSpec | None:
        return next((s for s in self.format.sections if s.key == key), None)


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml_files.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise KnowledgeBaseError(f"{path}: cannot read: {error}") from None
    if not isinstance(data, dict):
        raise KnowledgeBaseError(f"{path}: expected a mapping at the top level")
    return data


def _validated(model, data, path: Path, what: str):
    try:
        return model.parse_obj(data)
    except ValidationError as error:
        raise KnowledgeBaseError(f"{path}: invalid {what}:\n{error}") from None


def load(directory: Path | str = DEFAULT_DIRECTORY) -> KnowledgeBase:
    directory = Path(directory)
    fmt = _validated(
        DocumentFormat, _read_yaml(directory / FORMAT_FILE), directory / FORMAT_FILE,
        "document format",
    )
    metadata_path = directory / METADATA_FILE
    entries = _read_yaml(metadata_path).get("procedures") or []
    metas = [
        _validated(ProcedureMetadata, entry, metadata_path, f"entry #{i + 1}")
        for i, entry in enumerate(entries)
    ]
    documents = {p.stem: p for p in sorted(directory.glob("*.txt"))}
    codes = [m.code.lstrip("+") for m in metas]
    duplicated = sorted({c for c in codes if codes.count(c) > 1})
    if duplicated:
        raise KnowledgeBaseError(f"{metadata_path}: duplicate code(s) {duplicated}")
    without_entry = sorted(set(documents) - set(codes))
    if without_entry:
        raise KnowledgeBaseError(
            f"{directory}: document(s) {[f'{c}.txt' for c in without_entry]} have no "
            f"entry in {METADATA_FILE}"
        )
    procedures = []
    for meta in metas:
        path = documents.get(meta.code.lstrip("+"))
        if path is None:
            raise KnowledgeBaseError(
                f"{metadata_path}: no document {meta.code.lstrip('+')}.txt for {meta.code}"
            )
        try:
            procedures.append(Procedure(meta, parse_document(path, fmt)))
        except DocumentError as error:
            raise KnowledgeBaseError(str(error)) from None
    if not procedures:
        raise KnowledgeBaseError(f"{metadata_path}: no procedures listed")
    other_topics = [str(t) for t in _read_yaml(directory / OTHER_TOPICS_FILE).get("other_topics") or []]
    _check_names_unique(procedures, other_topics, metadata_path)
    return KnowledgeBase(procedures, fmt, other_topics)


def _check_names_unique(procedures: list[Procedure], other_topics: list[str], path: Path) -> None:
    """A name shared by two procedures (or a procedure and an uncovered topic) is ambiguous."""
    owner = {topic.casefold(): OTHER_TOPICS_FILE for topic in other_topics}
    for procedure in procedures:
        for name in (*procedure.names, *procedure.meta.abbreviations, *procedure.codes):
            key = name.casefold()
            if owner.setdefault(key, procedure.code) != procedure.code:
                raise KnowledgeBaseError(
                    f"{path}: '{name}' is used for both {owner[key]} and {procedure.code}"
                )


@lru_cache(maxsize=None)
def default() -> KnowledgeBase:
    """The project's knowledge base, loaded once per process."""
    return load(DEFAULT_DIRECTORY)
