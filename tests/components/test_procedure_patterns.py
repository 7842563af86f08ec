"""The project's spaCy pipeline finds procedures the way patients write them."""

import shutil

import pytest
import yaml

from actions import knowledge_base
from components.typos import one_typo_variants
from scripts.build_spacy_pipeline import build


@pytest.fixture(scope="module")
def nlp():
    return build(knowledge_base.default())


def codes(nlp, text):
    # SpacyNLP lowercases messages before spaCy sees them (case_sensitive: false).
    return [(ent.text, ent.ent_id_) for ent in nlp(text.lower()).ents]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("what are the risks of a discogram?", [("discogram", "62290")]),
        ("How long does a Lumbar Discography take", [("lumbar discography", "62290")]),
        ("is nucleoplasy painful", [("nucleoplasy", "62287")]),  # typo
        ("recovery after a neucleoplasty", [("neucleoplasty", "62287")]),  # listed misspelling
        ("do discograms hurt", [("discograms", "62290")]),  # plural
        ("the Racz procedure", [("racz procedure", "62264")]),
        ("ratz procedure prep", [("ratz procedure", "62264")]),
        ("what is adhesiolisys", [("adhesiolisys", "62264")]),
        ("lysis of adhesions recovery", [("lysis of adhesions", "62264")]),
        ("PDD risks", [("pdd", "62287")]),
        ("who does PDDs", [("pdds", "62287")]),  # an abbreviation's plural
        ("anesthesia for the diagnostic spine procedure", [("anesthesia for the diagnostic spine procedure", "01935")]),
        ("image guided spine anesthesia", [("image guided spine anesthesia", "01935")]),
        ("cpt 62290", [("62290", "62290")]),
        ("what is +22870", [("+22870", "+22870")]),
        ("my bill says 22870", [("22870", "+22870")]),
        ("what replaced 01935? is it 01938", [("01935", "01935"), ("01938", "01935")]),
        ("the interspinus spacer", [("interspinus spacer", "+22870")]),
        ("and for the spacer?", [("spacer", "+22870")]),
        ("compare discography and nucleoplasty recovery", [("discography", "62290"), ("nucleoplasty", "62287")]),
        # Any determiner or possessive, and punctuation glued to the name.
        ("anesthesia for my spine scan", [("anesthesia for my spine scan", "01935")]),
        ("the sedation for my spine imaging", [("sedation for my spine imaging", "01935")]),
        ("Nucleoplasty- risks?", [("nucleoplasty", "62287")]),
        ("-racz recovery", [("racz", "62264")]),
        ("racz?how long", [("racz", "62264")]),
        ("(discogram)", [("discogram", "62290")]),
        # Spelt as it sounds, and a one-word name written as two.
        ("discografy what is it for", [("discografy", "62290")]),
        ("wat do they do in a nucleo plasty step by step", [("nucleo plasty", "62287")]),
    ],
)
def test_procedure_names_become_cpt_codes(nlp, text, expected):
    assert codes(nlp, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I race my car", "the disco was fun", "do I need anesthesia", "a spaced out feeling",
        "will there be scar tissue", "spine procedure", "is it an injection", "12345",
        "what about the epidural", "my disc is herniated",
    ],
)
def test_ordinary_words_are_not_procedures(nlp, text):
    assert codes(nlp, text) == []


def test_lemmas_come_from_the_lookup_tables(nlp):
    assert [t.lemma_ for t in nlp("what are the risks")] == ["what", "be", "the", "risk"]


def test_one_typo_variants():
    variants = one_typo_variants("racz")
    assert {"racz", "rac", "rcaz", "rach", "racez"} <= variants
    assert "rchs" not in variants


def test_a_new_procedure_is_recognised_without_code_changes(tmp_path):
    directory = tmp_path / "knowledge_base"
    shutil.copytree(knowledge_base.DEFAULT_DIRECTORY, directory)
    discogram = (directory / "62290.txt").read_text()
    (directory / "62291.txt").write_text(discogram.replace("Common Name(s): Lumbar Discography, Discogram\n", ""))
    path = directory / "procedures.yml"
    data = yaml.safe_load(path.read_text())
    data["procedures"].append({
        "code": "62291", "title": "Injection procedure for discography, each level; cervical or thoracic",
        "name": "cervical discography", "lay_names": ["neck discogram"],
        "code_status": "current", "code_note": "CPT 62291 is a current code.",
    })
    path.write_text(yaml.safe_dump(data))
    nlp = build(knowledge_base.load(directory))
    assert codes(nlp, "risks of a neck discogrm?") == [("neck discogrm", "62291")]
