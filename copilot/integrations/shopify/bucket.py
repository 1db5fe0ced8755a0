"""Each shop's cost bucket (https://shopify.dev/docs/api/usage/limits), shared by every process.

The client reserves a query's cost before sending it and records the bucket every answer reports;
the bucket lives in Redis so that every web and worker process sees the same one.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import redis

from .types import ThrottleStatus

# KEYS: the shop's bucket hash. ARGV: cost to reserve, expiry ms. Returns "0" when reserved, else
# the seconds to wait (as a string: Lua numbers would be truncated to integers). An unknown bucket
# lets the request through, since its answer will tell us the bucket. Uses the Redis clock.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'available', 'maximum', 'rate', 'at')
if not state[1] then return '0' end
local maximum = tonumber(state[2])
local rate = tonumber(state[3])
local available = math.min(maximum, tonumber(state[1]) + (now - tonumber(state[4])) / 1000 * rate)
local cost = tonumber(ARGV[1])
if available < cost then
  if rate <= 0 then return '1' end
  return tostring((cost - available) / rate)
end
redis.call('HSET', KEYS[1], 'available', tostring(available - cost), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return '0'
"""

# KEYS: the shop's bucket hash. ARGV: available, maximum, rate, expiry ms. Shopify's word wins.
_OBSERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], 'available', ARGV[1], 'maximum', ARGV[2], 'rate', ARGV[3],
           'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
"""

_BUCKET_EXPIRY_MS = 15 * 60 * 1000


class CostBucket(Protocol):
    def reserve(self, shop_domain: str, cost: float) -> float:
        """Takes `cost` points and returns 0, or returns the seconds to wait and takes nothing."""

    def observe(self, shop_domain: str, status: ThrottleStatus) -> None:
        """Records the bucket as Shopify reported it."""


class RedisCostBucket:
    """Each shop's bucket in a Redis hash, so that every web and worker process sees one bucket."""

    def __init__(self, client: redis.Redis, *, namespace: str = "copilot:shopify:bucket") -> None:
        self.namespace = namespace
        self._reserve = client.register_script(_RESERVE)
        self._observe = client.register_script(_OBSERVE)

    def reserve(self, shop_domain: str, cost: float) -> float:
        wait = self._reserve(
            keys=[f"{self.namespace}:{shop_domain}"], args=[cost, _BUCKET_EXPIRY_MS]
        )
        return float(wait)

    def observe(self, shop_domain: str, status: ThrottleStatus) -> None:
        self._observe(
            keys=[f"{self.namespace}:{shop_domain}"],
            args=[
                status.currently_available,
                status.maximum_available,
                status.restore_rate,
                _BUCKET_EXPIRY_MS,
            ],
        )


class LocalCostBucket:
    """The same bucket in process memory, for a single-process deployment without Redis."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float, float, float]] = {}

    def reserve(self, shop_domain: str, cost: float) -> float:
        with self._lock:
            state = self._state.get(shop_domain)
            if state is None:
                return 0.0
            available, maximum, rate, at = state
            now = time.monotonic()
            available = min(maximum, available + (now - at) * rate)
            if available < cost:
                return (cost - available) / rate if rate > 0 else 1.0
            self._state[shop_domain] = (available - cost, maximum, rate, now)
            return 0.0

    def observe(self, shop_domain: str, status: ThrottleStatus) -> None:
        with self._lock:
            self._state[shop_domain] = (
                status.currently_available,
                status.maximum_available,
                status.restore_rate,
                time.monotonic(),
            )

    def clear(self) -> None:
        with self._lock:
            self._state.clear()


_shared_buckets: dict[str, CostBucket] = {}
_shared_buckets_lock = threading.Lock()


def shared_cost_bucket(redis_url: str, *, socket_timeout: float = 2.0) -> CostBucket:
    """The process's bucket store: in Redis when `redis_url` is set, else in memory."""
    with _shared_buckets_lock:
        if redis_url not in _shared_buckets:
            if redis_url:
                client = redis.Redis.from_url(
                    redis_url, socket_connect_timeout=socket_timeout, socket_timeout=socket_timeout
                )
                _shared_buckets[redis_url] = RedisCostBucket(client)
            else:
                _shared_buckets[redis_url] = LocalCostBucket()
        return _shared_buckets[redis_url]
