"""Rasa NLU component: DIET's intent ranking averaged with a logistic regression's.

DIET is sure of itself even when a patient's wording is new to it; a logistic
regression on the same sparse features errs elsewhere. Each intent's confidence is
the mean of the two (DIET's ranking lists its top intents only; the others count 0).

The regression is stored as its arrays, not with Rasa's skops file: loading skops
imports every scikit-learn module, one of which (through numpy.distutils) sets the
root logger to WARNING and silenced the server's log. The arrays are the whole model.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import RANKING_LENGTH

from components.sparse_blocks import side_by_side

ARRAYS = "regression.npz"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class BlendedClassifier(LogisticRegressionClassifier):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "first_classifier_only": []}

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data  # its intents are the labels, not predictions to overwrite

    def process(self, messages: List[Message]) -> List[Message]:
        # A message without features (an empty text) keeps DIET's reading.
        featured = [m for m in messages if _sentence_features(m)]
        if not featured:
            return messages
        probabilities = self.clf.predict_proba(self._create_X(featured))
        for message, row in zip(featured, probabilities):
            diet = {r["name"]: r["confidence"] for r in message.get("intent_ranking") or []}
            blended = {name: diet.get(name, 0.0) if name in self.config["first_classifier_only"]
                       else (p + diet.get(name, 0.0)) / 2 for name, p in zip(self.clf.classes_, row)}
            ranking = sorted(({"name": n, "confidence": float(c)} for n, c in blended.items()),
                             key=lambda r: -r["confidence"])[:self.config[RANKING_LENGTH]]
            message.set("intent", ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages

    def _create_X(self, messages: List[Message]) -> scipy.sparse.csr_matrix:
        """Rasa's rows (the sparse sentence features, then the dense ones, each in the order
        the featurizers added them), put together in one step: Rasa's `get_sparse_features`
        also combines each message's sequence features, and stacking block by block took
        two thirds of this component's time."""
        rows = []
        for message in messages:
            features = _sentence_features(message)
            rows.append(side_by_side([f.features for f in features if f.is_sparse()]
                                     + [f.features for f in features if f.is_dense()]))
        matrix = rows[0] if len(rows) == 1 else scipy.sparse.vstack(rows)  # one, when answering
        return matrix.tocsr()  # sorted and summed, as Rasa's

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as model_dir:
            np.savez(model_dir / ARRAYS, coef=self.clf.coef_, intercept=self.clf.intercept_,
                     classes=self.clf.classes_.astype(str))

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "BlendedClassifier":
        component = cls(config, execution_context.node_name, model_storage, resource)
        with model_storage.read_from(resource) as model_dir, np.load(model_dir / ARRAYS, allow_pickle=False) as arrays:
            # Column-major, so that the regression's product with it reads coef_.T in place:
            # row-major, scipy copied the 34 x 8,000 matrix at every message.
            component.clf.coef_ = np.asfortranarray(arrays["coef"])
            component.clf.intercept_ = arrays["intercept"]
            component.clf.classes_ = arrays["classes"]
        component.clf.n_features_in_ = component.clf.coef_.shape[1]
        return component


def _sentence_features(message: Message) -> list:
    return [f for f in message.features if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE]
