"""'What does X mean?' and 'in simpler words', through the real actions."""

import pytest
from rasa_sdk.events import SlotSet

from actions import glossary, knowledge_base
from actions.actions import ActionAnswerSection, ActionCannotAnswer
from actions.answers import CARE_TEAM_REMINDER
from actions.plain_words import PLAIN_NOTE, ActionExplainTerm, ActionSimplerWords, explain_inline, simpler_button
from tests.actions.test_actions import recorded, run, tracker

KB = knowledge_base.default()


@pytest.fixture(autouse=True)
def feedback_db(tmp_path, monkeypatch):
    monkeypatch.setenv("FEEDBACK_DB", str(tmp_path / "feedback.db"))
    monkeypatch.delenv(glossary.REVIEWED_ONLY_VARIABLE, raising=False)
    return tmp_path / "feedback.db"


def test_a_term_gets_its_definition_the_documents_using_it_and_a_button_back():
    messages, events = run(ActionExplainTerm(), tracker(
        "explain_term", "what's a hematoma", procedure="62290", section="risks"))
    text = messages[0]["text"]
    assert text.startswith("Hematoma: A pool of blood that collects under the skin")
    assert "\n• Lumbar discography (discogram), CPT 62290: risks and complications\n" in text
    assert "CPT 62287" in text and "CPT 01935" in text
    assert "care team has the final word" in text
    assert messages[0]["buttons"] == [{"title": "Back to risks and complications",
                                       "payload": '/ask_risks{"procedure": "62290"}'}]
    assert events == []  # the conversation stays on the discogram's risks


def test_without_a_section_on_screen_the_buttons_lead_to_where_the_term_is_used():
    messages, _ = run(ActionExplainTerm(), tracker("explain_term", "what does floroscopy mean?"))
    assert messages[0]["text"].startswith("Fluoroscopy: A kind of X-ray that shows a live video")
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert 1 <= len(payloads) <= 3 and all(p.startswith("/ask_") for p in payloads)


def test_an_unknown_word_is_said_honestly_and_recorded(feedback_db):
    messages, events = run(ActionExplainTerm(), tracker("explain_term", "what does flibbertigibbet mean?"))
    assert [m["response"] for m in messages] == ["utter_term_unknown"]
    assert not messages[0].get("buttons")  # never a procedure overview
    assert recorded(feedback_db)[0][0] == "unknown_term"


def test_a_bare_term_after_an_answer_is_explained_whatever_the_intent():
    messages, _ = run(ActionAnswerSection(), tracker("ask_risks", "discitis?", procedure="62287", section="risks"))
    assert messages[0]["text"].startswith("Discitis: An infection in a disc of the spine.")
    fallback, _ = run(ActionCannotAnswer(), tracker("nlu_fallback", "what is CSF"))
    assert fallback[0]["text"].startswith("Cerebrospinal fluid: The clear fluid")


def test_a_question_about_a_term_in_a_section_is_still_the_section():
    messages, _ = run(ActionAnswerSection(), tracker("ask_risks", "what are the risks of fluoroscopy", ["62290"]))
    assert "CPT 62290 — Risks and complications:" in messages[0]["text"]


def test_every_section_answer_offers_simpler_words():
    messages, _ = run(ActionAnswerSection(), tracker("ask_risks", "", ["62290"]))
    assert simpler_button(KB.get("62290"), "risks") in messages[0]["buttons"]
    assert simpler_button(KB.get("62290"), "risks")["payload"] == \
        '/simpler_words{"procedure": "62290", "section_key": "risks"}'


def test_simpler_words_serve_the_plain_version_and_say_so():
    messages, events = run(ActionSimplerWords(), tracker(
        "simpler_words", "simpler please", procedure="62290", section="risks"))
    lines = messages[0]["text"].split("\n")
    assert lines[0] == "Lumbar discography (discogram), CPT 62290 — Risks and complications, in simpler words:"
    assert lines[1] == PLAIN_NOTE
    assert "• Bleeding, or a pool of blood under the skin (hematoma)." in lines
    assert lines[-1] == CARE_TEAM_REMINDER
    assert messages[0]["buttons"][0] == {"title": "The clinic's own words", "payload": '/ask_risks{"procedure": "62290"}'}
    assert SlotSet("section", "risks") in events


def test_the_button_names_its_section_even_after_the_conversation_moved_on():
    button = tracker("simpler_words", "/simpler_words", procedure="62264", section="duration")
    button.latest_message["entities"] = [{"entity": "procedure", "value": "62287"},
                                         {"entity": "section_key", "value": "recovery"}]
    messages, _ = run(ActionSimplerWords(), button)
    assert "CPT 62287 — Recovery, in simpler words:" in messages[0]["text"]
    assert "24 hours" in messages[0]["text"]


@pytest.mark.parametrize("text", ["explain like I'm 12", "I don't understand", "in plain english please"])
def test_typed_requests_for_simpler_words_are_understood_whatever_the_intent(text):
    messages, _ = run(ActionAnswerSection(), tracker("ask_summary", text, procedure="62264", section="recovery"))
    assert "CPT 62264 — Recovery, in simpler words:" in messages[0]["text"]


def test_simpler_words_before_any_answer_ask_which_procedure():
    messages, _ = run(ActionSimplerWords(), tracker("simpler_words", "simpler please"))
    assert messages[0]["response"] == "utter_simpler_nothing_yet"
    assert len(messages[0]["buttons"]) == 5


def test_reviewed_only_falls_back_to_the_original_words(monkeypatch):
    monkeypatch.setenv(glossary.REVIEWED_ONLY_VARIABLE, "true")
    messages, _ = run(ActionSimplerWords(), tracker("simpler_words", "simpler", procedure="62290", section="risks"))
    text = messages[0]["text"]
    assert PLAIN_NOTE not in text and "no plain-language version of this part yet" in text
    assert "• Bleeding or hematoma." in text  # nothing reviewed: no explanation either
    unknown, _ = run(ActionExplainTerm(), tracker("explain_term", "what is a hematoma"))
    assert unknown[0]["response"] == "utter_term_unknown"


def test_without_a_plain_version_terms_are_explained_inline_on_first_use():
    terms, explained = glossary.default(), set()
    first = explain_inline("Bleeding or hematoma formation.", terms, explained)
    assert first == "Bleeding or hematoma formation (pool of blood under the skin)."
    assert explain_inline("Another hematoma.", terms, explained) == "Another hematoma."
    assert explain_inline("Discitis (disc infection).", terms, set()) == "Discitis (disc infection)."


def test_what_does_that_mean_puts_the_answer_on_screen_in_simpler_words():
    messages, _ = run(ActionExplainTerm(), tracker("explain_term", "what does that mean?", procedure="62290",
                                                    section="duration"))
    assert "CPT 62290 — How long it takes, in simpler words:" in messages[0]["text"]
    nothing, _ = run(ActionExplainTerm(), tracker("explain_term", "what does that mean?"))
    assert nothing[0]["response"] == "utter_which_word"


def test_a_procedure_asked_about_as_a_word_gets_its_overview():
    asked = tracker("explain_term", "what is lysis of adhesions")
    asked.latest_message["entities"] = [{"entity": "procedure", "value": "62264", "start": 8, "end": 26}]
    messages, _ = run(ActionExplainTerm(), asked)
    assert messages[0]["text"].startswith("Epidural adhesiolysis (Racz procedure), CPT 62264 — What it is:")
    # A term next to a procedure's name is still the term.
    term = tracker("explain_term", "what does fluoroscopy mean in a discogram")
    term.latest_message["entities"] = [{"entity": "procedure", "value": "62290", "start": 32, "end": 41}]
    messages, _ = run(ActionExplainTerm(), term)
    assert messages[0]["text"].startswith("Fluoroscopy:")


def test_a_document_without_a_plain_version_gets_its_terms_explained_inline(monkeypatch):
    from actions import plain_versions
    from actions.plain_words import EXPLAINED_NOTE, simpler_answer

    monkeypatch.setattr(plain_versions, "default", lambda: plain_versions.PlainVersions({}))
    text, buttons, more = simpler_answer(KB, KB.get("62287"), "risks")
    lines = text.split("\n")
    assert lines[:2] == ["Percutaneous disc decompression (nucleoplasty), CPT 62287 — Risks and complications, "
                         "in simpler words:", EXPLAINED_NOTE]
    assert "• Bleeding or hematoma formation (pool of blood under the skin)." in lines
    assert "• Discitis (disc infection)." in lines  # already explained by the document
    assert lines[-1] == CARE_TEAM_REMINDER
    assert buttons[0]["payload"] == '/ask_risks{"procedure": "62287"}'


def test_a_long_section_in_simpler_words_comes_in_parts():
    from actions.answers import MORE_BUTTON

    first, events = run(ActionSimplerWords(), tracker("simpler_words", "simpler", procedure="62264",
                                                      section="procedure_steps"))
    assert "1. Getting ready and numbing (anesthesia)" in first[0]["text"]
    assert "6. More than one session" not in first[0]["text"]
    assert first[0]["buttons"][0] == MORE_BUTTON
    assert SlotSet("more_to_show", "plain") in events
    more, events = run(ActionAnswerSection(), tracker("tell_me_more", "tell me more", procedure="62264",
                                                      section="procedure_steps", more_to_show="plain"))
    assert more[0]["text"].startswith("Epidural adhesiolysis (Racz procedure), CPT 62264 — "
                                      "What happens during the procedure, in simpler words (continued):")
    assert "6. More than one session (multiple sessions): If needed, it can include several sessions over one day." \
        in more[0]["text"]
    assert "1. Getting ready" not in more[0]["text"]
    assert SlotSet("more_to_show", None) in events
