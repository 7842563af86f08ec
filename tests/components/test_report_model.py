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
from components.report_model import EXAMPLES, ReportModel, examples

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
    texts = [UNREAD_REPORT, *BENIGN]
    assert loaded.model.probabilities(texts) == pytest.approx(fitted.model.probabilities(texts))


def test_a_report_the_patterns_miss_is_escalated_by_the_net(trained):
    _, detector = trained
    assert RedFlagMatcher().match(UNREAD_REPORT) is None
    assert intent(detector, UNREAD_REPORT) == "urgent_symptom"
    # Turned off, the patterns' reading stands.
    off = RedFlagDetector({**detector.config, "learned_threshold": 1.1}, model=detector.model)
    assert intent(off, UNREAD_REPORT) == "ask_recovery"


@pytest.mark.parametrize("text", BENIGN)
def test_benign_messages_with_symptom_words_are_not_escalated(trained, text):
    assert intent(trained[1], text) == "ask_recovery"


class SureOfEverything(ReportModel):
    def __init__(self):
        pass

    def probabilities(self, texts):
        return [1.0] * len(texts)


def test_a_message_that_names_no_symptom_is_never_escalated_by_the_net():
    detector = RedFlagDetector(RedFlagDetector.get_default_config(), model=SureOfEverything())
    assert intent(detector, "so worried about tomorrow, what time should I arrive?") == "ask_recovery"


def test_the_tier_is_that_of_the_flag_named():
    # Read by the patterns as long past; when the net reads a report, the flag named sets the tier.
    text = "years ago i couldnt feel my legs"
    assert RedFlagMatcher().match(text) is None
    detector = RedFlagDetector(RedFlagDetector.get_default_config(), model=SureOfEverything())
    assert intent(detector, text) == "urgent_emergency"


def test_new_examples_retrain_the_net(tmp_path):
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    config = {**RedFlagDetector.get_default_config(), "examples": str(tmp_path / "examples")}
    before = RedFlagDetector.fingerprint_addon(config)
    reports = tmp_path / "examples" / "set_1" / "urgent_reports.yml"
    reports.write_text(reports.read_text() + '  - text: "my back is on fire since the racz"\n    tier: care_team\n')
    assert RedFlagDetector.fingerprint_addon(config) != before
