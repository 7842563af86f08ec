"""The content team's reports: readability of the knowledge base, and recorded feedback."""

import re
import subprocess
import sys
from contextlib import closing

from actions import feedback
from tests.conftest import ROOT


def run(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def test_kb_report_grades_every_section_original_and_plain_against_grade_8():
    report = run("scripts.kb_report")
    rows = re.findall(r"^(\+?\d{5}) +(.+?) +(\d+\.\d) +(\d+\.\d|-)  (ok|.+)$", report, re.M)
    assert len(rows) == 66  # 13 sections x 5 documents, plus 01935's tools and equipment
    assert {code for code, *_ in rows} == {"62287", "01935", "62290", "+22870", "62264"}
    assert all(plain != "-" and float(plain) <= 8 and verdict == "ok" for *_, plain, verdict in rows)
    above = sum(float(grade) > 8 for _, _, grade, _, _ in rows)
    assert f"{above} of 66 sections are above grade 8 in the clinic's words; 0 in their plain versions" in report


def test_kb_report_lists_the_glossary_terms_of_each_document():
    report = run("scripts.kb_report")
    terms = dict(re.findall(r"^(\+?\d{5}) +\d+ terms \(\d+ not reviewed\): (.+)$", report, re.M))
    assert set(terms) == {"62287", "01935", "62290", "+22870", "62264"}
    assert "hematoma" in terms["62290"].split(", ") and "cerebrospinal fluid" in terms["62264"].split(", ")
    assert "Every term the documents use has a glossary entry." in report


def test_content_report_without_feedback(tmp_path):
    assert "No feedback recorded yet" in run("scripts.content_report", "--db", str(tmp_path / "none.db"))


def test_content_report_counts_the_guards_replies_per_day_and_cause(tmp_path):
    rows = [("2026-11-30", "guard_fallback_no_reply")] * 3 + [("2026-11-30", "guard_rate_limited")] + \
        [("2026-12-01", "guard_fallback_timeout")] * 2 + [("2026-12-01", "guard_too_long"),
                                                          ("2026-12-01", "guard_empty")]
    with closing(feedback.connect(tmp_path / "feedback.db")) as db, db:
        db.executemany("INSERT INTO feedback (day, kind) VALUES (?, ?)", rows)
        db.execute("INSERT INTO feedback VALUES ('2026-12-01', 'out_of_scope', 'out_of_scope', NULL, "
                   "NULL, 'what is the weather?')")
    report = run("scripts.content_report", "--db", str(tmp_path / "feedback.db"))
    table = report[report.index("Replies of the guard"):].splitlines()
    assert table[1].split() == ["day", "no", "reply", "too", "slow", "error", "empty", "too", "long",
                                "too", "fast"]
    assert table[2].split() == ["2026-11-30", "3", "0", "0", "0", "0", "1"]
    assert table[3].split() == ["2026-12-01", "0", "2", "0", "1", "1", "0"]
    # The guard's counts stay out of the content team's sections above.
    assert "guard_" not in report[:report.index("Replies of the guard")]
    assert "out_of_scope" in report
