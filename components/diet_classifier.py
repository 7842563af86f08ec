"""Rasa's DIETClassifier, answering from a prediction graph saved at training.

Rasa 3.6 loads a DIET model by first training it on one example (`RasaModel.load`:
"need to train on 1 example to build weights of the correct size"), which traces the
whole training graph, and then traces the prediction graph: seconds of the Rasa
server's start. Here training also saves the traced prediction graph with its weights
(a TensorFlow SavedModel beside Rasa's files), and answering loads only that: no Keras
model is built. Finetuning, and a model saved without the graph, load Rasa's way.

Each message is predicted without Rasa's batching machinery: its features go straight
into the arrays that Rasa's would make of a batch of one (a third of DIET's time per
message), and into the graph without TensorFlow's checks of its arguments against the
graph's signature (another 0.5 ms), which these arrays match by construction. The same
arrays and predictions to the last digit (tests/components/test_diet_classifier.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple, Type

import numpy as np
import scipy.sparse
import tensorflow as tf
from keras.utils import tf_utils
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIET, LABEL_KEY, DIETClassifier
from rasa.shared.constants import DIAGNOSTIC_DATA
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.tensorflow.constants import FEATURIZERS, INTENT_CLASSIFICATION
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel
from rasa.utils.train_utils import create_data_generators

from components.sparse_blocks import side_by_side


class PredictionDIET(DIET):
    """Rasa's DIET, its prediction graph traced without AutoGraph: its Python code has no
    control flow on tensor values, and converting its source took 2.6 of the 3.3 s that
    tracing takes."""

    def _rasa_predict(self, batch_in: Tuple[np.ndarray, ...]) -> Dict[Text, Any]:
        if self._tf_predict_step is None and not self._run_eagerly:
            # As Rasa's RasaModel._rasa_predict makes it, but with autograph off.
            self._tf_predict_step = tf.function(
                self.predict_step, input_signature=self._dynamic_signature(batch_in), autograph=False)
        return super()._rasa_predict(batch_in)


def save_prediction_graph(model: PredictionDIET, predict_data_example: RasaModelData, path: Path) -> None:
    """Traces the model's prediction graph on an example and saves it with its weights."""
    model.run_inference(predict_data_example)
    graph = tf.Module()
    graph.weights = list(model.variables)
    graph.predict = model._tf_predict_step
    tf.saved_model.save(graph, str(path))


class SavedPredictionGraph:
    """DIET's prediction graph as training saved it, called as Rasa's model is."""

    def __init__(self, path: Path) -> None:
        self._saved = tf.saved_model.load(str(path))  # holds the weights: the graph refers to them weakly
        self._graph = self._saved.predict.get_concrete_function()
        self._signature = tuple(tf.nest.flatten(self._graph.structured_input_signature))

    def run_inference(self, model_data: RasaModelData) -> Dict[Text, Any]:
        """One message's prediction, its arrays made by Rasa's batching (RasaModel.run_inference)."""
        batches, _ = create_data_generators(model_data=model_data, batch_sizes=1, epochs=1, shuffle=False)
        return self.predict(next(iter(batches))[0])

    def predict(self, batch_in: Tuple[np.ndarray, ...]) -> Dict[Text, Any]:
        if not _fits(batch_in, self._signature):
            raise ValueError(f"DIET's saved graph takes {self._signature}: this message's arrays do not fit it")
        # What tf.function's call ends in, after its checks of the arguments.
        outputs = tf_utils.sync_to_numpy_or_python_type(
            self._graph._call_flat([tf.constant(array) for array in batch_in], self._graph.captured_inputs))
        if DIAGNOSTIC_DATA in outputs:
            outputs[DIAGNOSTIC_DATA] = RasaModel._empty_lists_to_none_in_dict(outputs[DIAGNOSTIC_DATA])
        return outputs


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

    def persist(self) -> None:
        super().persist()
        if isinstance(self.model, PredictionDIET):
            with self._model_storage.write_to(self._resource) as model_path:
                save_prediction_graph(self.model, _text_only(self._data_example, self.label_key),
                                      _graph_path(model_path, self.__class__))

    @classmethod
    def _load_model(cls, entity_tag_specs: List[Any], label_data: RasaModelData, config: Dict[Text, Any],
                    data_example: Dict[Text, Any], model_path: Path, finetune_mode: bool = False) -> Any:
        graph_path = _graph_path(model_path, cls)
        if not finetune_mode and graph_path.is_dir():
            graph = SavedPredictionGraph(graph_path)
            # TensorFlow builds the graph's runtime at its first call (0.26 s): at the start,
            # then, not at the first patient's message.
            graph.run_inference(_text_only(data_example, LABEL_KEY if config[INTENT_CLASSIFICATION] else None))
            return graph
        return super()._load_model(entity_tag_specs, label_data, config, data_example, model_path, finetune_mode)

    def _predict(self, message: Message) -> Optional[Dict[Text, Any]]:
        if isinstance(self.model, SavedPredictionGraph):
            batch = prediction_batch(message, self.component_config[FEATURIZERS])
            if batch is not None:
                return self.model.predict(batch)
        return super()._predict(message)


def _graph_path(model_path: Path, component: type) -> Path:
    return model_path / f"{component.__name__}.prediction_graph"


def _text_only(data_example: Dict[Text, Any], label_key: Optional[Text]) -> RasaModelData:
    """The data example's text features: what a prediction is given (Rasa's `_load_model_class`)."""
    return RasaModelData(label_key=label_key, data={name: features for name, features in data_example.items()
                                                     if TEXT in name})


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
