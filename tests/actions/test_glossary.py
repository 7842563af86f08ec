"""The glossary: every term the documents use has a plain entry; patients' words find it."""

import shutil

import pytest
import textstat
import yaml

from actions import glossary, knowledge_base

DEFINITION_MAX_GRADE = 6.0


@pytest.fixture(scope="module")
def kb():
    return knowledge_base.default()


@pytest.fixture(scope="module")
def terms():
    return glossary.default()


def test_every_term_the_documents_use_has_an_entry(kb, terms):
    missing = glossary.uncovered_terms(terms, kb.procedures)
    assert not missing, glossary.describe_missing(missing)


def test_a_new_document_is_told_which_words_need_an_entry(tmp_path, terms):
    directory = tmp_path / "knowledge_base"
    shutil.copytree(knowledge_base.DEFAULT_DIRECTORY, directory)
    document = directory / "62290.txt"
    document.write_text(document.read_text().replace(
        "- Nerve damage or irritation.", "- Nerve damage or irritation.\n- Arachnoiditis or a vasovagal reaction."
    ))
    missing = glossary.uncovered_terms(terms, knowledge_base.load(directory).procedures)
    assert missing == {"62290.txt": {"arachnoiditis": ["risks"], "vasovagal": ["risks"]}}
    message = glossary.describe_missing(missing)
    assert "62290.txt: 'arachnoiditis' (in risks)" in message and "glossary.yml" in message


def test_the_rule_flags_rare_long_and_abbreviated_words_not_everyday_ones():
    for term in ("fluoroscopy", "hematoma", "percutaneous", "interspinous", "CSF", "CT", "stenosis"):
        assert glossary.is_term_candidate(term), term
    for everyday in ("pain", "needle", "table", "minutes", "home", "bleeding", "back"):
        assert not glossary.is_term_candidate(everyday), everyday


def test_the_issues_terms_are_explained(terms):
    for term in ("fluoroscopy", "discitis", "hematoma", "radiculopathy", "nucleus pulposus", "stenosis",
                 "adhesions", "hypertonic saline", "cerebrospinal fluid", "interspinous", "percutaneous"):
        entry = terms.lookup(term)
        assert entry is not None, term
        assert term in [f.lower() for f in entry.forms]


def test_definitions_are_short_and_at_grade_6_or_below(terms):
    for entry in terms.entries:
        sentences = [s for s in entry.definition.split(". ") if s]
        assert len(sentences) <= 3, entry.term
        assert textstat.flesch_kincaid_grade(entry.definition) <= DEFINITION_MAX_GRADE, entry.term


def test_every_entry_says_whether_it_was_reviewed():
    data = yaml.safe_load((knowledge_base.DEFAULT_DIRECTORY / glossary.GLOSSARY_FILE).read_text())
    assert all(isinstance(entry.get("reviewed"), bool) for entry in data["terms"])


@pytest.mark.parametrize("question, term", [
    ("what does fluoroscopy mean?", "fluoroscopy"),
    ("what's a hematoma", "hematoma"),
    ("what is CSF", "cerebrospinal fluid"),
    ("discitis?", "discitis"),
    ("what does floroscopy mean", "fluoroscopy"),  # one typo
    ("whats radiculopaty", "radiculopathy"),
    ("what is a herniated disc", "herniated disc"),  # the longest term
    ("what are hematomas?", "hematoma"),  # plural
    ("What does X-ray mean", "X-ray"),
])
def test_patients_words_find_the_term(terms, question, term):
    assert terms.lookup(question).term == term


def test_an_unknown_word_finds_nothing(terms):
    for question in ("what does flibbertigibbet mean?", "what is a zebra", "what does that mean"):
        assert terms.lookup(question) is None, question


def test_reviewed_only_serves_only_reviewed_entries(terms):
    assert all(not e.reviewed for e in terms.entries)  # the clinic has not reviewed any yet
    assert terms.served(reviewed_only=True).lookup("what is a hematoma") is None
    assert terms.served(reviewed_only=False).lookup("what is a hematoma").term == "hematoma"
