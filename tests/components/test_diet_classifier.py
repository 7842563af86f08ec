"""DIET answered from the prediction graph saved at training, each message given its arrays
directly, predicts exactly what Rasa's own loading and batching do."""

import numpy as np
from rasa.nlu.classifiers.diet_classifier import DIET, DIETClassifier

from bench.nlu import HELDOUT, examples
from components import diet_classifier
from components.diet_classifier import QuickLoadingDIETClassifier, SavedPredictionGraph
from tests.conftest import parses

TEXTS = [text for _, text, _ in examples(HELDOUT / "nlu.yml")][:150] + [
    "?", "ok", "risks?? " * 60, "My mom (72) has her discogram on Friday. What should she bring? Can I drive her home?"]


def rankings(texts):
    return [[(i["name"], round(i["confidence"], 5)) for i in parse["intent_ranking"]] for parse in parses(texts)]


def test_the_same_predictions_as_rasas_loading_and_batching(monkeypatch):
    quick = rankings(TEXTS)
    monkeypatch.setattr(QuickLoadingDIETClassifier, "model_class", staticmethod(lambda: DIET))
    monkeypatch.setattr(QuickLoadingDIETClassifier, "_load_model", classmethod(DIETClassifier._load_model.__func__))
    monkeypatch.setattr(QuickLoadingDIETClassifier, "_predict", DIETClassifier._predict)
    assert rankings(TEXTS) == quick


def test_answering_builds_no_keras_model(monkeypatch):
    def no_keras_model(*args, **kwargs):
        raise AssertionError("a Keras DIET was built to answer")

    monkeypatch.setattr(DIET, "__init__", no_keras_model)
    assert [parse["intent"]["name"] for parse in parses(["what are the risks of a discogram?"])] == ["ask_risks"]


def test_each_message_gets_the_arrays_rasas_batching_makes(monkeypatch):
    batches, built = [], []
    predict, build = SavedPredictionGraph.predict, diet_classifier.prediction_batch
    monkeypatch.setattr(SavedPredictionGraph, "predict", lambda graph, batch: batches.append(batch) or predict(graph, batch))
    monkeypatch.setattr(diet_classifier, "prediction_batch", lambda *args: built.append(build(*args)) or built[-1])
    parses(TEXTS)
    # The first call is at loading, on the model's data example: the graph is ready before a message comes.
    ours = batches[1:]
    assert len(built) == len(TEXTS) and all(batch is not None for batch in built)
    batches.clear()
    monkeypatch.setattr(QuickLoadingDIETClassifier, "_predict", DIETClassifier._predict)
    parses(TEXTS)
    rasas_batches = batches[1:]
    assert len(ours) == len(rasas_batches) == len(TEXTS)
    for mine, rasas in zip(ours, rasas_batches):
        assert [(a.dtype, a.shape) for a in mine] == [(a.dtype, a.shape) for a in rasas]
        assert all(np.array_equal(a, b) for a, b in zip(mine, rasas))
