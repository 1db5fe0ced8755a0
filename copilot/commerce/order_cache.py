"""A customer's orders per store, cached (Redis in production) and dropped by webhooks.

An entry is fresh for SHOPIFY_ORDER_CACHE_SECONDS and kept SHOPIFY_ORDER_CACHE_STALE_SECONDS
longer, to be shown marked stale when Shopify cannot be asked. A webhook drops the entry and
leaves a "dropped at" mark, so that a fetch that started before the change and ends after it is
not taken as fresh. Order ids are mapped to emails, since refunds/create names only the order.

Keys hold a hash of the email, never the email itself.
"""

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from copilot.integrations.shopify import Order, OrdersPage

from .models import Store

_PREFIX = "commerce:orders:v1"


def _email_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:40]


def _entry_key(store: Store, email: str) -> str:
    return f"{_PREFIX}:entry:{store.pk}:{store.cache_version}:{_email_hash(email)}"


def _dropped_key(store: Store, email: str) -> str:
    return f"{_PREFIX}:dropped:{store.pk}:{store.cache_version}:{_email_hash(email)}"


def _order_email_key(store: Store, order_legacy_id: str) -> str:
    return f"{_PREFIX}:order-email:{store.pk}:{store.cache_version}:{order_legacy_id}"


def _keep_seconds() -> int:
    return settings.SHOPIFY_ORDER_CACHE_SECONDS + settings.SHOPIFY_ORDER_CACHE_STALE_SECONDS


@dataclass(frozen=True)
class CachedOrders:
    orders: tuple[Order, ...]
    has_more: bool
    fetched_at: float  # epoch seconds: when the fetch started
    fresh: bool

    @property
    def age_seconds(self) -> float:
        return max(time.time() - self.fetched_at, 0.0)


def read_many(stores: list[Store], email: str) -> dict[int, CachedOrders]:
    """The cached orders of `email` in each store that has some (one cache round trip)."""
    keys = {}
    for store in stores:
        keys[_entry_key(store, email)] = (store.pk, "entry")
        keys[_dropped_key(store, email)] = (store.pk, "dropped")
    found = cache.get_many(list(keys))
    entries: dict[int, dict] = {}
    dropped: dict[int, float] = {}
    for key, value in found.items():
        store_pk, kind = keys[key]
        if kind == "entry":
            entries[store_pk] = value
        else:
            dropped[store_pk] = value
    now = time.time()
    result = {}
    for store_pk, entry in entries.items():
        fetched_at = entry["fetched_at"]
        fresh = now - fetched_at < settings.SHOPIFY_ORDER_CACHE_SECONDS and not (
            store_pk in dropped and dropped[store_pk] >= fetched_at
        )
        result[store_pk] = CachedOrders(
            orders=tuple(Order.from_node(node) for node in entry["nodes"]),
            has_more=entry["has_more"],
            fetched_at=fetched_at,
            fresh=fresh,
        )
    return result


def write(store: Store, email: str, page: OrdersPage, *, started_at: float) -> None:
    """Caches a page fetched from Shopify; `started_at` is when the fetch began."""
    keep = _keep_seconds()
    entry = {
        "nodes": [order.source for order in page.orders],
        "has_more": page.has_next_page,
        "fetched_at": started_at,
    }
    values = {_entry_key(store, email): entry}
    for order in page.orders:
        if order.legacy_id:
            values[_order_email_key(store, order.legacy_id)] = email.strip().lower()
    cache.set_many(values, timeout=keep)


def drop(store: Store, email: str) -> None:
    """Forgets the orders of `email` in `store` (their order changed)."""
    cache.set(_dropped_key(store, email), time.time(), timeout=_keep_seconds())
    cache.delete(_entry_key(store, email))


def email_for_order(store: Store, order_legacy_id: str) -> str | None:
    """The email whose cached orders include this order, if any are cached."""
    return cache.get(_order_email_key(store, str(order_legacy_id)))
