"""Kustomer's rolling-window rate limits, counted in the Django cache so processes share them.

A window is split into buckets (one second for the 60 s limits). A request first increments
its bucket with `cache.incr` (atomic in Redis and in the in-memory cache), then adds the older
buckets of the window; over the limit it gives its increment back and is refused. Of requests
racing for the last slot exactly one gets it.

The window counts one bucket more than it spans, so a request is forgotten between `window` and
`window + bucket` seconds later: never earlier than Kustomer would forget it.
"""

import contextlib
import math
import time
from dataclasses import dataclass

from django.core.cache import cache

_PREFIX = "sandbox_kustomer:ratelimit"
_GENERATION_KEY = f"{_PREFIX}:generation"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # whole seconds until the oldest counted request leaves the window


def _generation() -> int:
    # Bumped by `reset_all`: every key of an older generation is simply never read again.
    return int(cache.get_or_set(_GENERATION_KEY, 0, timeout=None))


def reset_all() -> None:
    """Forgets every count (the sandbox reset)."""
    try:
        cache.incr(_GENERATION_KEY)
    except ValueError:
        cache.set(_GENERATION_KEY, 1, timeout=None)


def hit(key: str, *, limit: int, window: int, bucket: int = 1) -> Decision:
    """Counts one request against `key` unless that would exceed `limit` within `window` s."""
    now = time.time()
    current = int(now // bucket)
    spans = window // bucket + 1
    generation = _generation()
    names = [f"{_PREFIX}:{generation}:{key}:{current - age}" for age in range(spans)]
    timeout = window + 2 * bucket
    cache.add(names[0], 0, timeout=timeout)
    try:
        mine = cache.incr(names[0])
    except ValueError:  # the bucket expired between add and incr; start it again
        cache.add(names[0], 1, timeout=timeout)
        mine = 1
    counts = cache.get_many(names[1:])
    counts[names[0]] = mine
    # The current bucket is counted as this request's own increment left it, not as re-read:
    # requests racing for the last slot are thereby ordered by the atomic increment, so exactly
    # the ones past the limit are refused.
    total = sum(int(counts.get(name) or 0) for name in names)
    allowed = total <= limit
    if not allowed:
        with contextlib.suppress(ValueError):
            cache.decr(names[0])
        total -= 1
    oldest = next(
        (current - age for age in range(spans - 1, -1, -1) if counts.get(names[age])),
        current,
    )
    reset = max(1, math.ceil((oldest + spans) * bucket - now))
    return Decision(allowed=allowed, limit=limit, remaining=max(0, limit - total), reset=reset)


def headers(decision: Decision, *, prefix: str = "x-ratelimit") -> dict[str, str]:
    return {
        f"{prefix}-limit": str(decision.limit),
        f"{prefix}-remaining": str(decision.remaining),
        f"{prefix}-reset": str(decision.reset),
    }
