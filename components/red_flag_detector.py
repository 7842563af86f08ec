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
"""

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.red_flags import DEFAULT_PATH, Assessment, RedFlagMatcher
from components.spelling_normaliser import AS_WRITTEN


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

    def assess(self, message: Message) -> Assessment:
        """The corrected text, and the patient's own words if the spelling fix changed them:
        a pattern's word ("painkillers") may be one the training data spells differently."""
        text = message.get(TEXT) or ""
        found = self.matcher.assess(text)
        as_written = message.get(AS_WRITTEN)
        if not found.reported and as_written and as_written != text:
            return max(found, self.matcher.assess(as_written), key=lambda f: (bool(f.reported), f.symptom_now))
        return found

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
