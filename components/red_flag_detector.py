"""Rasa NLU component: urgent symptoms take over the intent, before anything else.

Runs after the intent classifiers (and the FallbackClassifier), so a message
that reports a red flag is routed to emergency advice whatever DIET predicted
and whatever the conversation was doing. DIET's urgent intents catch reports the
patterns miss, so they are kept for any message that reports a symptom now; on a
message with no symptom reported now ("can I drive myself home after the
discography?", "I don't have a fever, can I shower?") the next intent is used.
A symptom only asked about ("what should I do if I get a fever?") is passed on
as `red_flag_conditional` (its tier), for the answer to say when to call. It
reads the patient's own words as well as the spelling-fixed text.

A message that names a symptom but that the patterns do not read as a report is
escalated all the same when the learned net (components/report_model.py, trained
with the model from data/safety/examples/) finds it likely enough a report: with
the tier of the flag it names, else the tier the net finds likelier.
"""

from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.red_flags import DEFAULT_PATH, Assessment, RedFlag, RedFlagMatcher
from components.report_model import EXAMPLES, TextRegression, examples, examples_fingerprint
from components.spelling_normaliser import AS_WRITTEN


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class RedFlagDetector(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # C and the threshold: chosen by training on two example sets' writers and
        # scoring the third, in turn (docs/performance.md); a threshold above 1 turns
        # the learned net off.
        return {"red_flags": str(DEFAULT_PATH), "examples": str(EXAMPLES), "C": 4.0, "learned_threshold": 0.8}

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> str:
        # The examples are not Rasa training data: retrain when they change. When the
        # net is restored from Rasa's cache, Rasa 3.6 calls this with the cache's own
        # config ({"output": ...}), where the key no longer matters.
        return examples_fingerprint(Path(config.get("examples", EXAMPLES)))

    def __init__(self, config: Dict[Text, Any], model_storage: Optional[ModelStorage] = None,
                 resource: Optional[Resource] = None, net: Optional[Dict[str, TextRegression]] = None) -> None:
        self.config, self._model_storage, self._resource = config, model_storage, resource
        self.net = net  # "reported": now or not; "emergency": which tier, for a report
        self.matcher = RedFlagMatcher(config["red_flags"])
        self.unnamed = {tier: RedFlag("symptom_reported", tier, intent) for tier, intent in self.matcher.tier_intents.items()}

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "RedFlagDetector":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        reports, benign = examples(Path(self.config["examples"]))
        texts = [text for text, _ in reports]
        self.net = {
            "reported": TextRegression.fit(texts + benign, [True] * len(texts) + [False] * len(benign), self.config["C"]),
            "emergency": TextRegression.fit(texts, [tier == "emergency" for _, tier in reports], self.config["C"]),
        }
        with self._model_storage.write_to(self._resource) as folder:
            for name, regression in self.net.items():
                regression.save(folder, name)
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "RedFlagDetector":
        with model_storage.read_from(resource) as folder:
            net = {name: TextRegression.restore(folder, name) for name in ("reported", "emergency")}
        return cls(config, model_storage, resource, net)

    def assess(self, message: Message) -> Assessment:
        """The corrected text, and the patient's own words if the spelling fix changed them:
        a pattern's word ("painkillers") may be one the training data spells differently."""
        text = message.get(TEXT) or ""
        found = self.matcher.assess(text)
        as_written = message.get(AS_WRITTEN)
        if not found.reported and as_written and as_written != text:
            other = self.matcher.assess(as_written)
            found = replace(max(found, other, key=lambda f: (bool(f.reported), f.symptom_now)),
                            names_symptom=found.names_symptom or other.names_symptom)
        if not found.reported and found.names_symptom and (learned := self.learned_report(as_written or text)):
            return replace(found, reported=found.mentioned or learned, conditional=None)
        return found

    def learned_report(self, text: str) -> Optional[RedFlag]:
        """The net's reading of the patient's own words (the examples are as patients wrote them)."""
        if self.net is None or self.net["reported"].probability(text) < self.config["learned_threshold"]:
            return None
        return self.unnamed["emergency" if self.net["emergency"].probability(text) >= 0.5 else "care_team"]

    def process(self, messages: List[Message]) -> List[Message]:
        urgent_intents = set(self.matcher.tier_intents.values())
        for message in messages:
            found = self.assess(message)
            ranking = message.get(INTENT_RANKING_KEY) or []
            if found.reported:
                urgent = {"name": found.reported.intent, "confidence": 1.0}
                ranking = [urgent, *(i for i in ranking if i.get("name") != found.reported.intent)]
                message.set(INTENT, urgent, add_to_output=True)
                message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
                message.set("red_flag", found.reported.key, add_to_output=True)
                continue
            if (message.get(INTENT) or {}).get("name") in urgent_intents and not found.symptom_now:
                ranking = [i for i in ranking if i.get("name") not in urgent_intents]
                message.set(INTENT, ranking[0] if ranking else {"name": "nlu_fallback", "confidence": 1.0},
                            add_to_output=True)
                message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            if found.conditional:
                message.set("red_flag_conditional", found.conditional.tier, add_to_output=True)
        return messages
