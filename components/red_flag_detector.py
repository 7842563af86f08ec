"""Rasa NLU component: urgent symptoms take over the intent, before anything else.

Runs after the intent classifiers (and the FallbackClassifier), so a message
that reports a red flag is routed to emergency advice whatever DIET predicted
and whatever the conversation was doing. A prediction of an urgent intent by
DIET is kept: this component only ever escalates.
"""

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.red_flags import DEFAULT_PATH, RedFlagMatcher


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RedFlagDetector(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"red_flags": str(DEFAULT_PATH)}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.matcher = RedFlagMatcher(config["red_flags"])

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "RedFlagDetector":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            flag = self.matcher.match(message.get(TEXT) or "")
            if flag is None:
                continue
            urgent = {"name": flag.intent, "confidence": 1.0}
            ranking = [i for i in message.get(INTENT_RANKING_KEY) or [] if i.get("name") != flag.intent]
            message.set(INTENT, urgent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [urgent, *ranking], add_to_output=True)
            message.set("red_flag", flag.key, add_to_output=True)
        return messages
