"""Urgent symptoms, out-of-scope questions, precise answers, follow-ups, handoff and
feedback, through the real Rasa server and action server over the REST channel."""

import subprocess
import sys
import uuid

import pytest

from tests.conftest import ROOT

EMERGENCY = "Call 911 now or go to the nearest emergency department"
CARE_TEAM = "Call them right away at (555) 010-0100"


def new_patient() -> str:
    return f"patient-{uuid.uuid4().hex[:8]}"


def text_of(replies) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def headers(replies) -> list[str]:
    return [(r.get("text") or "").split("\n")[0] for r in replies]


@pytest.mark.parametrize(
    "message, advice",
    [
        ("cant feel my legs", EMERGENCY),
        ("i keep peeing myself since the discogram", EMERGENCY),
        ("my chest hurts and i cant breath", EMERGENCY),
        ("the bleading wont stop", EMERGENCY),
        ("I have a fever and chills", CARE_TEAM),
        ("theres pus coming out of the needle spot", CARE_TEAM),
        ("my head pounds when i stand up but its fine lying down", CARE_TEAM),
    ],
)
def test_urgent_symptoms_get_emergency_advice(assistant, message, advice):
    assert advice in text_of(assistant.send(new_patient(), message))


def test_an_urgent_symptom_wins_wherever_the_conversation_is(assistant):
    patient = new_patient()
    assistant.send(patient, "how long does it take?")  # the bot waits for a procedure
    replies = assistant.send(patient, "what are the risks of a discogram? also my legs went numb")
    assert EMERGENCY in text_of(replies)
    # ...and the conversation goes on normally afterwards.
    after = assistant.send(patient, "what about nucleoplasty?")
    assert "Percutaneous disc decompression (nucleoplasty), CPT 62287" in after[0]["text"]


def test_a_question_about_risk_is_not_an_emergency(assistant):
    replies = assistant.send(new_patient(), "is infection a risk of a discogram?")
    assert EMERGENCY not in text_of(replies) and CARE_TEAM not in text_of(replies)
    assert replies[0]["text"].split("\n")[:2] == [
        "Lumbar discography (discogram), CPT 62290 — Risks and complications:",
        "• Infection at the injection site.",
    ]


@pytest.mark.parametrize(
    "message",
    ["how much ibuprofen can I take", "does medicare cover this", "tell me a joke",
     "what causes scoliosis", "how do I prepare for a colonoscopy"],
)
def test_out_of_scope_questions_get_a_polite_pointer(assistant, message):
    replies = assistant.send(new_patient(), message)
    assert "CPT" not in headers(replies)[0]
    assert "please ask your care team" in text_of(replies).lower() or "ask your care team" in text_of(replies)
    assert len(replies[0]["buttons"]) == 5


@pytest.mark.parametrize("message", ["what are the risks of spinal fusion?",
                                     "is a spinal cord stimulator trial done in the hospital"])
def test_a_topic_without_a_document_is_not_taken_for_a_procedure_it_resembles(assistant, message):
    # The spacer's document speaks of fusion, the anesthesia's of the spinal cord.
    replies = assistant.send(new_patient(), message)
    assert text_of(replies).startswith("Sorry, I don't have a patient document on spin")
    assert "CPT" not in headers(replies)[0]


def test_another_procedure_is_never_answered_with_the_current_one(assistant):
    patient = new_patient()
    assistant.send(patient, "what are the risks of a discogram?")
    replies = assistant.send(patient, "what are the risks of spinal fusion?")
    assert text_of(replies).startswith("Sorry, I don't have a patient document on spinal fusion")
    assert "CPT 62290" not in text_of(replies)


def test_pointed_questions_get_the_bullet_first_and_the_section_on_request(assistant):
    patient = new_patient()
    replies = assistant.send(patient, "can I drive home after a discogram?")
    assert replies[0]["text"].split("\n")[:2] == [
        "Lumbar discography (discogram), CPT 62290 — How to prepare:",
        "• Arranging for transportation home after the procedure, as driving is not advisable.",
    ]
    show_all = {b["title"]: b["payload"] for b in replies[0]["buttons"]}["Show everything: how to prepare"]
    everything = assistant.send(patient, show_all)
    assert "• Fasting for at least 6 hours before the procedure." in everything[0]["text"]
    fasting = assistant.send(new_patient(), "do I have to fast before nucleoplasty?")
    assert "• Fasting for 6-8 hours before the procedure." in fasting[0]["text"]


def test_what_the_document_does_not_say_is_said(assistant):
    replies = assistant.send(new_patient(), "can I shower after the racz procedure?")
    assert text_of(replies).startswith(
        "The patient document on Epidural adhesiolysis (Racz procedure), CPT 62264 doesn't say anything about "
        "showering and bathing")


def test_follow_ups_keep_the_context(assistant):
    patient = new_patient()
    assistant.send(patient, "what are the risks of the racz procedure")
    assert headers(assistant.send(patient, "and the recovery?")) == [
        "Epidural adhesiolysis (Racz procedure), CPT 62264 — Recovery:"]
    assert headers(assistant.send(patient, "how long?")) == [
        "Epidural adhesiolysis (Racz procedure), CPT 62264 — Recovery:"]
    assert headers(assistant.send(patient, "what about for the discogram?")) == [
        "Lumbar discography (discogram), CPT 62290 — Recovery:"]


def test_tell_me_more_continues_a_long_section(assistant):
    patient = new_patient()
    first = assistant.send(patient, "how is a nucleoplasty done?")
    assert "8. The needle is removed" not in first[0]["text"]
    assert "Tell me more" in [b["title"] for b in first[0]["buttons"]]
    more = assistant.send(patient, "tell me more")
    assert "8. The needle is removed, and the insertion site is bandaged." in more[0]["text"]


def test_two_procedures_side_by_side(assistant):
    replies = assistant.send(new_patient(), "compare discography and nucleoplasty recovery")
    assert headers(replies) == ["Lumbar discography (discogram), CPT 62290 — Recovery:",
                                "Percutaneous disc decompression (nucleoplasty), CPT 62287 — Recovery:"]


def test_a_person_can_be_reached(assistant):
    replies = assistant.send(new_patient(), "can I talk to a nurse?")
    assert "call (555) 010-0100 (Monday to Friday, 8 am to 5 pm)" in text_of(replies)


def test_feedback_and_unanswered_questions_reach_the_report(assistant):
    patient = new_patient()
    assistant.send(patient, "what are the risks of a discogram?")
    assert "Sorry that didn't help" in text_of(assistant.send(patient, "/feedback_unhelpful"))
    assert "Thank you" in text_of(assistant.send(patient, "/feedback_helpful"))
    assistant.send(new_patient(), "how much does a discogram cost, my number is 555-123-4567")
    report = subprocess.run(
        [sys.executable, "-m", "scripts.content_report", "--db", str(assistant.workdir / "feedback.db")],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    assert "unhelpful" in report and "helpful" in report
    assert "what are the risks of a discogram?" in report
    assert "my number is [number]" in report and "555-123-4567" not in report


def test_a_procedure_named_with_a_listed_condition_is_answered_about_the_procedure(assistant):
    replies = assistant.send(new_patient(), "am I a candidate for a discogram if I have osteoporosis?")
    assert replies[0]["text"].startswith("Lumbar discography (discogram), CPT 62290 — ")


def test_a_procedure_described_not_named_is_answered(assistant):
    replies = assistant.send(new_patient(), "how long does the procedure to break up scar tissue with a catheter take?")
    assert replies[0]["text"].startswith("Epidural adhesiolysis (Racz procedure), CPT 62264 — ")


def test_no_symptom_no_emergency(assistant):
    text = text_of(assistant.send(new_patient(), "can i drive myself home after the discography"))
    assert EMERGENCY not in text and CARE_TEAM not in text
    assert "Lumbar discography (discogram), CPT 62290" in text


@pytest.mark.parametrize("message", ["that doesn't answer my question", "you didnt answer my question"])
def test_a_complaint_about_an_answer_is_no_emergency(assistant, message):
    patient = new_patient()
    assistant.send(patient, "what are the risks of a discogram?")
    text = text_of(assistant.send(patient, message))
    assert text and EMERGENCY not in text and CARE_TEAM not in text
