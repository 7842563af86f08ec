"""Turns a procedure document (plain text copied from a website) into sections.

The layout it expects is described by data/knowledge_base/document_format.yml.
Anything it cannot place raises DocumentError naming the file, line and reason:
a document is never skipped or half-read silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from pydantic import BaseModel, Field, validator

BULLET = re.compile(r"^(?:[•\-\*–·]|(?P<number>\d{1,2})[.)])\s+(?P<text>\S.*)$")
# A short phrase ending in a colon that opens an item ("Common risks: ...").
LEAD_IN = re.compile(r"^(?P<lead>[A-Z][^.:;]{0,60}?):\s+(?P<rest>\S.*)$")
TERMINAL_PUNCTUATION = tuple(".!?:;,")


class DocumentError(ValueError):
    """A document the parser cannot read, with where and why."""

    def __init__(self, path: Path | str, reason: str, line: int | None = None):
        self.path, self.reason, self.line = Path(path), reason, line
        where = f"{path}: line {line}" if line else f"{path}"
        super().__init__(f"{where}: {reason}")


class SectionSpec(BaseModel):
    key: str = Field(regex=r"^[a-z_]+$")
    title: str
    headings: list[str] = Field(min_items=1)
    keywords: list[str] = []
    # The section that answers instead in a document without this one (the steps name the tools).
    otherwise: str | None = None


class DocumentFormat(BaseModel):
    sections: list[SectionSpec] = Field(min_items=1)
    required_sections: list[str] = []
    name_label: str
    common_names_label: str
    ignored_lines: list[str] = []
    ignored_line_prefixes: list[str] = []

    @validator("sections")
    def _otherwise_is_a_section(cls, sections: list[SectionSpec]) -> list[SectionSpec]:
        keys = {s.key for s in sections}
        for spec in sections:
            if spec.otherwise is not None and spec.otherwise not in keys - {spec.key}:
                raise ValueError(f"section {spec.key}: `otherwise: {spec.otherwise}` is not another section")
        return sections

    def section_for_heading(self, line: str) -> SectionSpec | None:
        wanted = _normalise_heading(line)
        for spec in self.sections:
            if any(_normalise_heading(h) == wanted for h in spec.headings):
                return spec
        return None

    def is_ignored(self, line: str) -> bool:
        return line in self.ignored_lines or line.startswith(
            tuple(self.ignored_line_prefixes)
        )


@dataclass(frozen=True)
class Block:
    """A paragraph or one list item of a section, as the document wrote it."""

    text: str
    kind: str = "paragraph"  # "paragraph", "bullet" or "numbered"
    number: int | None = None
    lead: str | None = None  # a lead-in such as "Common risks"; text is the rest

    @property
    def full_text(self) -> str:
        return f"{self.lead}: {self.text}" if self.lead else self.text


@dataclass(frozen=True)
class Section:
    key: str
    heading: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class ParsedDocument:
    path: Path
    descriptor: str  # the first line of content: the official code descriptor
    name: str
    common_names: tuple[str, ...]
    sections: dict[str, Section]


def _normalise_heading(line: str) -> str:
    return " ".join(line.rstrip(":").split()).casefold()


def _looks_like_heading(line: str) -> bool:
    """Short title-case line without final punctuation ("Follow-up Care")."""
    words = line.split()
    return (
        0 < len(words) <= 6
        and not line.endswith(TERMINAL_PUNCTUATION)
        and all(w[0].isupper() for w in words if len(w) > 3)
        and line[0].isupper()
    )


def _block(line: str) -> Block:
    bullet = BULLET.match(line)
    if not bullet:
        return Block(text=line)
    text, number = bullet["text"], bullet["number"]
    kind = "numbered" if number else "bullet"
    lead = LEAD_IN.match(text)
    if lead and len(lead["lead"].split()) <= 6:
        return Block(lead["rest"], kind, int(number) if number else None, lead["lead"])
    return Block(text, kind, int(number) if number else None)


def _content_lines(text: str, fmt: DocumentFormat) -> Iterable[tuple[int, str]]:
    for number, raw in enumerate(text.splitlines(), start=1):
        line = " ".join(raw.replace("\ufeff", "").split())  # also folds NBSPs and tabs
        if line and not fmt.is_ignored(line):
            yield number, line


def parse_document(path: Path, fmt: DocumentFormat) -> ParsedDocument:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise DocumentError(path, f"not UTF-8 text ({error.reason})") from None
    return parse_text(text, path, fmt)


def parse_text(text: str, path: Path, fmt: DocumentFormat) -> ParsedDocument:
    lines = list(_content_lines(text, fmt))
    if not lines:
        raise DocumentError(path, "the document is empty")
    name_at = next(
        (i for i, (_, line) in enumerate(lines) if line.startswith(fmt.name_label)),
        None,
    )
    if name_at is None:
        raise DocumentError(path, f"no '{fmt.name_label}' line")
    descriptor = lines[0][1] if name_at > 0 else ""

    name = lines[name_at][1][len(fmt.name_label) :].strip()
    rest = lines[name_at + 1 :]
    if not name:
        if not rest or fmt.section_for_heading(rest[0][1]):
            raise DocumentError(path, "the procedure name is missing", lines[name_at][0])
        name, rest = rest[0][1], rest[1:]

    common_names: tuple[str, ...] = ()
    if rest and rest[0][1].startswith(fmt.common_names_label):
        listed = rest[0][1][len(fmt.common_names_label) :]
        common_names = tuple(n.strip() for n in re.split(r"[,;]", listed) if n.strip())
        rest = rest[1:]

    sections = _sections(rest, path, fmt)
    missing = [key for key in fmt.required_sections if key not in sections]
    if missing:
        raise DocumentError(path, f"required section(s) missing: {', '.join(missing)}")
    return ParsedDocument(path, descriptor or name, name, common_names, sections)


def _sections(
    lines: Sequence[tuple[int, str]], path: Path, fmt: DocumentFormat
) -> dict[str, Section]:
    sections: dict[str, Section] = {}
    current: tuple[SectionSpec, str, int, list[Block]] | None = None

    def close() -> None:
        if current is None:
            return
        spec, heading, line_number, blocks = current
        if not blocks:
            raise DocumentError(path, f"section '{heading}' is empty", line_number)
        sections[spec.key] = Section(spec.key, heading, tuple(blocks))

    for number, line in lines:
        spec = fmt.section_for_heading(line)
        if spec:
            close()
            if spec.key in sections or (current and current[0].key == spec.key):
                raise DocumentError(path, f"section '{line}' appears twice", number)
            current = (spec, line.rstrip(":"), number, [])
        elif current is None:
            raise DocumentError(
                path, f"text before the first section heading: '{line[:60]}'", number
            )
        elif _looks_like_heading(line) and not BULLET.match(line):
            known = ", ".join(h for s in fmt.sections for h in s.headings[:1])
            raise DocumentError(
                path,
                f"unknown section heading '{line}' (known headings: {known}; "
                "add new ones to document_format.yml)",
                number,
            )
        else:
            current[3].append(_block(line))
    close()
    if not sections:
        raise DocumentError(path, "no section headings found")
    return sections
