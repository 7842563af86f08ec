"""`make backup` while patients keep writing, `make restore` into a fresh storage folder,
and the assistant started on it goes on with the conversation. Real servers."""

import sqlite3
import subprocess
import threading
from contextlib import closing

import requests

from scripts.local_servers import GUARD_OFF, ROOT, free_port, running_assistant
from tests.conftest import eventually

RISKS = "Lumbar discography (discogram), CPT 62290 — Risks and complications:"
DURATION = "Lumbar discography (discogram), CPT 62290 — How long it takes:"


def make(*arguments, check=True):
    done = subprocess.run(["make", "--no-print-directory", *arguments], cwd=ROOT,
                          capture_output=True, text=True)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def storage(folder):
    """The make variables for a storage folder, and ports nobody uses (not `make run`'s
    defaults, which another assistant on this machine may be using)."""
    return [f"TRACKER_DB={folder / 'conversations.db'}", f"FEEDBACK_DB={folder / 'feedback.db'}",
            f"RASA_PORT={free_port()}", f"ACTIONS_PORT={free_port()}"]


def user_texts(database, sender):
    with closing(sqlite3.connect(database)) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'",
                          (sender,)).fetchall()
    return len(rows)


class Load:
    """Patients sending messages, one after the other, until stopped."""

    def __init__(self, assistant):
        self.assistant, self.sent, self.stopping = assistant, 0, threading.Event()
        self.failure = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        questions = ["what are the risks of nucleoplasty?", "how long does it take?", "what is the weather?"]
        try:
            while not self.stopping.is_set():
                assert self.assistant.send(f"load-{self.sent % 5}", questions[self.sent % 3])
                self.sent += 1
        except Exception as error:  # noqa: BLE001 - reported by the test
            self.failure = error

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stopping.set()
        self.thread.join(60)


def test_backup_under_load_then_restore_and_the_conversation_goes_on(tmp_path):
    live, fresh, backups = tmp_path / "live", tmp_path / "fresh", tmp_path / "backups"
    live.mkdir()
    with running_assistant(live, guard=GUARD_OFF) as assistant:
        assert RISKS in assistant.send("patient-1", "what are the risks of a discogram?")[0]["text"]
        with Load(assistant) as load:
            eventually(lambda: load.sent >= 3, 120, "the load's messages answered")
            # Backups while messages arrive (at least 3, and until some arrived during
            # them); BACKUP_KEEP=2 keeps the newest two.
            before, made = load.sent, 0
            while made < 3 or load.sent == before:
                make("backup", f"BACKUP_DIR={backups}", "BACKUP_KEEP=2", *storage(live))
                made += 1
        assert load.failure is None, load.failure
        conversations = sorted(backups.glob("conversations-*.db"))
        assert len(conversations) == 2 and len(sorted(backups.glob("feedback-*.db"))) == 2
        newest = conversations[-1]
        assert newest.name.startswith("conversations-20")  # dated
        assert not newest.with_name(newest.name + "-wal").exists()  # one self-contained file

        # The assistant still runs on its ports: restore refuses, and writes nothing.
        port = requests.utils.urlparse(assistant.url).port
        refused = make("restore", f"FILE={newest}", *storage(fresh), f"RASA_PORT={port}", check=False)
        assert refused.returncode != 0
        assert "Stop the assistant first" in refused.stdout + refused.stderr
        assert not (fresh / "conversations.db").exists()
        # Nor onto a database the running server has open, whatever the ports.
        refused = make("restore", f"FILE={newest}", *storage(live), check=False)
        assert refused.returncode != 0 and f"{live / 'conversations.db'} open" in refused.stderr

    with closing(sqlite3.connect(newest)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    make("restore", f"FILE={newest}", *storage(fresh))
    make("restore", f"FILE={sorted(backups.glob('feedback-*.db'))[-1]}", *storage(fresh))
    assert user_texts(fresh / "conversations.db", "patient-1") == 1

    # The assistant on the restored folder: the conversation is still about the discogram.
    with running_assistant(fresh, guard=GUARD_OFF) as restored:
        assert DURATION in restored.send("patient-1", "how long does it take?")[0]["text"]
        events = [e["event"] for e in restored.tracker("patient-1")["events"]]
        assert events.count("user") == 2


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    bogus = tmp_path / "conversations-20260101T000000.000000Z.db"
    bogus.write_text("not a database")
    refused = make("restore", f"FILE={bogus}", *storage(tmp_path / "target"), check=False)
    assert refused.returncode != 0 and "not a readable SQLite database" in refused.stderr
    assert not (tmp_path / "target" / "conversations.db").exists()
    assert make("restore", check=False).returncode != 0  # no FILE: a clear question, not a crash
