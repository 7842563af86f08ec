"""What the content team needs to improve the knowledge base, and nothing more.

One row per event: the day, what happened (an answer helped or not, a question
the assistant could not answer), the intent, procedure and section. The
question itself is kept only when it went unanswered or unhelped, with numbers,
e-mail addresses and phone numbers masked. No sender id, no conversation.
`make report` summarises it (scripts/content_report.py).
"""

from __future__ import annotations

import os
import re
import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "storage" / "feedback.db"
QUESTION_KINDS = {
    "unhelpful", "fallback", "out_of_scope", "other_topic", "not_in_document", "section_not_covered",
    "unknown_term",  # "what does X mean?" with X not in the glossary: a word to add
}
MAX_QUESTION_CHARS = 300
SCHEMA = """CREATE TABLE IF NOT EXISTS feedback (
    day TEXT NOT NULL, kind TEXT NOT NULL, intent TEXT, procedure TEXT, section TEXT, question TEXT)"""
MASKS = [
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"), "[email]"),
    (re.compile(r"\+?\d[\d\s().-]{6,}\d"), "[number]"),
    (re.compile(r"\d{3,}"), "[number]"),
]


def redact(text: str) -> str:
    for pattern, mask in MASKS:
        text = pattern.sub(mask, text)
    return text[:MAX_QUESTION_CHARS]


def database_path() -> Path:
    return Path(os.environ.get("FEEDBACK_DB", DEFAULT_PATH))


def connect(path: Path | None = None) -> sqlite3.Connection:
    path = path or database_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    connection.execute(SCHEMA)
    return connection


def record(kind: str, intent: str | None, procedure: str | None, section: str | None,
           question: str | None = None) -> None:
    kept = redact(question) if question and kind in QUESTION_KINDS else None
    with closing(connect()) as connection, connection:
        connection.execute(
            "INSERT INTO feedback VALUES (?, ?, ?, ?, ?, ?)",
            (date.today().isoformat(), kind, intent, procedure, section, kept),
        )
