"""Rasa's DIETClassifier, loaded for answering without building its training graph.

Rasa 3.6 loads a DIET model by first training it on one example (`RasaModel.load`:
"need to train on 1 example to build weights of the correct size"), which traces
the whole training graph: 5 of the Rasa server's ~15 s start. Answering needs only
the prediction graph: here the saved weights are restored as the first prediction
creates them (TensorFlow's deferred restoration) and the optimizer's are skipped.
The prediction graph is also traced without AutoGraph: its Python code has no
control flow on tensor values, and converting its source took 2.6 of the 3.3 s
that tracing takes. The same predictions to the last digit
(tests/components/test_diet_classifier.py); training, and loading for finetuning,
are Rasa's own.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text, Tuple, Type

import numpy as np
import tensorflow as tf
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
        # The weights are created, and take the saved values, in an eager first prediction.
        # Created inside the traced function, they made TensorFlow trace it twice (0.25 s
        # more at start than this).
        model.run_eagerly = True
        model.run_inference(predict_data_example)
        model.run_eagerly = False
        model.run_inference(predict_data_example)  # traces the prediction graph, once
        return model

    def _rasa_predict(self, batch_in: Tuple[np.ndarray, ...]) -> Dict[Text, Any]:
        if self._tf_predict_step is None and not self._run_eagerly:
            # As Rasa's RasaModel._rasa_predict makes it, but with autograph off.
            self._tf_predict_step = tf.function(
                self.predict_step, input_signature=self._dynamic_signature(batch_in), autograph=False)
        return super()._rasa_predict(batch_in)


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=True,
)
class QuickLoadingDIETClassifier(DIETClassifier):
    @staticmethod
    def model_class() -> Type[RasaModel]:
        return PredictionDIET
