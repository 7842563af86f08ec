"""Rasa's Redis lock store with every change of a lock made atomically.

Rasa 3.6's RedisLockStore reads a conversation's lock, changes it in Python and
writes it back: two replicas doing that at once overwrite each other's change.
Both can then hold the same ticket (two turns of one conversation processed at
once), or a finished ticket comes back and every later message of the
conversation waits until it expires (60 s). Here each read-change-write runs in
a Redis transaction (WATCH/MULTI) that is retried when another replica changed
the lock in between. Same settings as `type: redis` (endpoints.scale-out.yml).
"""

from __future__ import annotations

import json
from typing import Callable, Optional, Text, Tuple, TypeVar

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

T = TypeVar("T")
KEEP, SAVE, DELETE = "keep", "save", "delete"


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url or "localhost", **endpoint_config.kwargs)

    def _change(
        self, conversation_id: Text, change: Callable[[Optional[TicketLock]], Tuple[str, Optional[TicketLock], T]]
    ) -> T:
        """Applies `change` to the stored lock; again if another process changed it meanwhile."""
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    stored = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(stored)) if stored else None
                    what, lock, result = change(lock)
                    pipe.multi()
                    if what == SAVE:
                        pipe.set(key, lock.dumps())
                    elif what == DELETE:
                        pipe.delete(key)
                    pipe.execute()  # raises WatchError if the key changed since `watch`
                    return result
                except redis.WatchError:
                    continue

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: Optional[TicketLock]):
            lock = lock or self.create_lock(conversation_id)
            return SAVE, lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, issue)
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: Text) -> None:
        def remove_expired(lock: Optional[TicketLock]):
            if lock is None:
                return KEEP, None, None
            lock.remove_expired_tickets()
            return SAVE, lock, None

        self._change(conversation_id, remove_expired)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        def finish(lock: Optional[TicketLock]):
            if lock is None:
                return KEEP, None, None
            lock.remove_ticket_for(ticket_number)
            return SAVE, lock, None

        self._change(conversation_id, finish)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Finishes the ticket and removes the lock if no one waits, in one step."""

        def finish(lock: Optional[TicketLock]):
            if lock is None:
                return KEEP, None, None
            lock.remove_ticket_for(ticket_number)
            return (SAVE if lock.is_someone_waiting() else DELETE), lock, None

        self._change(conversation_id, finish)
