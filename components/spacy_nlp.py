"""Rasa's SpacyNLP, with the spaCy pipeline loaded once instead of twice.

Rasa's recipe makes two nodes of SpacyNLP: one provides the loaded pipeline, the other
makes each message's spaCy doc with the pipeline that the first provides. Rasa 3.6
loads the pipeline in both (0.7 s each at start, and its memory twice), though the
second never reads its own. Here only the providing node loads it.
"""

from __future__ import annotations

from typing import Any, Dict, Text

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.utils.spacy_utils import SpacyNLP


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MODEL_LOADER, DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER],
    is_trainable=False,
    model_from="SpacyPipelineLoadedOnce",
)
class SpacyPipelineLoadedOnce(SpacyNLP):
    @classmethod
    def create(
        cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
        execution_context: ExecutionContext,
    ) -> SpacyPipelineLoadedOnce:
        node = execution_context.graph_schema.nodes.get(execution_context.node_name)
        if node is None or node.fn == "provide":  # None: created outside a graph, as Rasa's
            return super().create(config, model_storage, resource, execution_context)
        # The node that runs messages through the pipeline: it gets the pipeline as
        # `process`'s `model` argument (model_from above).
        return cls(None, {**cls.get_default_config(), **config})
