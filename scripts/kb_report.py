"""Readability of the knowledge base: Flesch-Kincaid grade per procedure and section,
for the clinic's document and for its plain-language version, and the glossary
terms each document uses.

    make kb-report

NIH and CDC ask for patient material at or below an 8th-grade reading level.
This only measures: the content team writes the documents and their plain
versions (data/knowledge_base/plain/), code never does.
"""

from actions import glossary, knowledge_base, plain_versions
from actions.plain_versions import TARGET_GRADE, grade, readable_text


def main() -> None:
    kb = knowledge_base.default()
    terms = glossary.default()
    plain = plain_versions.load(kb)
    rows, over, plain_over, without_plain = [], 0, 0, 0
    for procedure in kb.procedures:
        for spec in kb.section_specs:
            section = procedure.section(spec.key)
            if section is None:
                continue
            original = grade(section.blocks)
            simpler = plain.section(procedure, spec.key)
            plain_grade = grade(simpler.blocks) if simpler else None
            over += original > TARGET_GRADE
            plain_over += plain_grade is not None and plain_grade > TARGET_GRADE
            without_plain += simpler is None
            rows.append((procedure.code, spec.title, original, plain_grade))

    print(f"{'CPT':7} {'section':36} {'grade':>5} {'plain':>5}  target {TARGET_GRADE:g}")
    for code, title, original, plain_grade in rows:
        if plain_grade is None:
            shown, verdict = "  -  ", "no plain version" if original > TARGET_GRADE else "ok"
        else:
            shown = f"{plain_grade:5.1f}"
            verdict = "plain version too hard" if plain_grade > TARGET_GRADE else "ok"
        print(f"{code:7} {title:36} {original:5.1f} {shown}  {verdict}")
    print(f"\n{over} of {len(rows)} sections are above grade {TARGET_GRADE:g} in the clinic's words; "
          f"{plain_over} in their plain versions; {without_plain} have no plain version.")
    for procedure in kb.procedures:
        blocks = [b for s in procedure.document.sections.values() for b in s.blocks]
        version = plain.get(procedure)
        simpler = f", plain version {grade([b for s in version.document.sections.values() for b in s.blocks]):.1f}" \
            if version else ""
        print(f"{procedure.code:7} whole document: grade {grade(blocks):.1f}{simpler}")

    print("\nGlossary terms each document uses (data/knowledge_base/glossary.yml):")
    for procedure in kb.procedures:
        used = terms.entries_in(" ".join(text for _, text in glossary.section_texts(procedure)))
        unreviewed = sum(not e.reviewed for e in used)
        print(f"{procedure.code:7} {len(used)} terms ({unreviewed} not reviewed): "
              + ", ".join(e.term for e in used))
    missing = glossary.uncovered_terms(terms, kb.procedures)
    print("\n" + (glossary.describe_missing(missing) if missing else "Every term the documents use has a glossary entry."))


if __name__ == "__main__":
    main()
