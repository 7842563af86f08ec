"""Rasa's DIETClassifier, loaded for answering without building its training graph.

Rasa 3.6 loads a DIET model by first training it on one example (`RasaModel.load`:
"need to train on 1 example to build weights of the correct size"), which traces
the whole training graph: 5 of the Rasa server's ~15 s start. Answering needs only
the prediction graph: here the saved weights are restored as the first prediction
creates them (TensorFlow's deferred restoration) and the optimizer's are skipped.
The prediction graph is also traced without AutoGraph: its Python code has no
control flow on tensor values, and converting its source took 2.6 of the 3.3 s
that tracing takes.

Each message is then predicted without Rasa's batching machinery: its features go
straight into the arrays that Rasa's would make of a batch of one (a third of DIET's
time per message), and into the traced graph without TensorFlow's checks of its
arguments against the graph's signature (another 0.5 ms), which these arrays match by
construction. The same arrays and predictions to the last digit
(tests/components/test_diet_classifier.py); training, and loading for finetuning,
are Rasa's own.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple, Type

import numpy as np
import scipy.sparse
import tensorflow as tf
from keras.utils import tf_utils
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIET, DIETClassifier
from rasa.shared.constants import DIAGNOSTIC_DATA
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.tensorflow.constants import FEATURIZERS
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel

from components.sparse_blocks import side_by_side


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
        model.prediction_graph = model._tf_predict_step.get_concrete_function()
        model.prediction_signature = tuple(tf.nest.flatten(model.prediction_graph.structured_input_signature))
        return model

    prediction_graph: Optional[Any] = None
    prediction_signature: Tuple[tf.TensorSpec, ...] = ()

    def _rasa_predict(self, batch_in: Tuple[np.ndarray, ...]) -> Dict[Text, Any]:
        graph = self.prediction_graph
        if graph is not None and _fits(batch_in, self.prediction_signature):
            # What tf.function's call ends in, after its checks of the arguments.
            outputs = tf_utils.sync_to_numpy_or_python_type(
                graph._call_flat([tf.constant(array) for array in batch_in], graph.captured_inputs))
            if DIAGNOSTIC_DATA in outputs:
                outputs[DIAGNOSTIC_DATA] = self._empty_lists_to_none_in_dict(outputs[DIAGNOSTIC_DATA])
            return outputs
        if self._tf_predict_step is None and not self._run_eagerly:
            # As Rasa's RasaModel._rasa_predict makes it, but with autograph off.
            self._tf_predict_step = tf.function(
                self.predict_step, input_signature=self._dynamic_signature(batch_in), autograph=False)
        return super()._rasa_predict(batch_in)


def _fits(batch_in: Tuple[np.ndarray, ...], signature: Tuple[tf.TensorSpec, ...]) -> bool:
    """Whether the arrays are those the graph was traced for: as many, each of its dtype and shape."""
    return len(batch_in) == len(signature) and all(
        array.dtype == spec.dtype.as_numpy_dtype and spec.shape.is_compatible_with(array.shape)
        for array, spec in zip(batch_in, signature))


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=True,
)
class QuickLoadingDIETClassifier(DIETClassifier):
    @staticmethod
    def model_class() -> Type[RasaModel]:
        return PredictionDIET

    def _predict(self, message: Message) -> Optional[Dict[Text, Any]]:
        batch = prediction_batch(message, self.component_config[FEATURIZERS]) if self.model is not None else None
        if batch is None:
            return super()._predict(message)
        return self.model._rasa_predict(batch)  # Rasa's run_inference of a batch of one returns it


def prediction_batch(message: Message, featurizers: List[Text]) -> Optional[Tuple[np.ndarray, ...]]:
    """The arrays Rasa's DIETClassifier makes of one message to predict its intent (its
    `_create_model_data`, then `run_inference`'s batching): the text's mask, its sparse
    sentence features, its sparse sequence features (each as indices, values and shape, the
    featurizers' matrices side by side) and its length. None when the message has dense
    features, lacks either kind of sparse ones, or its featurizers disagree on its length:
    Rasa's own way takes those."""
    features = [f for f in message.features
                if f.attribute == TEXT and (not featurizers or f.origin in featurizers)]
    if any(f.is_dense() for f in features):
        return None
    sentence = [f.features for f in features if f.type == FEATURE_TYPE_SENTENCE]
    sequence = [f.features for f in features if f.type == FEATURE_TYPE_SEQUENCE]
    if not sentence or not sequence or len({matrix.shape[0] for matrix in sequence}) > 1:
        return None
    sequence_length = sequence[0].shape[0]
    return (np.ones((1, 1, 1), dtype=np.float32), *_sparse_values(sentence), *_sparse_values(sequence),
            np.array([sequence_length], dtype=np.float32))


def _sparse_values(matrices: List[scipy.sparse.spmatrix]) -> List[np.ndarray]:
    """Indices (example 0, row, column), values and shape of the matrices side by side,
    entries in the order scipy.sparse.hstack puts them (Rasa's `_scipy_matrix_to_values`)."""
    matrix = side_by_side(matrices)
    rows, columns = matrix.row.astype(np.int64), matrix.col.astype(np.int64)
    return [np.stack([np.zeros_like(rows), rows, columns], axis=1), matrix.data.astype(np.float32),
            np.array([1, *matrix.shape], dtype=np.int64)]
