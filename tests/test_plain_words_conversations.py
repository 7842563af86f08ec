"""Plain words over the REST channel, with the real Rasa server and action server:
"what does X mean?" and "in simpler words" (issue 12)."""

import re
import uuid

import pytest

from actions import glossary, knowledge_base, plain_versions

REMINDER = "care team has the final word"


def new_patient() -> str:
    return f"patient-{uuid.uuid4().hex[:8]}"


def only_reply(replies):
    assert len(replies) == 1, replies
    return replies[0]


@pytest.mark.parametrize("question, term", [
    ("what does fluoroscopy mean?", "Fluoroscopy"),
    ("what's a hematoma", "Hematoma"),
    ("what is CSF", "Cerebrospinal fluid"),
    ("what does floroscopy mean", "Fluoroscopy"),  # a typo, as for procedure names
    ("what is stenosis?", "Stenosis"),
    ("what does percutaneous mean?", "Percutaneous"),
])
def test_a_term_is_explained_from_the_glossary(assistant, question, term):
    reply = only_reply(assistant.send(new_patient(), question))
    entry = glossary.default().lookup(term)
    assert reply["text"].startswith(f"{term}: {entry.definition}")
    assert "\nThe clinic's documents use this word in:\n• " in reply["text"] and "CPT " in reply["text"]
    assert REMINDER in reply["text"]
    assert reply["buttons"] and all(b["payload"].startswith("/ask_") for b in reply["buttons"])


def test_a_bare_term_right_after_an_answer_is_explained_with_a_button_back(assistant):
    patient = new_patient()
    answer = only_reply(assistant.send(patient, "what are the risks of nucleoplasty?"))
    assert "• Discitis (disc infection)." in answer["text"]
    reply = only_reply(assistant.send(patient, "discitis?"))
    assert reply["text"].startswith("Discitis: An infection in a disc of the spine.")
    assert reply["buttons"] == [{"title": "Back to risks and complications",
                                 "payload": '/ask_risks{"procedure": "62287"}'}]
    back = only_reply(assistant.send(patient, reply["buttons"][0]["payload"]))
    assert back["text"].startswith("Percutaneous disc decompression (nucleoplasty), CPT 62287 — Risks and complications:")


def test_an_unknown_word_gets_an_honest_answer_never_a_procedure_overview(assistant):
    reply = only_reply(assistant.send(new_patient(), "what does flibbertigibbet mean?"))
    assert "I don't have an explanation of that word" in reply["text"]
    assert "care team" in reply["text"] and "(555) 010-0100" in reply["text"]
    assert "CPT" not in reply["text"] and not reply.get("buttons")


def test_the_simpler_words_button_gives_the_plain_version(assistant):
    patient = new_patient()
    answer = only_reply(assistant.send(patient, "What are the risks of a discogram?"))
    button = next(b for b in answer["buttons"] if b["title"] == "In simpler words")
    reply = only_reply(assistant.send(patient, button["payload"]))
    lines = reply["text"].split("\n")
    assert lines[0] == "Lumbar discography (discogram), CPT 62290 — Risks and complications, in simpler words:"
    assert lines[1] == "This is a plain-language version of the clinic's document."
    kb = knowledge_base.default()
    plain = plain_versions.default().section(kb.get("62290"), "risks")
    assert all(f"• {block.full_text}" in lines for block in plain.blocks)
    assert REMINDER in lines[-1]


@pytest.mark.parametrize("request_text", ["simpler please", "I don't understand", "explain like I'm 12",
                                          "can you say that in simpler words?"])
def test_a_typed_request_after_an_answer_gives_it_in_simpler_words(assistant, request_text):
    patient = new_patient()
    only_reply(assistant.send(patient, "how do I prepare for a discogram?"))
    reply = only_reply(assistant.send(patient, request_text))
    assert reply["text"].startswith("Lumbar discography (discogram), CPT 62290 — How to prepare, in simpler words:")
    assert "6 hours" in reply["text"]


@pytest.mark.parametrize("code", ["62287", "01935", "62290", "+22870", "62264"])
def test_every_section_in_simpler_words_reads_at_grade_8_and_keeps_its_facts(assistant, code):
    """Each section's "In simpler words", read in full (with "Tell me more" when it comes in parts)."""
    kb = knowledge_base.default()
    procedure = kb.get(code)
    for key, original in procedure.document.sections.items():
        patient = new_patient()
        replies = assistant.send(patient, f'/simpler_words{{"procedure": "{code}", "section_key": "{key}"}}')
        body = []
        while True:
            header, *lines, reminder = only_reply(replies)["text"].split("\n")
            assert header.startswith(f"{procedure.label} — ") and "in simpler words" in header
            assert REMINDER in reminder
            body += [re.sub(r"^(?:• |\d+\. )", "", line) for line in lines
                     if line != "This is a plain-language version of the clinic's document."]
            if "/tell_me_more" not in [b["payload"] for b in replies[0]["buttons"]]:
                break
            replies = assistant.send(patient, "/tell_me_more")
        plain = plain_versions.default().section(procedure, key)
        shown = " ".join(body)
        assert all(block.full_text in shown for block in plain.blocks), key
        assert plain_versions.grade(plain.blocks) <= plain_versions.TARGET_GRADE
        assert plain_versions.missing_facts(original, plain, glossary.default()) == []
