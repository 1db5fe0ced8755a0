"""A rolling-window rate limiter shared by every web and worker process.

Kustomer counts requests per organisation over a rolling 60 s (all keys together) and creates
per customer over a rolling minute. We keep the same windows in Redis, so the copilot never sends
a request that it already knows would be refused, whichever process sends it. When Kustomer says
the budget is spent (429, or `x-ratelimit-remaining: 0`) every process holds off until the reset.

Without Redis (the embedded default) the same algorithm runs in process.
"""

import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass

import redis

from .http import RateLimited

# While the limiter's Redis cannot be reached nothing is sent: callers wait this long, as for a
# rate limit (so a write is never left half sent), and try again.
UNREACHABLE_RETRY_SECONDS = 5.0


class LimiterUnavailable(RateLimited):
    """The shared limiter's Redis did not answer: nothing was sent; try again shortly."""

    def __init__(self, error: redis.RedisError) -> None:
        super().__init__(
            f"The rate limiter's Redis cannot be reached ({type(error).__name__}).",
            retry_after=UNREACHABLE_RETRY_SECONDS,
            status=None,
        )


# KEYS: org window, customer window (or ""), blocked-until key.
# ARGV: window ms, org limit, customer limit, unique member.
# Returns 0 when a slot was taken, else the milliseconds to wait. Uses the Redis clock so that
# machines with skewed clocks agree.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local blocked = tonumber(redis.call('GET', KEYS[3]) or '0')
if blocked > now then return blocked - now end
local function wait_for(key, limit)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    return math.max(1, tonumber(oldest[2]) + window - now)
  end
  return 0
end
local wait = wait_for(KEYS[1], tonumber(ARGV[2]))
if wait > 0 then return wait end
if KEYS[2] ~= '' then
  wait = wait_for(KEYS[2], tonumber(ARGV[3]))
  if wait > 0 then return wait end
  redis.call('ZADD', KEYS[2], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[2], window)
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return 0
"""

# KEYS: blocked-until key. ARGV: seconds to hold off. Only ever extends the block.
_BLOCK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ms = now + math.floor(tonumber(ARGV[1]) * 1000)
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > current then
  redis.call('SET', KEYS[1], until_ms, 'PX', math.max(1, until_ms - now))
end
return until_ms
"""


@dataclass(frozen=True)
class Limits:
    per_window: int
    per_customer: int
    window_seconds: float = 60.0


class RedisRateLimiter:
    def __init__(self, client: redis.Redis, *, namespace: str, limits: Limits) -> None:
        self.client = client
        self.namespace = namespace
        self.limits = limits
        self._acquire = client.register_script(_ACQUIRE)
        self._block = client.register_script(_BLOCK)

    def acquire(self, *, customer_id: str | None = None) -> float:
        """Takes a slot and returns 0, or returns the seconds to wait and takes nothing."""
        keys = [
            f"{self.namespace}:window",
            f"{self.namespace}:customer:{customer_id}" if customer_id else "",
            f"{self.namespace}:blocked",
        ]
        try:
            wait_ms = self._acquire(
                keys=keys,
                args=[
                    int(self.limits.window_seconds * 1000),
                    self.limits.per_window,
                    self.limits.per_customer,
                    uuid.uuid4().hex,
                ],
            )
        except redis.RedisError as error:
            raise LimiterUnavailable(error) from error
        return int(wait_ms) / 1000

    def block_for(self, seconds: float) -> None:
        try:
            self._block(keys=[f"{self.namespace}:blocked"], args=[max(seconds, 0.0)])
        except redis.RedisError as error:
            raise LimiterUnavailable(error) from error


class LocalRateLimiter:
    """The same windows in process memory, for a single-process deployment without Redis."""

    def __init__(self, *, limits: Limits) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._window: deque[float] = deque()
        self._customers: dict[str, deque[float]] = {}
        self._blocked_until = 0.0

    def _wait_for(self, entries: deque[float], limit: int, now: float) -> float:
        while entries and entries[0] <= now - self.limits.window_seconds:
            entries.popleft()
        if len(entries) >= limit:
            return max(0.001, entries[0] + self.limits.window_seconds - now)
        return 0.0

    def acquire(self, *, customer_id: str | None = None) -> float:
        with self._lock:
            now = time.monotonic()
            if self._blocked_until > now:
                return self._blocked_until - now
            wait = self._wait_for(self._window, self.limits.per_window, now)
            if wait:
                return wait
            if customer_id:
                entries = self._customers.setdefault(customer_id, deque())
                wait = self._wait_for(entries, self.limits.per_customer, now)
                if wait:
                    return wait
                entries.append(now)
            self._window.append(now)
            return 0.0

    def block_for(self, seconds: float) -> None:
        with self._lock:
            self._blocked_until = max(self._blocked_until, time.monotonic() + seconds)


class ShareOfLimiter:
    """A share of a shared budget: a request takes a slot in its own (smaller) window, then
    one in the shared window, so that this kind of work never takes more than its share and the
    shared total still counts it.

    Kustomer's answers that say to hold off (a 429, `remaining: 0`) hold back this share only:
    the other users of the shared window learn it from their own answers, and a limit that only
    this work hits (Kustomer's per-key search limit) must not stop them.
    """

    def __init__(self, *, own: "RateLimiter", shared: "RateLimiter") -> None:
        self.own = own
        self.shared = shared

    @property
    def limits(self) -> Limits:
        return self.own.limits

    def acquire(self, *, customer_id: str | None = None) -> float:
        wait = self.own.acquire(customer_id=customer_id)
        if wait > 0:
            return wait
        # A slot of our own may go unused when the shared window is full: the share then runs a
        # little slower, never faster, than it may.
        return self.shared.acquire(customer_id=customer_id)

    def block_for(self, seconds: float) -> None:
        self.own.block_for(seconds)


RateLimiter = RedisRateLimiter | LocalRateLimiter | ShareOfLimiter


_shared: dict[tuple[str, str], RateLimiter] = {}
_shared_lock = threading.Lock()


def shared_rate_limiter(namespace: str, limits: Limits) -> RateLimiter:
    """The process's limiter for `namespace`: on Redis when REDIS_URL is set, else in memory.

    The window belongs to the namespace, not to the limits: a changed limit applies to the
    requests already counted.
    """
    from django.conf import settings

    key = (namespace, settings.REDIS_URL)
    with _shared_lock:
        if key not in _shared:
            if settings.REDIS_URL:
                client = redis.Redis.from_url(
                    settings.REDIS_URL,
                    socket_connect_timeout=settings.REDIS_SOCKET_TIMEOUT,
                    socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
                )
                _shared[key] = RedisRateLimiter(
                    client, namespace=f"copilot:ratelimit:{namespace}", limits=limits
                )
            else:
                _shared[key] = LocalRateLimiter(limits=limits)
        limiter = _shared[key]
        limiter.limits = limits
        return limiter


def forget_shared_rate_limiters() -> None:
    """Drops the process's limiters (their in-memory windows), e.g. between tests."""
    with _shared_lock:
        _shared.clear()
