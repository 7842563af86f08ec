"""The spaCy pipeline is loaded once per model, and messages parse as with Rasa's SpacyNLP."""

import asyncio

import spacy
from rasa.core.agent import load_agent
from rasa.nlu.utils.spacy_utils import SpacyNLP

from bench.nlu import HELDOUT, examples
from components.spacy_nlp import SpacyPipelineLoadedOnce
from tests.conftest import MODEL


def parses(texts):
    async def parse_all():
        agent = await load_agent(model_path=str(MODEL))
        return [await agent.parse_message(text) for text in texts]

    return [{key: parse[key] for key in ("intent", "entities", "intent_ranking")} for parse in asyncio.run(parse_all())]


def test_loaded_once_with_the_same_parses_as_rasas_spacy_nlp(monkeypatch):
    loaded = []
    spacy_load = spacy.load
    monkeypatch.setattr(spacy, "load", lambda *args, **kwargs: loaded.append(args[0]) or spacy_load(*args, **kwargs))
    texts = [text for _, text, _ in examples(HELDOUT / "nlu.yml")][:100]

    ours = parses(texts)
    assert loaded == ["models/spacy_pipeline"]

    loaded.clear()
    monkeypatch.setattr(SpacyPipelineLoadedOnce, "create", classmethod(SpacyNLP.create.__func__))
    assert parses(texts) == ours
    assert loaded == ["models/spacy_pipeline"] * 2  # what the test above would catch
