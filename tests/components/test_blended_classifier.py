"""DIET's intent ranking averaged with a logistic regression's, trained here on real features."""

import subprocess
import sys

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.blended_classifier import BlendedClassifier
from tests.conftest import ROOT

EXAMPLES = {
    "ask_risks": ["what are the risks", "is it safe", "what could go wrong", "any complications"],
    "ask_recovery": ["how long to recover", "when can i go back to work", "recovery after it", "when can i drive"],
    "urgent_emergency": ["i cant breathe", "my chest hurts badly", "i passed out", "my legs went numb"],
}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    storage_path = tmp_path_factory.mktemp("model")
    storage = LocalModelStorage(storage_path)
    context = ExecutionContext(GraphSchema({}), "test")
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    # Words and character n-grams, as in config.yml: two featurizers' features to line up.
    featurizers = [CountVectorsFeaturizer.create({**CountVectorsFeaturizer.get_default_config(), **config},
                                                 storage, Resource(name), context)
                   for name, config in (("words", {}), ("chars", {"analyzer": "char_wb", "max_ngram": 4}))]

    def classifier(**config):
        return BlendedClassifier.create({**BlendedClassifier.get_default_config(), **config},
                                        storage, Resource("blend"), context)

    data = TrainingData([Message(data={TEXT: t, INTENT: i}) for i, texts in EXAMPLES.items() for t in texts])
    tokenizer.process_training_data(data)
    for featurizer in featurizers:
        featurizer.train(data)
        featurizer.process_training_data(data)
    blend = classifier()
    blend.train(data)

    def featured(text, **data):
        message = Message(data={TEXT: text, **data})
        tokenizer.process([message])
        for featurizer in featurizers:
            featurizer.process([message])
        return message

    def read(text, diet_ranking, **config):
        message = featured(text, **{INTENT: diet_ranking[0], INTENT_RANKING_KEY: diet_ranking})
        model = blend if not config else classifier(**config)
        model.clf = blend.clf
        # The regression on the rows Rasa's own classifier makes.
        regression = blend.clf.predict_proba(LogisticRegressionClassifier._create_X(blend, [message]))[0]
        return model.process([message])[0], dict(zip(blend.clf.classes_, regression))

    return data, blend, read, featured, lambda: BlendedClassifier.load(
        BlendedClassifier.get_default_config(), storage, Resource("blend"), context), storage_path


def test_each_confidence_is_the_mean_of_diets_and_the_regressions(pipeline):
    _, _, read, *_ = pipeline
    message, regression = read("is recovery safe", [{"name": "ask_risks", "confidence": 0.8},
                                                    {"name": "ask_recovery", "confidence": 0.2}])
    by_name = {r["name"]: r["confidence"] for r in message.get(INTENT_RANKING_KEY)}
    assert set(by_name) == set(EXAMPLES)
    assert by_name["ask_risks"] == pytest.approx((0.8 + regression["ask_risks"]) / 2)
    assert by_name["urgent_emergency"] == pytest.approx(regression["urgent_emergency"] / 2)
    assert message.get(INTENT)["name"] == max(by_name, key=by_name.get)


def test_diet_alone_decides_the_intents_it_is_trusted_with(pipeline):
    _, _, read, *_ = pipeline
    diet = [{"name": "ask_risks", "confidence": 0.6}, {"name": "ask_recovery", "confidence": 0.4}]
    blended, _ = read("i passed out my chest hurts", diet)
    assert blended.get(INTENT)["name"] == "urgent_emergency"  # the regression alone would alarm
    trusted, _ = read("i passed out my chest hurts", diet, first_classifier_only=["urgent_emergency"])
    by_name = {r["name"]: r["confidence"] for r in trusted.get(INTENT_RANKING_KEY)}
    assert by_name["urgent_emergency"] == 0.0
    assert trusted.get(INTENT)["name"] == "ask_risks"


def test_the_regression_reads_the_rows_rasas_classifier_makes(pipeline):
    # Only the sentence features, in the featurizers' order: the same matrix, column for column.
    _, blend, _, featured, *_ = pipeline
    messages = [featured(text) for text in ("is recovery safe", "when can i drive after it", "xyz")]
    ours, rasas = blend._create_X(messages), LogisticRegressionClassifier._create_X(blend, messages)
    assert ours.shape == rasas.shape == (3, blend.clf.coef_.shape[1])
    assert (ours != rasas).nnz == 0


def test_a_message_without_features_keeps_diets_reading(pipeline):
    _, blend, *_ = pipeline
    diet = [{"name": "ask_risks", "confidence": 0.6}, {"name": "ask_recovery", "confidence": 0.4}]
    empty = Message(data={TEXT: "", INTENT: diet[0], INTENT_RANKING_KEY: diet})  # as Rasa's tokenizers leave ""
    [message] = blend.process([empty])
    assert message.get(INTENT_RANKING_KEY) == diet


def test_the_training_examples_keep_their_labels(pipeline):
    data, blend, *_ = pipeline
    blend.process_training_data(data)
    assert [m.get(INTENT) for m in data.training_examples] == [i for i, texts in EXAMPLES.items() for _ in texts]


LOAD_IN_A_NEW_PROCESS = """
import logging, sys
from pathlib import Path
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from components.blended_classifier import BlendedClassifier
logging.getLogger().setLevel(logging.INFO)  # as `rasa run` does
BlendedClassifier.load(BlendedClassifier.get_default_config(), LocalModelStorage(Path(sys.argv[1])),
                       Resource("blend"), ExecutionContext(GraphSchema({}), "test"))
print(logging.getLevelName(logging.getLogger().level))
"""


def test_the_stored_regression_reads_as_trained_and_leaves_the_log_alone(pipeline):
    data, blend, _, _, load, storage_path = pipeline
    loaded = load()
    features = blend._create_X(data.training_examples)
    assert list(loaded.clf.classes_) == list(blend.clf.classes_)
    assert loaded.clf.predict_proba(features) == pytest.approx(blend.clf.predict_proba(features))
    # Loaded in a server, the INFO lines still reach its log.
    level = subprocess.run([sys.executable, "-c", LOAD_IN_A_NEW_PROCESS, str(storage_path)],
                           capture_output=True, text=True, check=True, cwd=ROOT).stdout.split()[-1]
    assert level == "INFO"
