"""Rasa NLU component: the `procedure` entity, with the CPT code as its value.

The project's spaCy pipeline (scripts/build_spacy_pipeline.py) has an entity
ruler whose patterns carry the CPT code as their id. Rasa's SpacyEntityExtractor
reports the matched text; this one reports the code, so "discogram", "diskogram"
and "62290" all reach the actions as "62290". Topics the knowledge base does
not cover come as `other_topic`, with the matched words as value.

A message that names no procedure but describes one ("the test where they put dye
in my discs") gets a `described_procedure` entity per candidate
(components/procedure_descriptions.py): one is the procedure meant, several are
asked about.
"""

from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.spacy_entity_extractor import SpacyEntityExtractor

from actions import knowledge_base, retrieval
from components.procedure_descriptions import DESCRIBED, DescriptionIndex


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False, model_from="SpacyPipelineLoadedOnce"
)
class ProcedureEntityExtractor(SpacyEntityExtractor):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"dimensions": ["procedure", "other_topic", DESCRIBED]}

    def __init__(self, config: Dict[Text, Any]) -> None:
        super().__init__(config)
        self.descriptions = DescriptionIndex(knowledge_base.default(), retrieval.default_topics())

    def _extract_entities(self, doc: Any) -> List[Dict[Text, Any]]:
        entities = [
            {
                "entity": ent.label_,
                "value": ent.ent_id_ or ent.text,
                "start": ent.start_char,
                "end": ent.end_char,
                "confidence": None,
            }
            for ent in doc.ents
        ]
        if any(e["entity"] == "procedure" for e in entities):
            return entities
        return entities + [
            {"entity": DESCRIBED, "value": c.code, "start": 0, "end": len(doc.text),
             "confidence": round(c.score, 2)}
            for c in self.descriptions.candidates(without_names(doc.text, entities))
        ]


def without_names(text: str, entities: List[Dict[Text, Any]]) -> str:
    """The text without the topics it names: "the risks of spinal fusion" describes no
    procedure, though the spacer's document speaks of fusion."""
    for entity in sorted(entities, key=lambda e: -e["start"]):
        text = text[:entity["start"]] + " " + text[entity["end"]:]
    return text
