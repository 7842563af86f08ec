"""The intent classifier sees one placeholder word for every recognised name."""

import glob
import subprocess
import sys

import pytest
import spacy
import yaml
from rasa.nlu.tokenizers.tokenizer import Token

from components.name_masker import PLACEHOLDER, masked, masking_fingerprint
from scripts.clinic_copy import ADDED, add_procedure, copy_project
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


def build_pipeline(project):
    subprocess.run([sys.executable, "-m", "scripts.build_spacy_pipeline", "models/spacy_pipeline"], cwd=project,
                   check=True, capture_output=True)
    return masking_fingerprint(project / "models" / "spacy_pipeline", project / "data" / "nlu")


@pytest.fixture(scope="module")
def stock():
    return masking_fingerprint()


def test_a_procedure_added_the_clinics_way_keeps_the_trained_classifier(tmp_path, stock):
    """Its names were topics of other_topics.yml, masked the same in the training texts:
    Rasa restores the classifier from its cache instead of training it again."""
    project = copy_project(tmp_path / "clinic")
    add_procedure(project, ADDED / "62323.txt", ADDED / "procedure.yml")
    assert build_pipeline(project) == stock is not None


def test_names_that_change_what_the_classifier_reads_retrain_it(tmp_path, stock):
    """Rasa fingerprints SpacyNLP by its path only: when `make train` rebuilds the pipeline
    at that path and a training text is masked otherwise, the classifier is trained again."""
    project = copy_project(tmp_path / "clinic")
    topics = project / "data" / "knowledge_base" / "other_topics.yml"
    # "I already had two epidural injections ..." is a training text.
    topics.write_text(topics.read_text().replace("  - epidural injection\n", ""))
    assert build_pipeline(project) != stock
