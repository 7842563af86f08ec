"""Chat text and buttons for knowledge base content: the document's own words, laid out for chat."""

from __future__ import annotations

import json
import re

from actions.document_parser import Block
from actions.knowledge_base import KnowledgeBase, Procedure

CARE_TEAM_REMINDER = (
    "This is general information from our patient document; your own care team "
    "has the final word on your care."
)
# A section longer than this is shown in part first, with "Tell me more".
LONG_SECTION_CHARS = 550
LONG_SECTION_ITEMS = 6
SHORT_ANSWER_CHARS = 320
LONG_PARAGRAPH_CHARS = 300
SECTION_INTENT_PREFIX = "ask_"
FEEDBACK_BUTTONS = [
    {"title": "This helped", "payload": "/feedback_helpful"},
    {"title": "This didn't help", "payload": "/feedback_unhelpful"},
]
MORE_BUTTON = {"title": "Tell me more", "payload": "/tell_me_more"}


def payload(intent: str, procedure: Procedure) -> str:
    return f"/{intent}{json.dumps({'procedure': procedure.code})}"


def procedure_buttons(kb: KnowledgeBase, intent: str, procedures=None) -> list[dict[str, str]]:
    """A button per procedure (all of them, or those given)."""
    return [{"title": p.display_name, "payload": payload(intent, p)} for p in procedures or kb.procedures]


def section_buttons(kb: KnowledgeBase, procedure: Procedure, exclude: str = "") -> list[dict[str, str]]:
    return [
        {"title": spec.title, "payload": payload(f"{SECTION_INTENT_PREFIX}{spec.key}", procedure)}
        for spec in kb.section_specs
        if spec.key != exclude and procedure.section(spec.key)
    ]


def section_title(kb: KnowledgeBase, key: str) -> str:
    spec = kb.section_spec(key)
    return spec.title if spec else key


def render_block(block: Block) -> str:
    if block.kind == "bullet":
        return f"• {block.full_text}"
    if block.kind == "numbered":
        return f"{block.number}. {block.full_text}"
    return block.full_text


def section_lines(blocks: tuple[Block, ...]) -> list[str]:
    """One line per list item; a long paragraph becomes one line per sentence,
    so that a long section can be shown a few lines at a time."""
    lines: list[str] = []
    for block in blocks:
        text = render_block(block)
        if block.kind == "paragraph" and len(text) > LONG_PARAGRAPH_CHARS:
            lines += re.split(r"(?<=[.!?])\s+(?=[A-Z])", text)
        else:
            lines.append(text)
    return lines


def split_short(lines: list[str]) -> tuple[list[str], list[str]]:
    """(first part, rest) of a long section; (all, []) for a short one."""
    if sum(map(len, lines)) <= LONG_SECTION_CHARS and len(lines) <= LONG_SECTION_ITEMS:
        return lines, []
    count, total = 0, 0
    while count < len(lines) and (count == 0 or total + len(lines[count]) <= SHORT_ANSWER_CHARS):
        total += len(lines[count])
        count += 1
    return lines[:count], lines[count:]


def answer_text(procedure: Procedure, heading: str, lines: list[str], note: str | None = None) -> str:
    """Every answer names the procedure and ends with the care-team reminder."""
    # Single newlines: Rasa's REST and socket channels split a text at blank lines.
    return "\n".join([f"{procedure.label} — {heading}:", *([note] if note else []), *lines, CARE_TEAM_REMINDER])


def matched_lines(kb: KnowledgeBase, passages: tuple[tuple[str, Block], ...]) -> tuple[str, list[str]]:
    """(heading, lines) for the bullets that answer a pointed question, grouped by section."""
    sections = list(dict.fromkeys(key for key, _ in passages))
    if len(sections) == 1:
        return section_title(kb, sections[0]), [render_block(b) for _, b in passages]
    lines: list[str] = []
    for key in sections:
        lines.append(f"{section_title(kb, key)}:")
        lines += [render_block(b) for k, b in passages if k == key]
    return "what the document says", lines
