"""Metadata and loading of the knowledge base, including adding a procedure."""

import shutil

import pytest
import yaml

from actions import knowledge_base
from actions.knowledge_base import KnowledgeBaseError


@pytest.fixture(scope="module")
def kb():
    return knowledge_base.default()


@pytest.fixture
def kb_copy(tmp_path):
    """A writable copy of the knowledge base folder."""
    directory = tmp_path / "knowledge_base"
    shutil.copytree(knowledge_base.DEFAULT_DIRECTORY, directory)
    return directory


def edit_metadata(directory, change):
    path = directory / "procedures.yml"
    data = yaml.safe_load(path.read_text())
    change(data["procedures"])
    path.write_text(yaml.safe_dump(data))


def test_five_procedures_in_order_with_their_codes(kb):
    assert [p.code for p in kb.procedures] == ["62287", "01935", "62290", "+22870", "62264"]


def test_lookup_by_code_with_or_without_plus(kb):
    assert kb.get("22870").code == "+22870"
    assert kb.get("+22870").code == "+22870"
    assert kb.get("62290").name == "lumbar discography (discogram)"
    for unknown in ("99999", "", None, 62290, "x"):
        assert kb.get(unknown) is None


def test_official_titles_and_lay_names(kb):
    assert kb.get("62290").meta.title == "Injection procedure for discography, each level; lumbar"
    assert kb.get("01935").meta.title.startswith("Anesthesia for percutaneous image guided")
    assert "nucleoplasty" in kb.get("62287").names
    assert "Discogram" in kb.get("62290").names  # from the document's "Common Name(s)"
    assert "Racz procedure" in kb.get("62264").names
    assert "interspinous spacer" in kb.get("22870").names
    assert "adhesiolysis" in kb.get("62264").names


def test_deleted_code_says_so_and_names_its_replacements(kb):
    anesthesia = kb.get("01935")
    assert anesthesia.meta.code_status == "deleted"
    assert "deleted" in anesthesia.meta.code_note and "2022" in anesthesia.meta.code_note
    assert "01937 to 01942" in anesthesia.meta.code_note
    assert anesthesia.codes == ("01935", "01937", "01938", "01939", "01940", "01941", "01942")
    assert all(p.meta.code_status == "current" for p in kb.procedures if p.code != "01935")


def test_label_names_procedure_and_code(kb):
    assert kb.get("62290").label == "Lumbar discography (discogram), CPT 62290"
    assert kb.get("22870").label == "Interspinous spacer, second level (lumbar), CPT +22870"


def test_a_sixth_procedure_needs_only_a_document_and_an_entry(kb_copy):
    document = (kb_copy / "62290.txt").read_text().replace(
        "Injection Procedure for Discography, Each Level; Lumbar\nCommon Name(s): Lumbar Discography, Discogram",
        "Injection Procedure for Discography, Each Level; Cervical or Thoracic",
    )
    (kb_copy / "62291.txt").write_text(document)
    edit_metadata(kb_copy, lambda entries: entries.append({
        "code": "62291", "title": "Injection procedure for discography, each level; cervical or thoracic",
        "name": "cervical discography", "lay_names": ["neck discogram"],
        "code_status": "current", "code_note": "CPT 62291 is a current code.",
    }))
    kb = knowledge_base.load(kb_copy)
    assert [p.code for p in kb.procedures][-1] == "62291"
    assert kb.get("62291").section("risks").blocks[0].text == "Infection at the injection site."


def test_a_document_without_metadata_entry_is_reported(kb_copy):
    shutil.copy(kb_copy / "62290.txt", kb_copy / "62291.txt")
    with pytest.raises(KnowledgeBaseError, match=r"\['62291.txt'\] have no entry in procedures.yml"):
        knowledge_base.load(kb_copy)


def test_an_entry_without_document_is_reported(kb_copy):
    (kb_copy / "62264.txt").unlink()
    with pytest.raises(KnowledgeBaseError, match=r"no document 62264.txt for 62264"):
        knowledge_base.load(kb_copy)


def test_a_broken_document_stops_the_load_with_its_name(kb_copy):
    (kb_copy / "62290.txt").write_text("Search all medical codes\nNothing else\n")
    with pytest.raises(KnowledgeBaseError, match=r"62290.txt: no 'Name of the Procedure:' line"):
        knowledge_base.load(kb_copy)


def test_invalid_metadata_is_reported_with_the_field(kb_copy):
    edit_metadata(kb_copy, lambda entries: entries[0].update(code_status="retired"))
    with pytest.raises(KnowledgeBaseError, match=r"procedures.yml: invalid entry #1:(.|\n)*code_status"):
        knowledge_base.load(kb_copy)


def test_a_name_shared_by_two_procedures_is_refused(kb_copy):
    edit_metadata(kb_copy, lambda entries: entries[1]["lay_names"].append("Nucleoplasty"))
    with pytest.raises(KnowledgeBaseError, match=r"'Nucleoplasty' is used for both 62287 and 01935"):
        knowledge_base.load(kb_copy)


def test_duplicate_codes_are_refused(kb_copy):
    edit_metadata(kb_copy, lambda entries: entries[1].update(code="62287"))
    with pytest.raises(KnowledgeBaseError, match=r"duplicate code\(s\) \['62287'\]"):
        knowledge_base.load(kb_copy)
