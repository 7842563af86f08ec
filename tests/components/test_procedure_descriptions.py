"""A procedure described instead of named is recognised from its document and metadata."""

import pytest

from actions import knowledge_base, retrieval
from components.procedure_descriptions import DescriptionIndex


@pytest.fixture(scope="module")
def index():
    return DescriptionIndex(knowledge_base.default(), retrieval.default_topics())


def codes(index, text):
    return [candidate.code for candidate in index.candidates(text)]


@pytest.mark.parametrize(
    "text, code",
    [
        ("the test on my spine discs with dye", "62290"),
        ("what are the risks of the test where they inject dye into my discs", "62290"),
        ("the needle procedure to shrink my disc", "62287"),
        ("the scar tissue procedure with the catheter", "62264"),
        ("how long does the procedure to break up scar tissue take", "62264"),
        ("the implant between the bones of my lower back", "+22870"),
        ("the diagnostic spine procedure with anesthesia", "01935"),
        ("the sedation for my spine imaging", "01935"),
        ("the spacer between my vertebrae", "+22870"),
        # the Racz also injects contrast, but not into the discs: not a close second
        ("the one where they inject contrast into my discs", "62290"),
        # everyday words for what the documents say (question_topics.yml)
        ("getting put under for the scan of my spine", "01935"),
        ("how long are you under for the diagnostic spine thing", "01935"),  # "under" in a phrase
        ("what needles do they use when they put u under for the spine scan", "01935"),
    ],
)
def test_descriptions_name_the_procedure(index, text, code):
    assert codes(index, text) == [code]


@pytest.mark.parametrize(
    "text",
    ["what are the risks", "will the needle hurt", "will I be put under?", "is the dye safe", "can i drive after",
     "my back surgery", "how long does it take", "the injection",
     # everyday words in a procedure's Summary ("involves", "help") describe nothing
     "what does having your gallbladder removed involve?", "how does it help plan surgery?"],
)
def test_a_detail_alone_describes_no_procedure(index, text):
    assert codes(index, text) == []


def test_a_procedure_a_clinic_adds_is_described_by_its_own_document(tmp_path):
    from scripts.clinic_copy import ADDED, add_procedure, copy_project

    project = copy_project(tmp_path / "clinic")
    add_procedure(project, ADDED / "62323.txt", ADDED / "procedure.yml")
    folder = project / "data" / "knowledge_base"
    index = DescriptionIndex(knowledge_base.load(folder), retrieval.load_topics(folder / retrieval.TOPICS_FILE))
    assert codes(index, "the steroid shot into the epidural space of my lower back") == ["62323"]


def test_the_words_that_described_a_procedure_are_its_naming_words(index):
    words = index.naming_words("who does the procedure where they shrink my disc with a needle?", "62287")
    assert {"shrink", "needle"} <= words
    assert "who" not in words
    # An everyday phrase that described it too: the question is "what is it", not sedation.
    assert {"put", "under"} <= index.naming_words("being put under for my back scan, what is it?", "01935")
    assert not {"put", "under"} & index.naming_words("being put under for my back scan, what is it?", "62287")
