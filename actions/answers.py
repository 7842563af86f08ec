"""Chat text for knowledge base content: the document's own words, laid out for chat."""

from __future__ import annotations

from actions.document_parser import Block, Section
from actions.knowledge_base import KnowledgeBase, Procedure

CARE_TEAM_REMINDER = (
    "This is general information from our patient document; your own care team "
    "has the final word on your care."
)


def render_block(block: Block) -> str:
    if block.kind == "bullet":
        return f"• {block.full_text}"
    if block.kind == "numbered":
        return f"{block.number}. {block.full_text}"
    return block.full_text


def render_blocks(blocks: tuple[Block, ...]) -> str:
    return "\n".join(render_block(block) for block in blocks)


def section_answer(
    kb: KnowledgeBase, procedure: Procedure, section: Section, with_code_note: bool
) -> str:
    spec = kb.section_spec(section.key)
    title = spec.title if spec else section.heading
    lines = [f"{procedure.label} — {title}:"]
    if with_code_note:
        lines.append(procedure.meta.code_note)
    lines += [render_blocks(section.blocks), CARE_TEAM_REMINDER]
    # Single newlines: Rasa's REST and socket channels split a text at blank lines.
    return "\n".join(lines)


def section_titles(kb: KnowledgeBase, procedure: Procedure, exclude: str = "") -> list[tuple[str, str]]:
    """(key, title) of the sections the procedure's document has, in the usual order."""
    return [
        (spec.key, spec.title)
        for spec in kb.section_specs
        if spec.key != exclude and procedure.section(spec.key)
    ]
