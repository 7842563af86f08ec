"""The guard's rate limits (channels/guard.py) kept in the SQLite lock store's file.

With SANIC_WORKERS above 1 and the SQLite lock store (stores/sqlite_lock.py),
each worker counting on its own would let a sender send the limit once per
worker. Here the workers count in one table of the lock file, the times of each
key's messages in the window; checking and recording a message is one SQLite
transaction (as the Redis limiter's Lua script is one Redis step).
"""

from __future__ import annotations

import logging
import sqlite3
import time

logger = logging.getLogger(__name__)
PURGE_EVERY = 1000  # messages; then the rows of keys no longer sending are dropped


class SQLiteRateLimiter:
    """At most `limit` messages per key in any `window` seconds, across the workers."""

    def __init__(self, lock_store, scope: str, limit: int, window: float) -> None:
        self.lock_store, self.scope, self.limit, self.window = lock_store, scope, limit, window
        self._checked = 0
        with lock_store.transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS rate_events (scope TEXT, key TEXT, at REAL)")
            db.execute("CREATE INDEX IF NOT EXISTS rate_events_key ON rate_events (scope, key, at)")

    def allow(self, key: str) -> bool:
        if self.limit <= 0:
            return True
        now = time.time()  # one machine, one clock for every worker
        self._checked += 1
        try:
            with self.lock_store.transaction() as db:
                if self._checked % PURGE_EVERY == 0:
                    db.execute("DELETE FROM rate_events WHERE scope = ? AND at <= ?",
                               (self.scope, now - self.window))
                db.execute("DELETE FROM rate_events WHERE scope = ? AND key = ? AND at <= ?",
                           (self.scope, key, now - self.window))
                (count,) = db.execute("SELECT count(*) FROM rate_events WHERE scope = ? AND key = ?",
                                      (self.scope, key)).fetchone()
                if count >= self.limit:
                    return False
                db.execute("INSERT INTO rate_events VALUES (?, ?, ?)", (self.scope, key, now))
                return True
        except sqlite3.Error as error:
            # As with Redis: the lock store needs the same file, the message gets the fallback anyway.
            logger.error("Rate limit not checked, SQLite failed (%s).", type(error).__name__)
            return True
