"""The spaCy pipeline is loaded once per model, and messages parse as with Rasa's SpacyNLP."""

import spacy
from rasa.nlu.utils.spacy_utils import SpacyNLP

from bench.nlu import HELDOUT, examples
from components.spacy_nlp import SpacyPipelineLoadedOnce
from tests.conftest import parses


def readings(texts):
    return [{key: parse[key] for key in ("intent", "entities", "intent_ranking")} for parse in parses(texts)]


def test_loaded_once_with_the_same_parses_as_rasas_spacy_nlp(monkeypatch):
    loaded = []
    spacy_load = spacy.load
    monkeypatch.setattr(spacy, "load", lambda *args, **kwargs: loaded.append(args[0]) or spacy_load(*args, **kwargs))
    texts = [text for _, text, _ in examples(HELDOUT / "nlu.yml")][:100]

    ours = readings(texts)
    assert loaded == ["models/spacy_pipeline"]

    loaded.clear()
    monkeypatch.setattr(SpacyPipelineLoadedOnce, "create", classmethod(SpacyNLP.create.__func__))
    assert readings(texts) == ours
    assert loaded == ["models/spacy_pipeline"] * 2  # what the test above would catch
