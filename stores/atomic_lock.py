"""Rasa's read-change-writes of a conversation's lock, each made one atomic step.

Rasa 3.6's lock stores read a lock, change it in Python and write it back: two
processes doing that at once overwrite each other's change. A store that mixes
this in (stores/sqlite_lock.py, stores/redis_lock.py) says only how to apply one
change atomically (`_change`); the changes themselves are the same for both.
"""

from __future__ import annotations

from typing import Callable, Optional, Text, Tuple, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError

T = TypeVar("T")
KEEP, SAVE, DELETE = "keep", "save", "delete"
Change = Callable[[Optional[TicketLock]], Tuple[str, Optional[TicketLock], T]]


class AtomicLockChanges:
    """Put before Rasa's LockStore class in the bases, so that these methods win."""

    def _change(self, conversation_id: Text, change: Change) -> T:
        """Applies `change` to the stored lock, no other process changing it meanwhile:
        `change(lock)` returns (KEEP, SAVE or DELETE, the lock to save, the result)."""
        raise NotImplementedError

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
