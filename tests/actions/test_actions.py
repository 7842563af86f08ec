"""The custom actions, run through rasa-sdk's own Tracker and CollectingDispatcher."""

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import (
    ActionAnswerSection,
    ActionCannotAnswer,
    ActionIntroduce,
    ActionListProcedures,
    ActionRecordFeedback,
    naming_words,
)
from actions import knowledge_base
from actions.answers import CARE_TEAM_REMINDER, FEEDBACK_BUTTONS, MORE_BUTTON
from actions.plain_words import simpler_button

ALL_CODES = ["62287", "01935", "62290", "+22870", "62264"]


@pytest.fixture(autouse=True)
def feedback_db(tmp_path, monkeypatch):
    monkeypatch.setenv("FEEDBACK_DB", str(tmp_path / "feedback.db"))
    return tmp_path / "feedback.db"


def recorded(path):
    import sqlite3

    return sqlite3.connect(path).execute("SELECT kind, intent, procedure, section, question FROM feedback").fetchall()


def tracker(intent, text="", entities=(), events=(), other_topics=(), described=(), ranking=(), **slots):
    return Tracker(
        sender_id="patient",
        slots={"procedure": None, "section": None, "awaiting_procedure": None, "more_to_show": None, **slots},
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.99},
            "entities": [{"entity": "procedure", "value": v} for v in entities]
            + [{"entity": "other_topic", "value": v} for v in other_topics]
            + [{"entity": "described_procedure", "value": v} for v in described],
            "intent_ranking": [{"name": name, "confidence": confidence} for name, confidence in ranking],
        },
        events=list(events),
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
    assert messages[0]["buttons"] == [simpler_button(knowledge_base.default().get("62290"), "risks"), *FEEDBACK_BUTTONS]
    assert SlotSet("procedure", "62290") in events and SlotSet("section", "risks") in events


def test_falls_back_to_the_procedure_of_the_conversation():
    messages, _ = run(ActionAnswerSection(), tracker("ask_duration", "how long", procedure="62264"))
    assert "Epidural adhesiolysis (Racz procedure), CPT 62264 — How long it takes:" in messages[0]["text"]
    assert "The procedure typically takes about 1 to 2 hours." in messages[0]["text"]


WHERE_DONE = "will the nucleoplasty be in a hospital or an outpatient clinic?"


def test_an_unsure_reading_is_answered_from_the_section_the_words_fit():
    ranking = [("ask_recovery", 0.45), ("ask_setting", 0.35), ("ask_risks", 0.1)]
    messages, events = run(ActionAnswerSection(), tracker("ask_recovery", WHERE_DONE, ["62287"], ranking=ranking))
    assert "CPT 62287 — Where it is done:" in messages[0]["text"]
    assert SlotSet("section", "setting") in events


def test_a_sure_reading_keeps_its_section():
    ranking = [("ask_recovery", 0.9), ("ask_setting", 0.05)]
    messages, events = run(ActionAnswerSection(), tracker("ask_recovery", WHERE_DONE, ["62287"], ranking=ranking))
    assert "CPT 62287 — Recovery:" in messages[0]["text"]
    assert SlotSet("section", "recovery") in events


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


def test_a_reply_that_only_names_the_procedure_answers_the_pending_question_whatever_its_intent():
    text = "its the sedation for spine imaging"
    chosen = tracker("ask_preparation", text, ["01935"], section="patient_experience", awaiting_procedure=True)
    chosen.latest_message["entities"][0].update(start=text.index("sedation"), end=len(text))
    messages, _ = run(ActionAnswerSection(), chosen)
    assert "CPT 01935 — What it feels like:" in messages[0]["text"]
    # A question of its own is answered as asked.
    text = "how do I prepare for the sedation for spine imaging"
    asked = tracker("ask_preparation", text, ["01935"], section="patient_experience", awaiting_procedure=True)
    asked.latest_message["entities"][0].update(start=text.index("sedation"), end=len(text))
    messages, _ = run(ActionAnswerSection(), asked)
    assert "CPT 01935 — How to prepare:" in messages[0]["text"]


def test_switching_procedure_keeps_the_section():
    switch = tracker("switch_procedure", "what about nucleoplasty?", ["62287"], procedure="62290", section="risks")
    messages, _ = run(ActionAnswerSection(), switch)
    assert "CPT 62287 — Risks and complications:" in messages[0]["text"]
    assert "• Discitis (disc infection)." in messages[0]["text"]


def test_a_procedure_alone_gives_its_summary_and_the_other_sections_as_buttons():
    messages, _ = run(ActionAnswerSection(), tracker("about_procedure", "tell me about discography", ["62290"]))
    assert "CPT 62290 — What it is:" in messages[0]["text"]
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert "What it is" not in titles and titles[:3] == ["In simpler words", "Purpose", "Who it is for"]
    assert messages[0]["buttons"][-1]["payload"] == '/ask_patient_experience{"procedure": "62290"}'


def test_a_section_the_document_lacks_is_said_honestly_with_the_one_that_answers_instead():
    # No tools section: the steps name the tools (document_format.yml, `otherwise`).
    messages, _ = run(ActionAnswerSection(), tracker("ask_equipment", "", ["62290"]))
    assert messages[0]["response"] == "utter_section_not_covered_closest"
    assert messages[0]["section"] == "tools and equipment"
    assert messages[0]["procedure"] == "Lumbar discography (discogram), CPT 62290"
    assert "CPT 62290 — What happens during the procedure:" in messages[1]["text"]


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


def test_a_long_section_comes_in_parts():
    first, events = run(ActionAnswerSection(), tracker("ask_procedure_steps", "how is it done", ["62287"]))
    assert "\n1. The patient is positioned properly" in first[0]["text"]
    assert "8. The needle is removed" not in first[0]["text"]
    assert first[0]["buttons"][0] == MORE_BUTTON
    assert SlotSet("more_to_show", "rest") in events
    more, events = run(ActionAnswerSection(), tracker(
        "tell_me_more", "tell me more", procedure="62287", section="procedure_steps", more_to_show="rest"))
    assert more[0]["text"].startswith(
        "Percutaneous disc decompression (nucleoplasty), CPT 62287 — What happens during the procedure (continued):")
    assert "\n8. The needle is removed, and the insertion site is bandaged." in more[0]["text"]
    assert "1. The patient is positioned" not in more[0]["text"]
    assert SlotSet("more_to_show", None) in events
    done, _ = run(ActionAnswerSection(), tracker("tell_me_more", "more", procedure="62287", section="procedure_steps"))
    assert done[0]["response"] == "utter_nothing_more"


def test_a_pointed_question_gets_the_bullet_and_the_whole_section_on_request():
    messages, _ = run(ActionAnswerSection(), tracker("ask_recovery", "can I drive home after a discogram?", ["62290"]))
    assert messages[0]["text"].split("\n")[:2] == [
        "Lumbar discography (discogram), CPT 62290 — How to prepare:",
        "• Arranging for transportation home after the procedure, as driving is not advisable.",
    ]
    assert messages[0]["buttons"][0] == {
        "title": "Show everything: how to prepare", "payload": '/ask_preparation{"procedure": "62290"}'}


def test_what_the_document_does_not_say_is_said(feedback_db):
    messages, _ = run(ActionAnswerSection(), tracker("ask_recovery", "can I shower after the racz procedure?", ["62264"]))
    assert messages[0]["response"] == "utter_not_in_document"
    assert messages[0]["topic"] == "showering and bathing"
    # ...then what the document does say about recovery.
    assert messages[1]["text"].startswith("Epidural adhesiolysis (Racz procedure), CPT 62264 — Recovery:")
    assert recorded(feedback_db) == [("not_in_document", "ask_recovery", "62264", "recovery",
                                      "can I shower after the racz procedure?")]


def test_how_long_right_after_recovery_means_recovery():
    messages, _ = run(ActionAnswerSection(), tracker("ask_duration", "how long?", procedure="62264", section="recovery"))
    assert "CPT 62264 — Recovery:" in messages[0]["text"]
    other, _ = run(ActionAnswerSection(), tracker("ask_duration", "how long?", procedure="62264", section="risks"))
    assert "CPT 62264 — How long it takes:" in other[0]["text"]


def test_an_uncovered_topic_is_never_answered_with_the_current_procedure(feedback_db):
    messages, events = run(ActionAnswerSection(), tracker(
        "ask_risks", "what are the risks of spinal fusion?", other_topics=["spinal fusion"], procedure="62290"))
    assert messages[0]["response"] == "utter_other_topic"
    assert messages[0]["topic"] == "spinal fusion"
    assert payload_codes(messages[0]) == ALL_CODES
    assert events == []
    assert recorded(feedback_db)[0][0] == "other_topic"
    # Named as an alternative to our procedure, it is a question about our procedure.
    alternatives, _ = run(ActionAnswerSection(), tracker(
        "ask_alternatives", "is spinal fusion an alternative?", other_topics=["spinal fusion"], procedure="+22870"))
    assert "• More invasive surgeries: Spinal fusion or decompression surgeries." in alternatives[0]["text"]
    assert alternatives[0]["text"].startswith("Interspinous spacer, second level (lumbar), CPT +22870")


@pytest.mark.parametrize("intent, response, kind", [("out_of_scope", "utter_out_of_scope", "out_of_scope"),
                                                     ("nlu_fallback", "utter_default", "fallback")])
def test_what_cannot_be_answered_is_said_and_recorded(feedback_db, intent, response, kind):
    messages, _ = run(ActionCannotAnswer(), tracker(intent, "how much does it cost? call me at 555-123-4567"))
    assert messages[0]["response"] == response
    assert payload_codes(messages[0]) == ALL_CODES
    assert recorded(feedback_db) == [(kind, intent, None, None, "how much does it cost? call me at [number]")]


def test_unhelpful_feedback_records_the_question_it_was_about(feedback_db):
    events = [
        {"event": "user", "text": "can i drive after", "parse_data": {"intent": {"name": "ask_recovery"}}},
        {"event": "bot", "text": "..."},
        {"event": "user", "text": "/feedback_unhelpful", "parse_data": {"intent": {"name": "feedback_unhelpful"}}},
    ]
    messages, _ = run(ActionRecordFeedback(), tracker(
        "feedback_unhelpful", "/feedback_unhelpful", events=events, procedure="62290", section="recovery"))
    assert messages[0]["response"] == "utter_feedback_sorry"
    assert recorded(feedback_db) == [("unhelpful", "ask_recovery", "62290", "recovery", "can i drive after")]


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


def test_a_described_procedure_is_answered():
    messages, events = run(ActionAnswerSection(), tracker(
        "ask_risks", "risks of the test where they put dye in my discs", described=["62290"]))
    assert messages[0]["text"].startswith("Lumbar discography (discogram), CPT 62290 — Risks")
    assert SlotSet("procedure", "62290") in events


def test_two_procedures_described_as_closely_are_asked_about_with_their_buttons():
    messages, events = run(ActionAnswerSection(), tracker(
        "ask_recovery", "recovery after the needle thing in my disc", described=["62287", "62290"]))
    assert messages[0]["response"] == "utter_ask_which_procedure"
    assert payload_codes(messages[0]) == ["62287", "62290"]
    assert SlotSet("awaiting_procedure", True) in events


def test_the_conversations_procedure_wins_when_it_fits_the_description():
    messages, _ = run(ActionAnswerSection(), tracker(
        "ask_recovery", "recovery after the needle thing in my disc", described=["62287", "62290"],
        procedure="62290"))
    assert messages[0]["text"].startswith("Lumbar discography (discogram), CPT 62290 — ")


def test_a_detail_in_another_section_is_answered_from_there():
    messages, _ = run(ActionAnswerSection(), tracker(
        "ask_equipment", "do they use a catheter for the Racz", ["62264"]))
    assert "A small catheter is inserted into the epidural space" in messages[0]["text"]
    messages, _ = run(ActionAnswerSection(), tracker(
        "ask_preparation", "Is a discogram done before spinal fusion?", ["62290"]))
    assert "Pre-surgical planning for procedures such as spinal fusion" in messages[0]["text"]


def test_a_description_beside_the_name_says_which_procedure_not_what_is_asked():
    text = "who does the nucleoplasty with the needle?"
    asked = tracker("ask_personnel", text, ["62287"])
    start = text.index("nucleoplasty")
    asked.latest_message["entities"][0].update(start=start, end=start + len("nucleoplasty"))
    messages, _ = run(ActionAnswerSection(), asked)
    assert messages[0]["text"].startswith("Percutaneous disc decompression (nucleoplasty), CPT 62287 — Who does it")
    # The description ends where the question starts.
    text = "the nucleoplasty with the needle and will it improve my mobility?"
    asked = tracker("ask_benefits", text, ["62287"])
    start = text.index("nucleoplasty")
    asked.latest_message["entities"][0].update(start=start, end=start + len("nucleoplasty"))
    assert naming_words(asked, knowledge_base.default().get("62287")) == {"needle"}
    # Asked about in its own words, the needle is the question.
    messages, _ = run(ActionAnswerSection(), tracker("ask_equipment", "is a needle used for the nucleoplasty?", ["62287"]))
    assert "needle" in messages[0]["text"].lower()


def test_what_the_document_does_not_say_comes_with_the_closest_section():
    messages, _ = run(ActionAnswerSection(), tracker(
        "ask_recovery", "is it ok to drive a week after the nucleoplasty?", ["62287"]))
    assert messages[0]["response"] == "utter_not_in_document"
    assert messages[1]["text"].startswith("Percutaneous disc decompression (nucleoplasty), CPT 62287 — Recovery")


def fallback_tracker(text, procedure=None, ranking=(("ask_recovery", 0.3),), **slots):
    unsure = tracker("nlu_fallback", text, procedure=procedure, **slots)
    unsure.latest_message["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 0.4}] + [
        {"name": name, "confidence": confidence} for name, confidence in ranking]
    return unsure


def test_an_unsure_follow_up_is_answered_about_the_conversations_procedure(feedback_db):
    messages, events = run(ActionCannotAnswer(), fallback_tracker("will he go home the same day?", procedure="62264"))
    assert messages[0]["text"].startswith("Epidural adhesiolysis (Racz procedure), CPT 62264")
    assert "Recovery" in messages[0]["text"]
    assert {"event": "slot", "timestamp": None, "name": "section", "value": "recovery"} in events


@pytest.mark.parametrize("text, procedure, heading, bullet", [
    ("home same day?", "62264", "Epidural adhesiolysis (Racz procedure), CPT 62264 — Recovery",
     "can often go home the same day"),
    ("is there an incision", "+22870", "Interspinous spacer, second level (lumbar), CPT +22870",
     "A small incision is made"),
])
def test_an_unsure_follow_up_without_a_likely_reading_is_looked_up_in_the_document(
        feedback_db, text, procedure, heading, bullet):
    messages, _ = run(ActionCannotAnswer(), fallback_tracker(text, procedure=procedure, ranking=(("greet", 0.1),)))
    assert messages[0]["text"].startswith(heading)
    assert bullet in messages[0]["text"]


def test_an_unsure_reading_that_names_a_procedure_gets_its_likeliest_section(feedback_db):
    unsure = fallback_tracker("compare discography and nucleoplasty recovery",
                              ranking=(("ask_recovery", 0.31), ("about_procedure", 0.3)))
    unsure.latest_message["entities"] = [{"entity": "procedure", "value": "62290"},
                                         {"entity": "procedure", "value": "62287"}]
    messages, _ = run(ActionCannotAnswer(), unsure)
    assert [m["text"].split("\n")[0] for m in messages] == [
        "Lumbar discography (discogram), CPT 62290 — Recovery:",
        "Percutaneous disc decompression (nucleoplasty), CPT 62287 — Recovery:"]
    # The answer to "which procedure?" answers the question that was pending.
    unsure = fallback_tracker("the discogram one", ranking=(("ask_recovery", 0.31),),
                              awaiting_procedure=True, section="risks")
    unsure.latest_message["entities"] = [{"entity": "procedure", "value": "62290"}]
    messages, _ = run(ActionCannotAnswer(), unsure)
    assert messages[0]["text"].startswith("Lumbar discography (discogram), CPT 62290 — Risks")


@pytest.mark.parametrize("text, procedure, ranking", [
    ("will he go home the same day?", None, (("ask_recovery", 0.3),)),  # no conversation yet
    ("xqzvj bnmkw", "62264", (("ask_recovery", 0.3),)),  # keyboard noise
    # no real guess, and no word the document has
    ("and what did she think of that?", "62264", (("ask_recovery", 0.1),)),
    ("and what did she think of that?", "62264", (("out_of_scope", 0.3),)),
])
def test_an_unsure_reading_without_a_likely_follow_up_says_so(feedback_db, text, procedure, ranking):
    messages, _ = run(ActionCannotAnswer(), fallback_tracker(text, procedure, ranking))
    assert messages[0]["response"] == "utter_default"


def test_a_weak_description_does_not_move_the_conversation_to_another_procedure():
    weak = tracker("ask_benefits", "how does it help plan surgery?", procedure="62290")
    weak.latest_message["entities"] = [{"entity": "described_procedure", "value": "+22870", "confidence": 2.1}]
    messages, _ = run(ActionAnswerSection(), weak)
    assert messages[0]["text"].startswith("Lumbar discography (discogram), CPT 62290")
    strong = tracker("ask_benefits", "what are the benefits of the spacer implant between my vertebrae?", procedure="62290")
    strong.latest_message["entities"] = [{"entity": "described_procedure", "value": "+22870", "confidence": 5.0}]
    messages, _ = run(ActionAnswerSection(), strong)
    assert messages[0]["text"].startswith("Interspinous spacer, second level (lumbar), CPT +22870")
