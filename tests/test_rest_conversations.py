"""Conversations over the REST channel with the real Rasa server and action server."""

import re
import uuid

import pytest

from actions import knowledge_base

KB_DIR = knowledge_base.DEFAULT_DIRECTORY
REMINDER = "your own care team has the final word on your care"


def new_patient() -> str:
    return f"patient-{uuid.uuid4().hex[:8]}"


def texts(replies):
    return [r.get("text", "") for r in replies]


def test_a_question_gets_the_section_of_the_procedure(assistant):
    replies = assistant.send(new_patient(), "What are the risks of a discogram?")
    assert len(replies) == 1
    text = replies[0]["text"]
    assert text.startswith("Lumbar discography (discogram), CPT 62290 — Risks and complications:")
    assert "\n• Infection at the injection site.\n• Bleeding or hematoma.\n" in text
    assert REMINDER in text


def test_switching_procedure_keeps_the_question(assistant):
    patient = new_patient()
    assistant.send(patient, "what are the risks of a discogram?")
    replies = assistant.send(patient, "what about nucleoplasty?")
    assert replies[0]["text"].startswith(
        "Percutaneous disc decompression (nucleoplasty), CPT 62287 — Risks and complications:"
    )
    assert "• Discitis (disc infection)." in replies[0]["text"]
    follow_up = assistant.send(patient, "and how long does it take?")
    assert "CPT 62287 — How long it takes:" in follow_up[0]["text"]


def test_a_question_without_procedure_asks_which_and_a_button_answers_it(assistant):
    patient = new_patient()
    replies = assistant.send(patient, "how long does it take?")
    assert replies[0]["text"] == "Which procedure would you like to know about (how long it takes)?"
    buttons = {b["title"]: b["payload"] for b in replies[0]["buttons"]}
    assert len(buttons) == 5
    answer = assistant.send(patient, buttons["Interspinous spacer, second level (lumbar)"])
    assert answer[0]["text"].startswith("Interspinous spacer, second level (lumbar), CPT +22870 — How long it takes:")
    assert "Typically takes about 1 to 2 hours." in answer[0]["text"]


def test_typing_the_procedure_name_answers_the_pending_question(assistant):
    patient = new_patient()
    assistant.send(patient, "what should i do to prepare?")
    replies = assistant.send(patient, "the discogram")
    assert "CPT 62290 — How to prepare:" in replies[0]["text"]
    assert "• Arranging for transportation home after the procedure" in replies[0]["text"]


def test_misspelled_lay_question(assistant):
    replies = assistant.send(new_patient(), "wat r the risks of nucleoplasy")
    assert replies[0]["text"].startswith("Percutaneous disc decompression (nucleoplasty), CPT 62287 — Risks")


def test_a_missing_section_is_said_honestly_with_the_one_that_answers_instead(assistant):
    replies = assistant.send(new_patient(), "what tools and equipment are used for a discogram?")
    assert replies[0]["text"].startswith(
        "The patient document on Lumbar discography (discogram), CPT 62290 has no section on tools and equipment"
    )
    assert "CPT 62290 — What happens during the procedure:" in replies[1]["text"]
    covered = assistant.send(new_patient(), "what equipment do they use for the anesthesia for spine imaging")
    assert "• Needles and syringes" in covered[0]["text"]


def test_a_procedure_alone_gives_its_summary_and_more_buttons(assistant):
    replies = assistant.send(new_patient(), "tell me about the Racz procedure")
    assert replies[0]["text"].startswith("Epidural adhesiolysis (Racz procedure), CPT 62264 — What it is:")
    assert "Risks and complications" in [b["title"] for b in replies[0]["buttons"]]


def test_the_deleted_code_is_explained(assistant):
    replies = assistant.send(new_patient(), "what is 01935?")
    assert "CPT 01935 was deleted from the CPT code set in 2022" in replies[0]["text"]
    assert "01937 to 01942" in replies[0]["text"]


def test_two_procedures_in_one_question(assistant):
    replies = assistant.send(new_patient(), "compare the recovery after discography and nucleoplasty")
    assert [t.split(" — ")[0] for t in texts(replies)] == [
        "Lumbar discography (discogram), CPT 62290",
        "Percutaneous disc decompression (nucleoplasty), CPT 62287",
    ]
    assert all(" — Recovery:" in t for t in texts(replies))


def test_greeting_says_what_it_is_for_and_what_it_knows(assistant):
    replies = assistant.send(new_patient(), "hello")
    assert "patient-education assistant" in replies[0]["text"]
    assert "don't replace your care team" in replies[0]["text"]
    assert [b["title"] for b in replies[0]["buttons"]] == [
        "Percutaneous disc decompression (nucleoplasty)",
        "Anesthesia for a diagnostic image-guided spine procedure",
        "Lumbar discography (discogram)",
        "Interspinous spacer, second level (lumbar)",
        "Epidural adhesiolysis (Racz procedure)",
    ]


@pytest.mark.parametrize(
    "message, expected",
    [("thanks!", "You're welcome"), ("bye", "Goodbye"), ("are you a real person?", "automated assistant"),
     ("which procedures do you know about?", "I have patient documents on these procedures")],
)
def test_small_talk(assistant, message, expected):
    assert expected in assistant.send(new_patient(), message)[0]["text"]


@pytest.mark.parametrize("code", ["62287", "01935", "62290", "+22870", "62264"])
def test_every_section_answer_is_the_documents_own_text(assistant, code):
    """Every section, read in full (with "Tell me more" when it comes in parts)."""
    procedure = knowledge_base.default().get(code)
    source = (KB_DIR / f"{code.lstrip('+')}.txt").read_text()
    source_lines = {re.sub(r"^(?:[•-]|\d+\.)\s+", "", line.strip()) for line in source.splitlines()}
    source_lines.add(procedure.meta.code_note)  # the summary of a deleted code says so
    for key, section in procedure.document.sections.items():
        patient = new_patient()
        replies = assistant.send(patient, f'/ask_{key}{{"procedure": "{code}"}}')
        body = []
        while True:
            assert len(replies) == 1
            header, *lines, reminder = replies[0]["text"].split("\n")
            assert header.startswith(procedure.label) and REMINDER in reminder
            body += [re.sub(r"^(?:• |\d+\. )", "", line) for line in lines]
            if "/tell_me_more" not in [b["payload"] for b in replies[0].get("buttons") or []]:
                break
            replies = assistant.send(patient, "/tell_me_more")
        shown = " ".join(body)
        assert all(block.full_text in shown for block in section.blocks), key
        assert all(line in source_lines or line in source for line in body), (key, body)
