"""Rasa NLU component: the `procedure` entity, with the CPT code as its value.

The project's spaCy pipeline (scripts/build_spacy_pipeline.py) has an entity
ruler whose patterns carry the CPT code as their id. Rasa's SpacyEntityExtractor
reports the matched text; this one reports the code, so "discogram", "diskogram"
and "62290" all reach the actions as "62290". Topics the knowledge base does
not cover come as `other_topic`, with the matched words as value.
"""

from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.spacy_entity_extractor import SpacyEntityExtractor


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False, model_from="SpacyNLP"
)
class ProcedureEntityExtractor(SpacyEntityExtractor):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"dimensions": ["procedure", "other_topic"]}

    @staticmethod
    def _extract_entities(doc: Any) -> List[Dict[Text, Any]]:
        return [
            {
                "entity": ent.label_,
                "value": ent.ent_id_ or ent.text,
                "start": ent.start_char,
                "end": ent.end_char,
                "confidence": None,
            }
            for ent in doc.ents
        ]
