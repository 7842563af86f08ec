"""The SQLite lock store's own behaviour, on a real file (the servers: test_sqlite_lock.py)."""

import asyncio
import sqlite3
import subprocess
import sys

from rasa.utils.endpoints import EndpointConfig

from stores.sqlite_lock import SQLiteLockStore


def store(path):
    return SQLiteLockStore(EndpointConfig(type="stores.sqlite_lock.SQLiteLockStore", db=str(path)))


def test_a_lock_is_held_then_given_back(tmp_path):
    locks = store(tmp_path / "locks.db")

    async def turn():
        async with locks.lock("patient") as lock:
            assert lock.tickets and locks.get_lock("patient").tickets
        assert locks.get_lock("patient") is None

    asyncio.run(turn())


def test_the_locks_of_a_dead_process_are_dropped_at_start(tmp_path):
    path = tmp_path / "locks.db"
    # Another process takes a ticket and dies mid-turn (no cleanup).
    subprocess.run([sys.executable, "-c", f"""
from rasa.utils.endpoints import EndpointConfig
from stores.sqlite_lock import SQLiteLockStore
SQLiteLockStore(EndpointConfig(db={str(path)!r})).issue_ticket("patient")
"""], check=True)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM locks").fetchone() == (1,)
    mine = store(path)
    mine.issue_ticket("someone else")  # held by this live process: kept
    assert mine.get_lock("patient") is None
    assert store(path).get_lock("someone else") is not None
