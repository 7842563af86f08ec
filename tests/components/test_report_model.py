"""The learned net under the red-flag patterns, trained here on the real examples."""

import shutil

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.red_flag_detector import RedFlagDetector
from components.red_flags import RedFlagMatcher
from components.report_model import EXAMPLES, examples

# A report in words the patterns lack; benign messages with symptom words.
UNREAD_REPORT = "my leg has been acting weird and weak since the spacer yesterday, kinda scared"
BENIGN = [
    "will I have a headache after the procedure?",
    "my neighbour had a fever after her epidural, does that happen?",
    "what are the signs of infection I should watch for?",
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The detector as `rasa train` stores it and the server loads it."""
    storage = LocalModelStorage(tmp_path_factory.mktemp("model"))
    context = ExecutionContext(GraphSchema({}), "test")
    config = RedFlagDetector.get_default_config()
    fitted = RedFlagDetector.create(config, storage, Resource("red_flags"), context)
    fitted.train(TrainingData())
    return fitted, RedFlagDetector.load(config, storage, Resource("red_flags"), context)


def intent(detector, text):
    message = Message(data={TEXT: text, INTENT: {"name": "ask_recovery", "confidence": 0.9}})
    return detector.process([message])[0].get(INTENT)["name"]


def test_the_examples_are_the_three_helper_written_pairs():
    reports, benign = examples(EXAMPLES)
    assert len(reports) >= 750 and len(benign) >= 750


def test_the_stored_net_reads_as_the_trained_one(trained):
    fitted, loaded = trained
    for name in ("reported", "emergency"):
        for text in [UNREAD_REPORT, *BENIGN]:
            assert loaded.net[name].probability(text) == pytest.approx(fitted.net[name].probability(text))


def test_a_report_the_patterns_miss_is_escalated_by_the_net(trained):
    _, detector = trained
    assert RedFlagMatcher().match(UNREAD_REPORT) is None
    assert intent(detector, UNREAD_REPORT) in {"urgent_emergency", "urgent_symptom"}
    # Turned off, the patterns' reading stands.
    off = RedFlagDetector({**detector.config, "learned_threshold": 1.1}, net=detector.net)
    assert intent(off, UNREAD_REPORT) == "ask_recovery"


@pytest.mark.parametrize("text, emergency", [
    ("my husband collapsed after the procedure and we cant wake him properly", True),
    ("hes gasping and his lips look blue since he got home", True),
    ("the needle spot is a bit red and warm this evening", False),
    ("ive been throwing up since the sedation wore off", False),
])
def test_the_net_tells_an_emergency_from_a_call_to_the_care_team(trained, text, emergency):
    assert (trained[1].net["emergency"].probability(text) >= 0.5) is emergency


@pytest.mark.parametrize("text", BENIGN)
def test_benign_messages_with_symptom_words_are_not_escalated(trained, text):
    assert intent(trained[1], text) == "ask_recovery"


class Sure:
    """A regression sure of everything, for the rules around the net."""

    def __init__(self, probability):
        self.value = probability

    def probability(self, text):
        return self.value


SURE_OF_A_REPORT = {"reported": Sure(1.0), "emergency": Sure(0.0)}


def test_a_message_that_names_no_symptom_is_never_escalated_by_the_net():
    detector = RedFlagDetector(RedFlagDetector.get_default_config(), net=SURE_OF_A_REPORT)
    assert intent(detector, "so worried about tomorrow, what time should I arrive?") == "ask_recovery"


def test_the_tier_is_that_of_the_flag_named():
    # Read by the patterns as long past; when the net reads a report, the flag named sets the tier.
    text = "years ago i couldnt feel my legs"
    assert RedFlagMatcher().match(text) is None
    detector = RedFlagDetector(RedFlagDetector.get_default_config(), net=SURE_OF_A_REPORT)
    assert intent(detector, text) == "urgent_emergency"  # the net alone would say the care team


def test_new_examples_retrain_the_net(tmp_path):
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    config = {**RedFlagDetector.get_default_config(), "examples": str(tmp_path / "examples")}
    before = RedFlagDetector.fingerprint_addon(config)
    reports = tmp_path / "examples" / "set_1" / "urgent_reports.yml"
    reports.write_text(reports.read_text() + '  - text: "my back is on fire since the racz"\n    tier: care_team\n')
    assert RedFlagDetector.fingerprint_addon(config) != before


def test_a_net_restored_from_rasas_cache_is_fingerprinted_without_its_config():
    # Rasa 3.6 replaces a cached node by a PrecomputedValueProvider and then fingerprints
    # it with that config: `make train` after a change elsewhere failed with a KeyError.
    assert RedFlagDetector.fingerprint_addon({"output": None}) == RedFlagDetector.fingerprint_addon(
        RedFlagDetector.get_default_config())
