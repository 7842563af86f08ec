"""Urgent reports and benign messages with symptom words, through the real servers.

The sets (tests/safety/) were written by someone who never saw the red-flag
patterns: every report must be escalated, no benign message may get urgent advice.
"""

import uuid

import pytest
import yaml

from tests.conftest import ROOT

SETS = ROOT / "tests" / "safety"
EMERGENCY = "can be a medical emergency"
CARE_TEAM = "needs to be checked by your care team today"
REPORTS = yaml.safe_load((SETS / "urgent_reports.yml").read_text())["reports"]
BENIGN = yaml.safe_load((SETS / "benign_symptom_words.yml").read_text())["messages"]


def reply(assistant, text: str) -> str:
    return "\n".join(r.get("text") or "" for r in assistant.send(f"patient-{uuid.uuid4().hex[:8]}", text))


def test_the_sets_are_large_enough():
    assert len(REPORTS) >= 150 and len(BENIGN) >= 150


def test_every_urgent_report_is_escalated(assistant):
    missed = [r["text"] for r in REPORTS if not {EMERGENCY, CARE_TEAM} & set(_advice(reply(assistant, r["text"])))]
    assert missed == []


def test_no_benign_message_gets_urgent_advice(assistant):
    alarmed = [m["text"] for m in BENIGN if _advice(reply(assistant, m["text"]))]
    assert alarmed == []


def test_a_report_in_words_the_patterns_lack_is_escalated(assistant):
    # The patterns miss it (tests/components/test_report_model.py); the learned net does not.
    text = reply(assistant, "my leg has been acting weird and weak since the spacer yesterday, kinda scared")
    assert _advice(text)


def _advice(text: str) -> list[str]:
    return [advice for advice in (EMERGENCY, CARE_TEAM) if advice in text]


@pytest.mark.parametrize(
    "message, when_to_call, section",
    [
        ("what should I do if I get a fever after the discogram?", "call your care team the same day",
         "Lumbar discography (discogram), CPT 62290"),
        ("what if I lose control of my bladder after the spacer?", "call 911 or go to the nearest emergency department",
         "Interspinous spacer, second level (lumbar), CPT +22870"),
    ],
)
def test_a_conditional_question_says_when_to_call_and_answers(assistant, message, when_to_call, section):
    text = reply(assistant, message)
    assert when_to_call in text and section in text
    assert not _advice(text)
