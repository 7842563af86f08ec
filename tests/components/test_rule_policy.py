"""The policy that reads only the turns a rule can reach predicts what Rasa's RulePolicy does."""

import pytest
import yaml
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.importers.importer import TrainingDataImporter

from components.rule_policy import RecentTurnsRulePolicy, recent_states
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def policies(tmp_path_factory):
    """Rasa's RulePolicy trained on data/, and ours with the same rules, and the domain."""
    importer = TrainingDataImporter.load_from_config(
        str(ROOT / "config.yml"), str(ROOT / "domain.yml"), [str(ROOT / "data")])
    domain = importer.get_domain()
    trackers = TrainingDataGenerator(importer.get_stories(), domain, augmentation_factor=0).generate()
    storage = LocalModelStorage(tmp_path_factory.mktemp("storage"))
    context = ExecutionContext(GraphSchema({}), "test")
    settings, = (p for p in yaml.safe_load((ROOT / "config.yml").read_text())["policies"]
                 if p["name"] == "components.rule_policy.RecentTurnsRulePolicy")
    config = {**RulePolicy.get_default_config(), **{k: v for k, v in settings.items() if k != "name"}}
    rasa_policy = RulePolicy.create(config, storage, Resource("rules"), context)
    rasa_policy.train(trackers, domain)
    ours = RecentTurnsRulePolicy(dict(config), storage, Resource("rules"), context, lookup=rasa_policy.lookup)
    return rasa_policy, ours, domain


def conversations(domain) -> list[list]:
    """The story tests' conversations, and all of them one after the other as one long one."""
    importer = TrainingDataImporter.load_from_config(
        str(ROOT / "config.yml"), str(ROOT / "domain.yml"), [str(ROOT / "tests" / "test_stories.yml")])
    stories = TrainingDataGenerator(importer.get_stories(), domain, augmentation_factor=0).generate_story_trackers()
    talks = [list(tracker.events) for tracker in stories]
    return [*talks, [event for talk in talks for event in talk]]


def test_every_turn_of_every_conversation_gets_rasas_prediction(policies):
    rasa_policy, ours, domain = policies
    compared = 0
    for events in conversations(domain):
        for end, event in enumerate(events):
            if not isinstance(event, ActionExecuted):
                continue
            tracker = DialogueStateTracker.from_events("patient", events[:end], domain.slots)
            expected, got = rasa_policy._predict(tracker, domain)[0], ours._predict(tracker, domain)[0]
            past = tracker.past_states(domain)
            for count in (1, 2, 3):
                assert recent_states(tracker, domain, count) == past[-count:]
            assert (got.probabilities, got.hide_rule_turn, got.is_end_to_end_prediction) == \
                   (expected.probabilities, expected.hide_rule_turn, expected.is_end_to_end_prediction)
            compared += 1
    assert compared > 100


def test_the_turns_read_are_as_many_as_the_longest_rule_has(policies):
    _, ours, _ = policies
    # data/rules.yml: "after the answer to a question, listen" is two turns long.
    assert ours._longest_rule() == 2
