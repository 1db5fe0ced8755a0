"""The fake's leaky bucket per shop, like Shopify's: room for the requested cost is needed up
front, the difference between requested and actual cost is given back after the query ran.

Sizes come from settings at each call (`SANDBOX_SHOPIFY_BUCKET_SIZE`, `..._RESTORE_RATE`), so a
test can change them. The buckets live in process memory: run the fake in one process.
"""

import threading
import time
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class BucketStatus:
    maximum_available: float
    currently_available: float
    restore_rate: float

    def as_dict(self) -> dict:
        return {
            "maximumAvailable": self.maximum_available,
            "currentlyAvailable": int(self.currently_available),
            "restoreRate": self.restore_rate,
        }


class LeakyBuckets:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}  # shop -> (available, monotonic time)

    @staticmethod
    def _limits() -> tuple[float, float]:
        return float(settings.SANDBOX_SHOPIFY_BUCKET_SIZE), float(
            settings.SANDBOX_SHOPIFY_RESTORE_RATE
        )

    def _available(self, shop: str, now: float) -> float:
        size, rate = self._limits()
        available, at = self._state.get(shop, (size, now))
        return min(size, available + (now - at) * rate)

    def take(self, shop: str, cost: float) -> tuple[bool, BucketStatus]:
        """Takes `cost` points if there is room; the status is the bucket after the attempt."""
        with self._lock:
            now = time.monotonic()
            available = self._available(shop, now)
            taken = available >= cost
            if taken:
                available -= cost
            self._state[shop] = (available, now)
            return taken, self._status(available)

    def give_back(self, shop: str, points: float) -> BucketStatus:
        with self._lock:
            now = time.monotonic()
            size, _ = self._limits()
            available = min(size, self._available(shop, now) + max(points, 0.0))
            self._state[shop] = (available, now)
            return self._status(available)

    def set_available(self, shop: str, points: float) -> None:
        """For tests and demos: empty or fill a shop's bucket."""
        with self._lock:
            self._state[shop] = (points, time.monotonic())

    def reset(self) -> None:
        with self._lock:
            self._state.clear()

    def _status(self, available: float) -> BucketStatus:
        size, rate = self._limits()
        return BucketStatus(
            maximum_available=size, currently_available=available, restore_rate=rate
        )


buckets = LeakyBuckets()
