"""A lock store that works across the processes of one machine, with nothing to install.

endpoints.yml:  lock_store: {type: stores.sqlite_lock.SQLiteLockStore, db: <file>}

Rasa's in-memory lock store is one process's: with two Sanic workers
(SANIC_WORKERS) two messages of one conversation could then be handled at once,
by different workers, and Rasa refuses more than one worker with it. Here each
conversation's lock (Rasa's TicketLock, as JSON) is a row of a SQLite file, and
every read-change-write of a lock is one `BEGIN IMMEDIATE` transaction: SQLite's
own file lock lets one process in at a time, so two workers never both take the
same ticket, nor undo each other's change (what stores/redis_lock.py does with
Redis transactions for several machines).
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import contextmanager
from typing import Iterator, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockStore
from rasa.utils.endpoints import EndpointConfig

from stores.atomic_lock import DELETE, SAVE, AtomicLockChanges, Change, T

BUSY_TIMEOUT_SECONDS = 10  # a transaction here takes microseconds; this is for a stalled process


class SQLiteLockStore(AtomicLockChanges, LockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        db = endpoint_config.kwargs.get("db") or endpoint_config.url
        if not db:
            raise ValueError("lock_store: SQLiteLockStore needs `db`, the file that holds the locks")
        self.db = str(db)
        self._connection: Optional[sqlite3.Connection] = None
        self._pid = 0
        with self.transaction() as connection:
            connection.execute("CREATE TABLE IF NOT EXISTS locks "
                               "(conversation_id TEXT PRIMARY KEY, data TEXT NOT NULL, pid INTEGER)")
            # The locks of a server that died mid-turn (kill -9, a crash): gone with it, as
            # they would be with the in-memory store, instead of keeping its conversations
            # waiting for the ticket's lifetime after the restart.
            dead = [(pid,) for (pid,) in connection.execute("SELECT DISTINCT pid FROM locks")
                    if not _alive(pid)]
            connection.executemany("DELETE FROM locks WHERE pid = ?", dead)

    def _db(self) -> sqlite3.Connection:
        # One connection per process: Sanic's workers are forked after the store may exist.
        if self._connection is None or self._pid != os.getpid():
            connection = sqlite3.connect(self.db, timeout=BUSY_TIMEOUT_SECONDS,
                                         isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # a lock need not survive a power cut
            self._connection, self._pid = connection, os.getpid()
        return self._connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        connection = self._db()
        connection.execute("BEGIN IMMEDIATE")  # the write lock, taken before reading
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def _read(self, connection: sqlite3.Connection, conversation_id: Text) -> Optional[TicketLock]:
        row = connection.execute(
            "SELECT data FROM locks WHERE conversation_id = ?", (conversation_id,)).fetchone()
        return TicketLock.from_dict(json.loads(row[0])) if row else None

    def _change(self, conversation_id: Text, change: Change) -> T:
        # SQLite's write lock, taken before reading, keeps every other process out.
        with self.transaction() as connection:
            what, lock, result = change(self._read(connection, conversation_id))
            if what == SAVE:
                connection.execute("INSERT OR REPLACE INTO locks (conversation_id, data, pid) VALUES (?, ?, ?)",
                                   (conversation_id, lock.dumps(), os.getpid()))
            elif what == DELETE:
                connection.execute("DELETE FROM locks WHERE conversation_id = ?", (conversation_id,))
        return result

    # What Rasa's LockStore reads and writes one at a time.

    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        return self._read(self._db(), conversation_id)

    def delete_lock(self, conversation_id: Text) -> None:
        self._change(conversation_id, lambda lock: (DELETE, None, None))

    def save_lock(self, lock: TicketLock) -> None:
        self._change(lock.conversation_id, lambda _: (SAVE, lock, None))


def _alive(pid: Optional[int]) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
