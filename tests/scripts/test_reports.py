"""The content team's reports: readability of the knowledge base, and recorded feedback."""

import re
import subprocess
import sys

from tests.conftest import ROOT


def run(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def test_kb_report_grades_every_section_against_grade_8():
    report = run("scripts.kb_report")
    rows = re.findall(r"^(\+?\d{5}) +(.+?) +(\d+\.\d) +(\d+)  (ok|simplify)$", report, re.M)
    assert len(rows) == 66  # 13 sections x 5 documents, plus 01935's tools and equipment
    assert {code for code, *_ in rows} == {"62287", "01935", "62290", "+22870", "62264"}
    assert all((float(grade) > 8) == (verdict == "simplify") for _, _, grade, _, verdict in rows)
    simplify = sum(verdict == "simplify" for *_, verdict in rows)
    assert f"{simplify} of 66 sections are above grade 8." in report


def test_content_report_without_feedback(tmp_path):
    assert "No feedback recorded yet" in run("scripts.content_report", "--db", str(tmp_path / "none.db"))
