"""Readability of the knowledge base: Flesch-Kincaid grade per procedure and section.

    make kb-report

NIH and CDC ask for patient material at or below an 8th-grade reading level.
This only measures: the content team rewrites the documents, code never does.
"""

import textstat

from actions import knowledge_base

TARGET_GRADE = 8.0


def as_sentences(blocks) -> str:
    """A bullet without a full stop still ends a sentence for the readability formula."""
    return " ".join(b.full_text if b.full_text.endswith((".", "!", "?")) else f"{b.full_text}." for b in blocks)


def main() -> None:
    kb = knowledge_base.default()
    rows, over = [], 0
    for procedure in kb.procedures:
        for spec in kb.section_specs:
            section = procedure.section(spec.key)
            if section is None:
                continue
            text = as_sentences(section.blocks)
            grade = textstat.flesch_kincaid_grade(text)
            over += grade > TARGET_GRADE
            rows.append((procedure.code, spec.title, grade, textstat.lexicon_count(text)))
    print(f"{'CPT':7} {'section':36} {'grade':>5} {'words':>5}  target {TARGET_GRADE:g}")
    for code, title, grade, words in rows:
        verdict = "simplify" if grade > TARGET_GRADE else "ok"
        print(f"{code:7} {title:36} {grade:5.1f} {words:5d}  {verdict}")
    print(f"\n{over} of {len(rows)} sections are above grade {TARGET_GRADE:g}.")
    for procedure in kb.procedures:
        text = as_sentences([b for s in procedure.document.sections.values() for b in s.blocks])
        print(f"{procedure.code:7} whole document: grade {textstat.flesch_kincaid_grade(text):.1f}")


if __name__ == "__main__":
    main()
