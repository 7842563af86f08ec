"""The custom actions, run through rasa-sdk's own Tracker and CollectingDispatcher."""

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import ActionAnswerSection, ActionIntroduce, ActionListProcedures
from actions.answers import CARE_TEAM_REMINDER

ALL_CODES = ["62287", "01935", "62290", "+22870", "62264"]


def tracker(intent, text="", entities=(), **slots):
    return Tracker(
        sender_id="patient",
        slots={"procedure": None, "section": None, "awaiting_procedure": None, **slots},
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.99},
            "entities": [{"entity": "procedure", "value": v} for v in entities],
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def run(action, tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher.messages, events


def payload_codes(message):
    return [b["payload"].split('"procedure": "')[1].rstrip('"}') for b in message["buttons"]]


def test_answers_the_section_of_the_named_procedure():
    messages, events = run(ActionAnswerSection(), tracker("ask_risks", "risks of a discogram", ["62290"]))
    assert len(messages) == 1
    text = messages[0]["text"]
    assert text.startswith("Lumbar discography (discogram), CPT 62290 — Risks and complications:")
    assert "• Infection at the injection site.\n• Bleeding or hematoma." in text
    assert text.endswith(CARE_TEAM_REMINDER)
    assert messages[0]["buttons"] == []
    assert SlotSet("procedure", "62290") in events and SlotSet("section", "risks") in events


def test_falls_back_to_the_procedure_of_the_conversation():
    messages, _ = run(ActionAnswerSection(), tracker("ask_duration", "how long", procedure="62264"))
    assert "Epidural adhesiolysis (Racz procedure), CPT 62264 — How long it takes:" in messages[0]["text"]
    assert "The procedure typically takes about 1 to 2 hours." in messages[0]["text"]


def test_a_procedure_named_in_the_message_wins_over_the_conversation():
    messages, _ = run(ActionAnswerSection(), tracker("ask_duration", "", ["62290"], procedure="62264"))
    assert "Approximately 30 to 60 minutes." in messages[0]["text"]


def test_without_any_procedure_it_asks_which_with_buttons():
    messages, events = run(ActionAnswerSection(), tracker("ask_recovery", "how long is recovery"))
    assert messages[0]["response"] == "utter_ask_which_procedure"
    assert messages[0]["section"] == "recovery"
    assert payload_codes(messages[0]) == ALL_CODES
    assert messages[0]["buttons"][0]["payload"] == '/switch_procedure{"procedure": "62287"}'
    assert SlotSet("section", "recovery") in events and SlotSet("awaiting_procedure", True) in events


def test_the_chosen_procedure_answers_the_pending_question():
    chosen = tracker("about_procedure", "discogram", ["62290"], section="recovery", awaiting_procedure=True)
    messages, events = run(ActionAnswerSection(), chosen)
    assert "CPT 62290 — Recovery:" in messages[0]["text"]
    assert SlotSet("awaiting_procedure", False) in events


def test_switching_procedure_keeps_the_section():
    switch = tracker("switch_procedure", "what about nucleoplasty?", ["62287"], procedure="62290", section="risks")
    messages, _ = run(ActionAnswerSection(), switch)
    assert "CPT 62287 — Risks and complications:" in messages[0]["text"]
    assert "• Discitis (disc infection)." in messages[0]["text"]


def test_a_procedure_alone_gives_its_summary_and_the_other_sections_as_buttons():
    messages, _ = run(ActionAnswerSection(), tracker("about_procedure", "tell me about discography", ["62290"]))
    assert "CPT 62290 — What it is:" in messages[0]["text"]
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert "What it is" not in titles and titles[:2] == ["Purpose", "Who it is for"]
    assert messages[0]["buttons"][-1]["payload"] == '/ask_patient_experience{"procedure": "62290"}'


def test_a_section_the_document_lacks_is_said_honestly():
    messages, _ = run(ActionAnswerSection(), tracker("ask_equipment", "", ["62290"]))
    assert messages[0]["response"] == "utter_section_not_covered"
    assert messages[0]["section"] == "tools and equipment"
    assert messages[0]["procedure"] == "Lumbar discography (discogram), CPT 62290"
    assert "Recovery" in [b["title"] for b in messages[0]["buttons"]]
    assert "text" not in messages[0] or not messages[0]["text"]


def test_two_procedures_get_one_answer_each():
    messages, events = run(ActionAnswerSection(), tracker("ask_recovery", "", ["62290", "62287"]))
    assert [m["text"].split(" — ")[0] for m in messages] == [
        "Lumbar discography (discogram), CPT 62290",
        "Percutaneous disc decompression (nucleoplasty), CPT 62287",
    ]


def test_unknown_procedure_values_are_ignored():
    messages, events = run(ActionAnswerSection(), tracker("ask_risks", "/ask_risks", ["62290; drop", "x"]))
    assert messages[0]["response"] == "utter_ask_which_procedure"
    assert not any(e["name"] == "procedure" for e in events if e["event"] == "slot")


def test_numbered_steps_and_lead_ins_stay_readable():
    messages, _ = run(ActionAnswerSection(), tracker("ask_procedure_steps", "", ["62264"]))
    assert "\n1. Prepping and Anesthesia: The patient is positioned" in messages[0]["text"]
    assert "\n2. Radiologic Guidance: Using fluoroscopy" in messages[0]["text"]


def test_the_deleted_code_is_explained_when_asked_about_or_introduced():
    by_code, _ = run(ActionAnswerSection(), tracker("ask_risks", "risks of 01935", ["01935"]))
    assert "CPT 01935 was deleted from the CPT code set in 2022" in by_code[0]["text"]
    overview, _ = run(ActionAnswerSection(), tracker("about_procedure", "spine imaging anesthesia", ["01935"]))
    assert "replaced by codes 01937 to 01942" in overview[0]["text"]
    by_name, _ = run(ActionAnswerSection(), tracker("ask_risks", "risks of spine imaging anesthesia", ["01935"]))
    assert "deleted" not in by_name[0]["text"]


@pytest.mark.parametrize("action, response", [(ActionIntroduce(), "utter_introduction"),
                                              (ActionListProcedures(), "utter_procedure_list")])
def test_introduction_and_list_offer_every_procedure(action, response):
    messages, _ = run(action, tracker("greet", "hi"))
    assert messages[0]["response"] == response
    assert payload_codes(messages[0]) == ALL_CODES
    assert messages[0]["buttons"][2]["title"] == "Lumbar discography (discogram)"
