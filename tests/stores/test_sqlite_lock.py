"""The SQLite lock store (stores/sqlite_lock.py) serialises a conversation's messages
across processes: two Rasa servers on one machine with endpoints.yml, sharing its
SQLite files as two Sanic workers do, with test_scale_out.py's checks."""

import json
import sqlite3
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, Optional

import psutil
import pytest
import requests

from scripts.local_servers import GUARD_OFF, TOKEN, Assistant, action_server, rasa_server, started
from tests.test_scale_out import PROCEDURES, QUESTIONS, texts, turns


def new_patient() -> str:
    return f"patient-{uuid.uuid4().hex[:8]}"


def stored_events(db, *senders: str) -> dict[str, list[dict]]:
    connection = sqlite3.connect(db)
    try:
        marks = ",".join("?" * len(senders))
        rows = connection.execute(
            f"SELECT sender_id, data FROM events WHERE sender_id IN ({marks}) ORDER BY id", senders).fetchall()
    finally:
        connection.close()
    events = {sender: [] for sender in senders}
    for sender, data in rows:
        events[sender].append(json.loads(data))
    return events


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory) -> Iterator[tuple[Assistant, Assistant]]:
    workdir = tmp_path_factory.mktemp("sqlite-lock")
    actions = action_server(workdir)
    # Same TRACKER_DB (server_environment: the workdir's), so the same lock file.
    a, b = (rasa_server(workdir, actions.url, guard=GUARD_OFF, name=f"rasa-{n}") for n in "ab")
    with started(actions, a, b):
        yield Assistant(a.url, TOKEN, workdir), Assistant(b.url, TOKEN, workdir)


def test_simultaneous_messages_to_two_processes_are_handled_one_at_a_time(two_processes):
    """Ten messages of one conversation sent at once, half to each process (eight such conversations)."""
    a, b = two_processes
    patients = [new_patient() for _ in range(8)]
    messages = [question.format(name) for name, _ in PROCEDURES for question in QUESTIONS[:2]]
    sends = [(patient, message) for patient in patients for message in messages]
    start = threading.Barrier(len(sends))

    def send(numbered: tuple[int, tuple[str, str]]) -> Optional[list[dict]]:
        n, (patient, message) = numbered
        start.wait()
        try:
            return (a, b)[n % 2].send(patient, message)
        except requests.Timeout:
            return None

    with ThreadPoolExecutor(len(sends)) as pool:
        replies = dict(zip(sends, pool.map(send, enumerate(sends))))

    waited = [send for send, reply in replies.items() if reply is None]
    assert not waited, f"no reply within 30 s (a conversation's lock never freed?): {waited}"
    stored = stored_events(a.workdir / "conversations.db", *patients)
    for patient in patients:
        conversation = turns(stored[patient])
        assert sorted(turn[0]["text"] for turn in conversation) == sorted(messages), patient
        for turn in conversation:
            answer = replies[patient, turn[0]["text"]]
            # The message's own answer, and nothing of another message's turn in between.
            assert [e.get("text") for e in turn if e["event"] == "bot"] == texts(answer), turn
            actions = [e["name"] for e in turn if e["event"] == "action"]
            assert actions[-1] == "action_listen" and actions.count("action_listen") == 1, turn
            assert answer[0]["text"].startswith(next(label for name, label in PROCEDURES if name in turn[0]["text"]))
        assert [e["event"] for e in stored[patient]].count("session_started") == 1, patient
    # Every lock was given back: nothing left in the lock file.
    with sqlite3.connect(f"{a.workdir / 'conversations.db'}.locks") as locks:
        assert locks.execute("SELECT count(*) FROM locks").fetchone() == (0,)


def test_sanic_workers_with_the_sqlite_lock_store(tmp_path):
    """Rasa takes SANIC_WORKERS=2 with this lock store (it keeps one worker for its in-memory one)."""
    actions = action_server(tmp_path)
    rasa = rasa_server(tmp_path, actions.url, guard=GUARD_OFF, env={"SANIC_WORKERS": "2"})
    with started(actions, rasa):
        assistant = Assistant(rasa.url, TOKEN, tmp_path)
        patient = new_patient()
        for name, label in PROCEDURES[:3]:
            assert assistant.send(patient, QUESTIONS[0].format(name))[0]["text"].startswith(label)
        workers = psutil.Process(rasa.process.pid).children()
        assert len(workers) == 2, workers
