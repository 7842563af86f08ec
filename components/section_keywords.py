"""Rasa NLU component: a question that names its section is about that section.

"What are the indications for LOA?" names the indications; when DIET is unsure
(below `max_confidence`) and the message names exactly one section (keywords in
data/knowledge_base/document_format.yml), the intent becomes that section's.
A message DIET calls out of scope, not understood or a bare procedure name is
only switched when it names one of our procedures: "where do I park?" stays
out of scope. Runs after DIET and before the FallbackClassifier.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from actions import knowledge_base
from actions.answers import SECTION_INTENT_PREFIX
from components.procedure_descriptions import DESCRIBED

NEEDS_A_PROCEDURE = {"out_of_scope", "about_procedure", "nlu_fallback"}


def _pattern(keywords: list[str]) -> re.Pattern | None:
    if not keywords:
        return None
    words = "|".join(re.escape(k.lower()) for k in sorted(keywords, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{words})(?!\w)")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SectionKeywordClassifier(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"max_confidence": 0.8}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.max_confidence = config["max_confidence"]
        specs = knowledge_base.default().section_specs
        self.patterns = {
            f"{SECTION_INTENT_PREFIX}{s.key}": p for s in specs if (p := _pattern(s.keywords))
        }

    @classmethod
    def create(
        cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SectionKeywordClassifier":
        return cls(config)

    def named_section(self, text: str) -> str | None:
        text = re.sub(r"['’]", "", text.lower())
        named = [intent for intent, pattern in self.patterns.items() if pattern.search(text)]
        return named[0] if len(named) == 1 else None

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            name, confidence = intent.get("name") or "", intent.get("confidence") or 0.0
            if confidence >= self.max_confidence:
                continue
            if not (name.startswith(SECTION_INTENT_PREFIX) or name in NEEDS_A_PROCEDURE):
                continue
            names_procedure = any(e.get("entity") in ("procedure", DESCRIBED) for e in message.get(ENTITIES) or [])
            if name in NEEDS_A_PROCEDURE and not names_procedure:
                continue
            section = self.named_section(message.get(TEXT) or "")
            if section and section != name:
                chosen = {"name": section, "confidence": self.max_confidence}
                ranking = [i for i in message.get(INTENT_RANKING_KEY) or [] if i.get("name") != section]
                message.set(INTENT, chosen, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [chosen, *ranking], add_to_output=True)
        return messages
