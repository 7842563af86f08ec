"""The SQL tracker store (stores/sql.py) on a real SQLite file: what it stores and reads
back is what Rasa's own SQLTrackerStore stores and reads, also when another replica or
`make purge` changes a conversation behind its back."""

import asyncio
import sqlite3

import pytest
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.core.tracker_store import SQLTrackerStore as RasaSQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered,
)

from stores.sql import SQLTrackerStore
from tests.conftest import ROOT

DOMAIN = Domain.load(ROOT / "domain.yml")


def turn(question, procedure="62290"):
    return [
        UserUttered(question, {"name": "ask_risks", "confidence": 0.9}),
        ActionExecuted("action_answer_section"),
        BotUttered(f"answer to {question}", {"buttons": [{"title": "More", "payload": "/tell_me_more"}]}),
        SlotSet("procedure", procedure),
        ActionExecuted("action_listen"),
    ]


def store(cls, path):
    return cls(domain=DOMAIN, dialect="sqlite", db=str(path))


def run(coroutine):
    return asyncio.run(coroutine)


async def say(store, sender, question, procedure="62290"):
    tracker = await store.get_or_create_tracker(sender)
    for event in turn(question, procedure):
        tracker.update(event)
    await store.save(tracker)
    return tracker


def texts(tracker):
    return [event.text for event in tracker.events if isinstance(event, UserUttered)]


@pytest.fixture
def database(tmp_path):
    return tmp_path / "conversations.db"


def test_rasa_reads_back_exactly_what_it_stored(database):
    ours = store(SQLTrackerStore, database)
    for n in range(3):
        saved = run(say(ours, "patient", f"question {n}"))
    read_by_rasa = run(store(RasaSQLTrackerStore, database).retrieve("patient"))
    assert [e.as_dict() for e in read_by_rasa.events] == [e.as_dict() for e in saved.events]
    read_by_us = run(ours.retrieve("patient"))
    assert read_by_us.current_state() == saved.current_state()
    assert read_by_us.get_slot("procedure") == "62290"


def test_another_replica_writing_is_seen(database):
    replica_a, replica_b = store(SQLTrackerStore, database), store(SQLTrackerStore, database)
    run(say(replica_a, "patient", "on a"))
    run(say(replica_b, "patient", "on b", procedure="62287"))
    run(say(replica_a, "patient", "on a again", procedure="62287"))
    tracker = run(replica_b.retrieve("patient"))
    assert texts(tracker) == ["on a", "on b", "on a again"]
    # Every event stored once.
    rasa = run(store(RasaSQLTrackerStore, database).retrieve("patient"))
    assert len(rasa.events) == len(tracker.events)


def test_a_new_session_is_read_back_alone_as_rasa_does(database):
    ours = store(SQLTrackerStore, database)
    tracker = run(say(ours, "patient", "old session"))
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    for event in turn("new session"):
        tracker.update(event)
    run(ours.save(tracker))
    expected = run(store(RasaSQLTrackerStore, database).retrieve("patient"))
    assert texts(run(ours.retrieve("patient"))) == texts(expected) == ["new session"]


def test_a_purged_conversation_is_gone(database):
    ours = store(SQLTrackerStore, database)
    run(say(ours, "patient", "to be purged"))
    with sqlite3.connect(database) as db:
        db.execute("DELETE FROM events WHERE sender_id = 'patient'")
    assert run(ours.retrieve("patient")) is None
    assert texts(run(say(ours, "patient", "fresh start"))) == ["fresh start"]


def test_a_new_conversation_is_written_once_with_what_rasa_writes(tmp_path):
    # Wrapped as the Rasa server wraps its tracker store (Rasa's create_tracker runs).
    ours = FailSafeTrackerStore(store(SQLTrackerStore, tmp_path / "ours.db"))
    rasa = FailSafeTrackerStore(store(RasaSQLTrackerStore, tmp_path / "rasa.db"))
    created = run(ours.get_or_create_tracker("patient"))
    with sqlite3.connect(tmp_path / "ours.db") as db:  # not yet: the turn's save writes it
        assert db.execute("SELECT count(*) FROM events").fetchone() == (0,)
    assert [type(e) for e in created.events] == [
        type(e) for e in run(rasa.get_or_create_tracker("patient")).events]
    for tracker, into in ((created, ours), (run(rasa.retrieve("patient")), rasa)):
        for event in turn("first question"):
            tracker.update(event)
        run(into.save(tracker))

    def rows(path):
        with sqlite3.connect(path) as db:
            return db.execute("SELECT type_name, intent_name, action_name FROM events ORDER BY id").fetchall()

    assert rows(tmp_path / "ours.db") == rows(tmp_path / "rasa.db")
    assert texts(run(ours.retrieve("patient"))) == ["first question"]
