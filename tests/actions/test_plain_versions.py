"""The plain-language versions: every section, grade 8 or below, no fact lost."""

import pytest

from actions import glossary, knowledge_base, plain_versions

KB = knowledge_base.default()
SECTIONS = [(p, key) for p in KB.procedures for key in p.document.sections]


@pytest.fixture(scope="module")
def plain():
    return plain_versions.load(KB)


def test_all_66_sections_have_a_plain_version(plain):
    assert len(SECTIONS) == 66
    missing = [f"{p.code} {key}" for p, key in SECTIONS if plain.section(p, key) is None]
    assert not missing


@pytest.mark.parametrize("procedure, key", SECTIONS, ids=[f"{p.code}-{k}" for p, k in SECTIONS])
def test_a_plain_section_reads_at_grade_8_or_below_and_keeps_every_fact(plain, procedure, key):
    section = plain.section(procedure, key)
    assert plain_versions.grade(section.blocks) <= plain_versions.TARGET_GRADE
    assert plain_versions.missing_facts(procedure.section(key), section, glossary.default()) == []
    # Same layout as the original: a list stays a list, of about the same length.
    original = procedure.section(key).blocks
    assert {b.kind for b in section.blocks} == {b.kind for b in original}
    assert len(section.blocks) >= len(original)


def test_the_check_catches_a_lost_number_or_term():
    original = KB.get("62290").section("recovery")
    plain_recovery = plain_versions.load(KB).section(KB.get("62290"), "recovery")
    lost = type(plain_recovery)(plain_recovery.key, plain_recovery.heading, plain_recovery.blocks[:2])
    assert "number 24" in plain_versions.missing_facts(original, lost, glossary.default())
    risks = KB.get("62290").section("risks")
    assert any("hematoma" in problem for problem in plain_versions.missing_facts(risks, lost, glossary.default()))


def test_no_plain_version_is_served_unreviewed_under_the_reviewed_only_setting(plain):
    discogram = KB.get("62290")
    assert plain.get(discogram, reviewed_only=False) is not None
    assert plain.get(discogram, reviewed_only=True) is None  # not reviewed yet
