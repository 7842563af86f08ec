"""The intent classifier sees one placeholder word for every recognised name."""

import glob

import pytest
import spacy
import yaml
from rasa.nlu.tokenizers.tokenizer import Token

from rasa.engine.training.fingerprinting import calculate_fingerprint_key

from components import name_masker
from components.name_masker import PLACEHOLDER, NameMasker, masked
from tests.conftest import ROOT


def tokens(text):
    words, start = [], 0
    for word in text.split():
        start = text.index(word, start)
        words.append(Token(word, start))
        start += len(word)
    return words


def test_each_name_becomes_one_placeholder():
    text = "risks of percutaneous disc decompression and the racz today"
    name, racz = text.index("percutaneous"), text.index("racz")
    result = masked(tokens(text), [(name, text.index(" and")), (racz, racz + 4)])
    assert [t.text for t in result] == ["risks", "of", PLACEHOLDER, "and", "the", PLACEHOLDER, "today"]
    assert [t.lemma for t in result if t.text == PLACEHOLDER] == [PLACEHOLDER, PLACEHOLDER]


def test_a_message_without_names_is_unchanged():
    text = "how long does it take"
    assert [t.text for t in masked(tokens(text), [])] == text.split()


@pytest.fixture(scope="module")
def nlp():
    path = ROOT / "models" / "spacy_pipeline"
    if not path.exists():
        pytest.fail("models/spacy_pipeline missing: run `make train`")
    return spacy.load(path)


def test_no_out_of_scope_example_names_a_topic_of_other_topics(nlp):
    """Such a question is out of scope by the knowledge base (other_topics.yml), not by
    its wording: masked, it would teach that a section question is out of scope."""
    naming = []
    for path in glob.glob(str(ROOT / "data" / "nlu" / "**" / "*.yml"), recursive=True):
        for block in yaml.safe_load(open(path)).get("nlu", []):
            if block.get("intent") != "out_of_scope":
                continue
            for line in block["examples"].splitlines():
                example = line.strip().removeprefix("- ")
                if any(ent.label_ == "other_topic" for ent in nlp(example.lower()).ents):
                    naming.append(example)
    assert naming == []


def test_a_rebuilt_spacy_pipeline_retrains_what_reads_the_masks(tmp_path, monkeypatch):
    """Rasa fingerprints SpacyNLP by its path only: when `make train` rebuilds the pipeline
    at that path (a procedure added), the classifier must not come back from Rasa's cache."""
    pipeline = tmp_path / "spacy_pipeline"
    (pipeline / "entity_ruler").mkdir(parents=True)
    patterns = pipeline / "entity_ruler" / "patterns.jsonl"
    monkeypatch.setattr(name_masker, "SPACY_PIPELINE", pipeline)

    def key():
        return calculate_fingerprint_key(NameMasker, {}, {})

    patterns.write_text('{"label": "procedure", "pattern": "discogram", "id": "62290"}\n')
    before = key()
    assert key() == before  # nothing changed: the cache is used
    patterns.write_text(patterns.read_text() + '{"label": "procedure", "pattern": "epidural", "id": "62323"}\n')
    assert key() != before
