"""DIET loaded without its training graph predicts exactly what Rasa's own loading does."""

from rasa.nlu.classifiers.diet_classifier import DIET

from bench.nlu import HELDOUT, examples
from components.diet_classifier import QuickLoadingDIETClassifier
from tests.conftest import parses


def rankings(texts):
    return [[(i["name"], round(i["confidence"], 5)) for i in parse["intent_ranking"]] for parse in parses(texts)]


def test_the_same_predictions_as_rasas_loading(monkeypatch):
    texts = [text for _, text, _ in examples(HELDOUT / "nlu.yml")][:150]
    quick = rankings(texts)
    monkeypatch.setattr(QuickLoadingDIETClassifier, "model_class", staticmethod(lambda: DIET))
    assert rankings(texts) == quick
