"""The guard's rate limits (channels/guard.py) kept in Redis, shared by every replica.

With endpoints.scale-out.yml each replica counted on its own, so N replicas let a
sender or an address send N times the limit. When the lock store is Redis, the
guard counts here instead, in the same Redis: one sorted set per sender or
address ("<prefix>:ratelimit:<scope>:<key>"), the times of its messages in the
window. A Lua script checks and records a message in one atomic step, on
Redis's clock (replicas' clocks may differ), and the key expires with the window.
"""

from __future__ import annotations

import logging
import uuid

import redis

logger = logging.getLogger(__name__)

# KEYS[1]: the sorted set; ARGV: window (microseconds), limit, a unique member.
# Returns 1 if the message is allowed (and recorded), 0 if over the limit.
SLIDING_WINDOW = """
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local window_us = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_us - window_us)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now_us, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window_us / 1000))
return 1
"""


class RedisRateLimiter:
    """At most `limit` messages per key in any `window` seconds, across replicas."""

    def __init__(self, client: redis.Redis, prefix: str, limit: int, window: float) -> None:
        self.prefix, self.limit, self.window = prefix, limit, window
        self._script = client.register_script(SLIDING_WINDOW)

    def allow(self, key: str) -> bool:
        if self.limit <= 0:
            return True
        try:
            return bool(self._script(keys=[self.prefix + key],
                                     args=[int(self.window * 1_000_000), self.limit, uuid.uuid4().hex]))
        except redis.RedisError as error:
            # The lock store needs the same Redis: the message will get the fallback anyway.
            logger.error("Rate limit not checked, Redis failed (%s).", type(error).__name__)
            return True
