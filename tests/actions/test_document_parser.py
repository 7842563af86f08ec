"""The document parser on every real document and on the ways a document can be wrong."""

import re
from pathlib import Path

import pytest

from actions import knowledge_base
from actions.document_parser import DocumentError, parse_text

KB_DIR = knowledge_base.DEFAULT_DIRECTORY
ALL_SECTIONS = [
    "summary", "purpose", "indications", "preparation", "procedure_steps", "duration",
    "setting", "personnel", "risks", "benefits", "recovery", "alternatives",
    "patient_experience",
]
WEBSITE_LINES = ["Search all medical codes", "CPT4 code", "Similar Codes",
                 "Medical Policies and Guidelines", "Related policies from health plans"]


@pytest.fixture(scope="module")
def fmt():
    return knowledge_base.default().format


@pytest.fixture(scope="module")
def documents():
    return {p.code: p.document for p in knowledge_base.default().procedures}


def source_items(code: str) -> list[str]:
    """Every bullet, numbered step or paragraph line of a source file, without its marker."""
    text = (KB_DIR / f"{code.lstrip('+')}.txt").read_text()
    return [re.sub(r"^(?:[•-]|\d+\.)\s+", "", line.strip()) for line in text.splitlines()]


@pytest.mark.parametrize("code", ["62287", "01935", "62290", "+22870", "62264"])
def test_every_document_has_every_section(documents, code):
    expected = ALL_SECTIONS + (["equipment"] if code == "01935" else [])
    assert sorted(documents[code].sections) == sorted(expected)


@pytest.mark.parametrize("code", ["62287", "01935", "62290", "+22870", "62264"])
def test_every_block_is_a_line_of_the_source_and_no_website_line_is_content(documents, code):
    items = source_items(code)
    for section in documents[code].sections.values():
        for block in section.blocks:
            assert block.full_text in items
            assert not any(w in block.full_text for w in WEBSITE_LINES)


def test_bullets_of_every_style_stay_bullets(documents):
    risks = documents["62287"].sections["risks"].blocks  # "•" bullets
    assert [b.kind for b in risks] == ["bullet"] * 6
    assert risks[3].text == "Discitis (disc infection)."
    dashes = documents["62290"].sections["preparation"].blocks  # "-" bullets
    assert [b.kind for b in dashes] == ["bullet"] * 4
    assert dashes[3].text.startswith("Arranging for transportation home")


def test_numbered_steps_keep_their_numbers(documents):
    steps = documents["62287"].sections["procedure_steps"].blocks
    assert [(b.kind, b.number) for b in steps] == [("numbered", n) for n in range(1, 9)]
    assert steps[3].text.startswith("Using fluoroscopy (X-ray)")


def test_lead_ins_are_kept_apart_from_the_text(documents):
    purpose = documents["+22870"].sections["purpose"].blocks
    assert purpose[0].lead == "Medical Condition"
    assert purpose[0].text.startswith("Treats lumbar spinal stenosis")
    step = documents["62264"].sections["procedure_steps"].blocks[0]
    assert (step.number, step.lead) == (1, "Prepping and Anesthesia")
    assert documents["62290"].sections["risks"].blocks[0].lead is None


def test_paragraph_sections_are_paragraphs(documents):
    experience = documents["01935"].sections["patient_experience"].blocks
    assert len(experience) == 1 and experience[0].kind == "paragraph"
    assert experience[0].text.startswith("During the procedure, the patient should feel")
    assert documents["62290"].sections["duration"].blocks[0].text == "Approximately 30 to 60 minutes."


def test_heading_without_blank_line_and_extra_section(documents):
    equipment = documents["01935"].sections["equipment"]
    assert equipment.heading == "Tools and Equipment"
    assert [b.text for b in equipment.blocks][0] == "Imaging machine (X-ray, CT scan, or MRI)"
    # The step just before the unspaced heading is not swallowed by it.
    assert documents["01935"].sections["procedure_steps"].blocks[-1].lead == "Completion"


def test_names_and_descriptor(documents):
    doc = documents["62290"]
    assert doc.descriptor == "Injection procedure for discography, each level; lumbar"
    assert doc.name == "Injection Procedure for Discography, Each Level; Lumbar"
    assert doc.common_names == ("Lumbar Discography", "Discogram")
    assert documents["62287"].name.endswith("also known as Percutaneous Discectomy or Nucleoplasty.")


GOOD = """Search all medical codes
Some descriptor
CPT4 code
Name of the Procedure: A Procedure
Summary
It is a thing.
Risks
- One risk.
"""


def test_windows_line_endings_and_non_breaking_spaces_are_fine(fmt):
    doc = parse_text(GOOD.replace("\n", "\r\n").replace("One risk", "One\u00a0risk"), Path("x.txt"), fmt)
    assert doc.name == "A Procedure"
    assert doc.sections["risks"].blocks[0].text == "One risk."


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "the document is empty"),
        ("Search all medical codes\nSimilar Codes\n", "the document is empty"),
        (GOOD.replace("Name of the Procedure: A Procedure", "A Procedure"), "no 'Name of the Procedure:' line"),
        (GOOD.replace(": A Procedure", ":"), "the procedure name is missing"),
        (GOOD.replace("Risks\n", "Follow-up Care\n"), "unknown section heading 'Follow-up Care'"),
        (GOOD.replace("Risks\n- One risk.\n", "Risks\n"), "section 'Risks' is empty"),
        (GOOD + "Summary\nAgain.\n", "section 'Summary' appears twice"),
        (GOOD.replace("Summary\n", ""), "text before the first section heading"),
        (GOOD.replace("Summary\nIt is a thing.\n", ""), "required section(s) missing: summary"),
    ],
)
def test_malformed_documents_are_rejected_with_file_and_reason(fmt, text, reason):
    with pytest.raises(DocumentError) as error:
        parse_text(text, Path("data/knowledge_base/99999.txt"), fmt)
    assert str(error.value).startswith("data/knowledge_base/99999.txt")
    assert reason in str(error.value)


def test_unknown_heading_error_names_the_line(fmt):
    with pytest.raises(DocumentError, match=r"99999.txt: line 7: unknown section heading"):
        parse_text(GOOD.replace("Risks\n", "Follow-up Care\n"), Path("99999.txt"), fmt)


def test_a_file_that_is_not_utf8_is_rejected(tmp_path, fmt):
    path = tmp_path / "99999.txt"
    path.write_bytes(GOOD.encode("utf-16"))
    from actions.document_parser import parse_document

    with pytest.raises(DocumentError, match="99999.txt: not UTF-8 text"):
        parse_document(path, fmt)


def test_a_section_answering_instead_must_be_another_section(fmt):
    from pydantic import ValidationError

    from actions.document_parser import DocumentFormat

    data = fmt.dict()
    data["sections"][0]["otherwise"] = "costs"
    with pytest.raises(ValidationError, match="`otherwise: costs` is not another section"):
        DocumentFormat(**data)
