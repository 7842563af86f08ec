"""The content team's feedback store keeps what it needs and no more."""

import sqlite3

from actions import feedback


def rows(path):
    return sqlite3.connect(path).execute("SELECT kind, intent, procedure, section, question FROM feedback").fetchall()


def test_questions_are_kept_only_when_unanswered_and_masked(tmp_path, monkeypatch):
    path = tmp_path / "feedback.db"
    monkeypatch.setenv("FEEDBACK_DB", str(path))
    feedback.record("helpful", "ask_risks", "62290", "risks", "what are the risks, I'm Jane, 555-123-4567")
    feedback.record("out_of_scope", "out_of_scope", None, None,
                    "my MRN is 12345678, email jane@example.com, call 555 123 4567, how much is it?")
    assert rows(path) == [
        ("helpful", "ask_risks", "62290", "risks", None),
        ("out_of_scope", "out_of_scope", None, None,
         "my MRN is [number], email [email], call [number], how much is it?"),
    ]


def test_long_questions_are_cut(tmp_path, monkeypatch):
    monkeypatch.setenv("FEEDBACK_DB", str(tmp_path / "f.db"))
    feedback.record("fallback", "nlu_fallback", None, None, "x" * 5000)
    assert len(rows(tmp_path / "f.db")[0][4]) == feedback.MAX_QUESTION_CHARS
