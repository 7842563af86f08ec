"""DIET loaded without its training graph predicts exactly what Rasa's own loading does."""

import asyncio

from rasa.core.agent import load_agent
from rasa.nlu.classifiers.diet_classifier import DIET

from bench.nlu import HELDOUT, examples
from components.diet_classifier import QuickLoadingDIETClassifier
from tests.conftest import MODEL


def rankings(texts):
    async def parse_all():
        agent = await load_agent(model_path=str(MODEL))
        return [(await agent.parse_message(text))["intent_ranking"] for text in texts]

    return [[(i["name"], round(i["confidence"], 5)) for i in ranking] for ranking in asyncio.run(parse_all())]


def test_the_same_predictions_as_rasas_loading(monkeypatch):
    texts = [text for _, text, _ in examples(HELDOUT / "nlu.yml")][:150]
    quick = rankings(texts)
    monkeypatch.setattr(QuickLoadingDIETClassifier, "model_class", staticmethod(lambda: DIET))
    assert rankings(texts) == quick
