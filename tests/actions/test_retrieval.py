"""Pointed questions find the bullet that answers them, or an honest "the document doesn't say"."""

import pytest

from actions import knowledge_base, retrieval
from actions.retrieval import Match, NotInDocument


@pytest.fixture(scope="module")
def search():
    kb, retriever = knowledge_base.default(), retrieval.default()
    return lambda question, code, section: retriever.search(question, kb.get(code), section)


@pytest.mark.parametrize(
    "question, code, section, expected_section, bullet",
    [
        ("can I drive home after a discogram?", "62290", "recovery", "preparation", "Arranging for transportation home"),
        ("do I have to fast?", "62287", "preparation", "preparation", "Fasting for 6-8 hours"),
        ("will I be asleep?", "+22870", "patient_experience", "patient_experience", "During the procedure: Patient will be under anesthesia"),
        ("can I take my blood thinner?", "62264", "preparation", "preparation", "Medication adjustments might be necessary"),
        ("is infection a risk?", "62290", "risks", "risks", "Infection at the injection site."),
        ("when can I go back to work?", "62287", "recovery", "recovery", "Gradual return to normal activities"),
        ("how much can i lift after", "62287", "recovery", "recovery", "Avoid heavy lifting"),
        ("should I stop taking aspirin before", "62290", "preparation", "preparation", "Avoiding anti-inflammatory medications"),
        # "laser" is a word of a name ("laser disc decompression") that is not in the question
        ("Do they use a laser during nucleoplasty?", "62287", "equipment", "procedure_steps", "Through the needle"),
        # the section asked about speaks of the incision: not the steps' "A small incision is made"
        ("How do I look after the incision after the spacer?", "+22870", "recovery", "recovery",
         "Post-procedure care includes"),
        # "how fast" and "salt water" are not about fasting
        ("how fast will I recover from the racz?", "62264", "recovery", "recovery", None),
        ("will I feel the salt water go in?", "62264", "patient_experience", "patient_experience", None),
        # the story before the question is not what is asked (no "physical therapy" answer)
        ("I've had sciatica for months and physical therapy didn't help. Am I the kind of patient "
         "a nucleoplasty is meant for?", "62287", "indications", "indications", None),
    ],
)
def test_pointed_questions_get_the_bullet(search, question, code, section, expected_section, bullet):
    found = search(question, code, section)
    if bullet is None:  # the whole section asked about
        assert found is None
        return
    assert isinstance(found, Match)
    assert found.section_key == expected_section
    assert found.passages[0][1].full_text.startswith(bullet)


@pytest.mark.parametrize(
    "question, code, topic",
    [
        ("can I shower after the racz procedure?", "62264", "showering and bathing"),
        ("can I drink alcohol after?", "62287", "alcohol"),
        ("is it ok to fly the next day", "62290", "flying and travel"),
    ],
)
def test_topics_the_document_never_mentions_are_said_so(search, question, code, topic):
    assert search(question, code, "recovery") == NotInDocument(topic, in_any_document=True)


def test_costs_and_scheduling_are_in_no_document(search):
    assert search("how much does a discogram cost", "62290", "summary") == NotInDocument("costs and insurance", False)
    assert search("can i move my nucleoplasty to a friday", "62287", "summary") == NotInDocument(
        "appointments and scheduling", False)


@pytest.mark.parametrize(
    "question, section",
    [
        ("walk me through what happens during nucleoplasty", "procedure_steps"),  # not about walking
        ("does nucleoplasty carry a risk of paralysis", "risks"),  # not about carrying things
        ("will it work for my pain", "benefits"),  # not about going back to work
        ("is nucleoplasty done at the hospital or in a doctor's office?", "setting"),  # nor is an office
    ],
)
def test_words_with_another_meaning_are_not_topics(search, question, section):
    found = search(question, "62287", section)
    assert found is None or {key for key, _ in found.passages} == {section}


@pytest.mark.parametrize(
    "question, section",
    [
        ("what are the risks", "risks"),
        ("how long does it take", "duration"),
        ("what happens during the procedure", "procedure_steps"),
        ("what is the recovery like", "recovery"),
        ("will it hurt", "patient_experience"),
        ("how long does a discogram take, I'm nervous", "duration"),
    ],
)
def test_general_section_questions_get_the_whole_section(search, question, section):
    assert search(question, "62290", section) is None


def test_a_phrase_is_found_wherever_and_as_often_as_the_question_has_it():
    index = retrieval.PhraseIndex([(("drink",), "drink"), (("drink", "alcohol"), "alcohol"), (("drive",), "drive")])
    words = ("can", "i", "drink", "alcohol", "and", "drink", "coffee")
    assert list(index.found(words)) == [(("drink",), "drink"), (("drink", "alcohol"), "alcohol"), (("drink",), "drink")]
    assert list(index.found(("drink",))) == [(("drink",), "drink")]  # a longer phrase is not read past the end
    assert list(index.found(("i", "walk"))) == []


def test_section_fit_ranks_the_sections_by_the_question_words():
    kb, retriever = knowledge_base.default(), retrieval.default()
    fit = retriever.section_fit("will the nucleoplasty be in a hospital or an outpatient clinic?", kb.get("62287"))
    assert fit["setting"] == 1.0
    assert all(score < 1.0 for key, score in fit.items() if key != "setting")
    # no word of the question besides the name and the asking words: nothing to weigh
    assert retriever.section_fit("tell me about the nucleoplasty", kb.get("62287")) == {}
