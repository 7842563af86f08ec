"""Restarts and crashes under load lose nothing that a patient was answered for.

The default tracker store (endpoints.yml) is SQLite: a message that got its reply
is on disk, whatever happens to either server afterwards.
"""

import json
import sqlite3
import threading
import time

import pytest
import requests

from scripts.local_servers import GUARD_OFF, TOKEN, Assistant, action_server, rasa_server, started
from tests.conftest import eventually

QUESTIONS = [
    "what are the risks of a discogram?",
    "how long does it take?",
    "how do I prepare?",
    "what about nucleoplasty?",
    "what is the recovery like?",
    "does it hurt?",
]
PATIENTS = 6


@pytest.fixture
def servers(tmp_path):
    actions = action_server(tmp_path)
    # The load comes from one address, and answers may wait while a server restarts.
    rasa = rasa_server(tmp_path, actions.url, guard=GUARD_OFF)
    with started(actions, rasa):
        yield actions, rasa


def stored_user_messages(workdir, sender):
    with sqlite3.connect(workdir / "conversations.db") as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' "
                          "ORDER BY id", (sender,)).fetchall()
    return [json.loads(data)["text"] for (data,) in rows]


class Load:
    """Patients asking questions in a loop; records each message that got a reply."""

    def __init__(self, url):
        self.url = url
        self.acknowledged = {f"patient-{n}": [] for n in range(PATIENTS)}
        self.failures = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._patient, args=(sender,))
                         for sender in self.acknowledged]

    def _patient(self, sender):
        session, turn = requests.Session(), 0
        while not self._stop.is_set():
            text = f"{QUESTIONS[turn % len(QUESTIONS)]} ({turn})"
            turn += 1
            try:
                response = session.post(f"{self.url}/webhooks/rest/webhook",
                                        json={"sender": sender, "message": text}, timeout=30)
            except requests.RequestException:
                self.failures += 1
                time.sleep(0.2)
                continue
            if response.status_code == 200 and response.json():
                self.acknowledged[sender].append(text)

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def count(self):
        return sum(len(texts) for texts in self.acknowledged.values())


def assert_nothing_acknowledged_was_lost(load, workdir):
    for sender, texts in load.acknowledged.items():
        stored = stored_user_messages(workdir, sender)
        assert [text for text in stored if text in texts] == texts, sender


def test_kill_9_of_the_rasa_server_under_load_loses_no_answered_message(servers, tmp_path):
    actions, rasa = servers
    with Load(rasa.url) as load:
        eventually(lambda: load.count() >= 30, 60, "30 answered messages")
        rasa.stop(kill=True)
        killed_at = load.count()
        rasa.start()
        eventually(lambda: load.count() >= killed_at + 30, 120, "30 answers after the restart")
    assert load.failures > 0  # the crash really hit requests in flight
    assert_nothing_acknowledged_was_lost(load, tmp_path)
    print(f"{load.count()} answered messages, {load.failures} failed during the crash: none lost")

    # After the restart the conversation still has its context.
    reply = Assistant(rasa.url, TOKEN, tmp_path).send("patient-0", "what are the risks of a discogram?")
    assert reply[0]["text"].startswith("Lumbar discography (discogram), CPT 62290 — Risks")
    follow_up = Assistant(rasa.url, TOKEN, tmp_path).send("patient-0", "how long does it take?")
    assert follow_up[0]["text"].startswith("Lumbar discography (discogram), CPT 62290 — How long")


def test_kill_9_of_the_action_server_under_load_loses_no_message(servers, tmp_path):
    actions, rasa = servers
    with Load(rasa.url) as load:
        eventually(lambda: load.count() >= 30, 60, "30 answered messages")
        actions.stop(kill=True)
        killed_at = load.count()
        eventually(lambda: load.count() >= killed_at + 12, 60,  # answered with the fallback meanwhile
                   "12 answers while the action server is down")
        actions.start()
        restarted_at = load.count()
        eventually(lambda: load.count() >= restarted_at + 30, 60, "30 answers after the restart")
    assert_nothing_acknowledged_was_lost(load, tmp_path)
    print(f"{load.count()} answered messages, none lost")
