"""`make purge`: conversations and feedback older than the retention period are gone,
recent ones are untouched, on the tracker store the running server uses."""

import sqlite3
import subprocess
import time

from tests.conftest import GUARD_OFF, ROOT, running_assistant

DAY = 86400


def age(database, days, sender=None):
    """Moves a conversation (or all feedback) `days` into the past."""
    with sqlite3.connect(database) as db:
        if sender:
            db.execute("UPDATE events SET timestamp = timestamp - ? WHERE sender_id = ?",
                       (days * DAY, sender))
        else:
            db.execute("UPDATE feedback SET day = date(day, ?)", (f"-{days} days",))


def test_purge_deletes_only_what_is_older_than_the_retention(tmp_path):
    with running_assistant(tmp_path, guard=GUARD_OFF) as assistant:
        assistant.send("old-patient", "what are the risks of a discogram?")
        assistant.send("old-patient", "what is the weather tomorrow?")  # kept as feedback
        assistant.send("recent-patient", "what are the risks of nucleoplasty?")
        age(tmp_path / "conversations.db", 31, "old-patient")
        age(tmp_path / "feedback.db", 31)

        purge = subprocess.run(
            ["make", "--no-print-directory", "purge", "RETENTION_DAYS=30",
             f"TRACKER_DB={tmp_path / 'conversations.db'}", f"FEEDBACK_DB={tmp_path / 'feedback.db'}"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )
        assert "Deleted 1 conversation(s) and 1 feedback row(s) older than 30 days." in purge.stdout

        with sqlite3.connect(tmp_path / "conversations.db") as db:
            senders = {s for (s,) in db.execute("SELECT DISTINCT sender_id FROM events")}
            feedback_rows = db.execute("SELECT count(*) FROM events").fetchone()
        assert senders == {"recent-patient"} and feedback_rows[0] > 0
        with sqlite3.connect(tmp_path / "feedback.db") as db:
            assert db.execute("SELECT count(*) FROM feedback").fetchone() == (0,)

        # The server reads the purged conversation as a new one; the recent one goes on.
        assert assistant.tracker("old-patient")["latest_message"]["text"] is None
        follow_up = assistant.send("recent-patient", "how long does it take?")
        assert "(nucleoplasty), CPT 62287 — How long it takes" in follow_up[0]["text"]
        started = assistant.send("old-patient", "how long does it take?")
        assert "Which procedure" in started[0]["text"]
