"""Rasa's DIETClassifier, loaded for answering without building its training graph.

Rasa 3.6 loads a DIET model by first training it on one example (`RasaModel.load`:
"need to train on 1 example to build weights of the correct size"), which traces
the whole training graph: 5 of the Rasa server's ~15 s start. Answering needs only
the prediction graph: here the saved weights are restored as the first prediction
creates them (TensorFlow's deferred restoration) and the optimizer's are skipped.
The same predictions to the last digit (tests/components/test_diet_classifier.py);
training, and loading for finetuning, are Rasa's own.
"""

from __future__ import annotations

from typing import Any, Optional, Text, Type

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIET, DIETClassifier
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel


class PredictionDIET(DIET):
    @classmethod
    def load(
        cls, model_file_name: Text, model_data_example: RasaModelData,
        predict_data_example: Optional[RasaModelData] = None, finetune_mode: bool = False,
        *args: Any, **kwargs: Any,
    ) -> RasaModel:
        if finetune_mode or predict_data_example is None:
            return super().load(model_file_name, model_data_example, predict_data_example, finetune_mode,
                                *args, **kwargs)
        model = cls(*args, **kwargs)
        model.load_weights(model_file_name).expect_partial()
        model.run_inference(predict_data_example)  # creates the weights, which take the saved values
        return model


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=True,
)
class QuickLoadingDIETClassifier(DIETClassifier):
    @staticmethod
    def model_class() -> Type[RasaModel]:
        return PredictionDIET
