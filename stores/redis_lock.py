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
from typing import Text

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from stores.atomic_lock import DELETE, SAVE, AtomicLockChanges, Change, T


class AtomicRedisLockStore(AtomicLockChanges, RedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url or "localhost", **endpoint_config.kwargs)

    def _change(self, conversation_id: Text, change: Change) -> T:
        # Again if another process changed the lock meanwhile.
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
