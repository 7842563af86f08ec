"""A question that names its section is about that section, when DIET is unsure."""

import pytest
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.section_keywords import SectionKeywordClassifier


@pytest.fixture(scope="module")
def classifier():
    return SectionKeywordClassifier(SectionKeywordClassifier.get_default_config())


def message(text, intent, confidence, procedure=True):
    entities = [{"entity": "procedure", "value": "62264"}] if procedure else []
    ranking = [{"name": intent, "confidence": confidence}]
    return Message(data={TEXT: text, INTENT: ranking[0], INTENT_RANKING_KEY: ranking, ENTITIES: entities})


def intent_after(classifier, *args, **kwargs):
    return classifier.process([message(*args, **kwargs)])[0].get(INTENT)["name"]


def test_an_unsure_prediction_yields_to_the_section_named(classifier):
    assert intent_after(classifier, "what are the indications for LOA", "ask_purpose", 0.76) == "ask_indications"
    assert intent_after(classifier, "what kind of facility does PDD", "ask_equipment", 0.39) == "ask_setting"


def test_a_confident_prediction_is_kept(classifier):
    assert intent_after(classifier, "what are the indications for LOA", "ask_purpose", 0.95) == "ask_purpose"


def test_two_sections_named_is_left_to_diet(classifier):
    assert intent_after(classifier, "what are the risks and benefits", "ask_risks", 0.5) == "ask_risks"


def test_out_of_scope_is_switched_only_when_our_procedure_is_named(classifier):
    assert intent_after(classifier, "where do I park", "out_of_scope", 0.6, procedure=False) == "out_of_scope"
    assert intent_after(classifier, "where is the racz procedure done", "out_of_scope", 0.6) == "ask_setting"


def test_urgent_and_other_intents_are_never_touched(classifier):
    assert intent_after(classifier, "is it safe, my legs are numb", "urgent_emergency", 0.5) == "urgent_emergency"
    assert intent_after(classifier, "thanks, what are the risks", "thanks", 0.5) == "thanks"
