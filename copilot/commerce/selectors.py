"""Reads for the card: a customer's orders from every connected store, one order, a refund preview.

None of these raise for Shopify's sake and none of them waits for Shopify's cost bucket. When a
store cannot answer now (busy, unreachable) the card gets the cached copy marked stale, or a
state that says so in a sentence.

They only read (a fresh answer from Shopify is kept in the orders cache, as a read-through cache
does). What a read finds that calls for a write comes back in its result as `followups`: fetch
the orders again in the background, or take out a store whose token Shopify refused. The card
calls the services of the same names (`orders.py`), which read here and then do those writes:

    orders = services.customer_orders_for_card("ada@example.com")
    for store in orders.stores:
        store.state        # "fresh", "cached", "stale", "busy", "unavailable" or "error"
        store.message      # a sentence for the agent when the state is not fresh/cached
        store.orders       # newest first; each an integrations.shopify.Order
        store.customer     # lifetime spend and order count in that store (or None)
"""

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings

from copilot.integrations.http import IntegrationError
from copilot.integrations.shopify import (
    CustomerSummary,
    Money,
    Order,
    OrdersPage,
    ProtectedCustomerDataError,
    RefundLineItem,
    RefundSuggestion,
    ShopifyAccessDenied,
    ShopifyAuthError,
    ShopifyThrottled,
    ShopifyUnavailable,
)

from . import order_cache
from .clients import client_for_store
from .models import OrderAction, Store

logger = logging.getLogger(__name__)

CARD_ORDERS = 10

FRESH = "fresh"  # just read from Shopify
CACHED = "cached"  # from the cache, within SHOPIFY_ORDER_CACHE_SECONDS
STALE = "stale"  # an older copy, shown because Shopify cannot answer now
BUSY = "busy"  # Shopify's cost bucket is empty and nothing is cached
UNAVAILABLE = "unavailable"  # Shopify could not be reached and nothing is cached
ERROR = "error"  # Shopify refused (token revoked, missing approval): needs an admin


# What a read found that calls for a write (see `Followup`).
REFRESH_ORDERS = "refresh_orders"  # Shopify was busy or unreachable: fetch the orders later
ACCESS_REFUSED = "access_refused"  # Shopify refused the token: stop using the store


@dataclass(frozen=True)
class Followup:
    """A write that a read found necessary, left to the service that called the read."""

    kind: str  # REFRESH_ORDERS or ACCESS_REFUSED
    store_id: int
    email: str = ""  # whose orders to fetch (REFRESH_ORDERS)
    detail: str = ""  # Shopify's refusal (ACCESS_REFUSED)


@dataclass(frozen=True)
class StoreOrders:
    """One store's part of the card."""

    store_id: int
    store_name: str
    shop_domain: str
    state: str
    orders: tuple[Order, ...] = ()
    has_more: bool = False
    fetched_at: datetime | None = None
    message: str = ""
    retry_after: float | None = None

    @property
    def is_stale(self) -> bool:
        return self.state == STALE

    @property
    def customer(self) -> CustomerSummary | None:
        """Lifetime spend and order count, as the store counts them."""
        return next((order.customer for order in self.orders if order.customer), None)


@dataclass(frozen=True)
class CustomerOrders:
    email: str
    stores: tuple[StoreOrders, ...]
    followups: tuple[Followup, ...] = field(default=(), compare=False)

    @property
    def orders(self) -> list[tuple[StoreOrders, Order]]:
        """Every order of every store, newest first, each with its store."""
        pairs = [(store, order) for store in self.stores for order in store.orders]
        oldest = datetime.min.replace(tzinfo=UTC)
        return sorted(pairs, key=lambda pair: pair[1].created_at or oldest, reverse=True)

    @property
    def is_stale(self) -> bool:
        return any(store.is_stale for store in self.stores)

    @property
    def messages(self) -> list[str]:
        return [store.message for store in self.stores if store.message]


# --- stores ------------------------------------------------------------------------------------

# The connected stores, read at most every STORE_LIST_SECONDS per process: the warm card path
# then touches nothing but the cache. A store connected or disconnected in another process is
# seen that much later (in this process, at once: see `stores_changed`).
STORE_LIST_SECONDS = 2.0
_store_list: tuple[float, list[Store]] = (0.0, [])


def stores_changed() -> None:
    """Forgets this process's copy of the store list (services call it after a change)."""
    global _store_list
    _store_list = (0.0, [])


def active_stores() -> list[Store]:
    """Connected stores."""
    global _store_list
    read_at, stores = _store_list
    if time.monotonic() - read_at < STORE_LIST_SECONDS:
        return list(stores)
    stores = list(
        Store.objects.filter(status=Store.Status.CONNECTED).exclude(access_token_encrypted="")
    )
    _store_list = (time.monotonic(), stores)
    return list(stores)


def store_get(store_id: int) -> Store | None:
    return Store.objects.filter(pk=store_id).first()


# --- a customer's orders -----------------------------------------------------------------------


def _age(seconds: float) -> str:
    if seconds < 90:
        return "a minute"
    if seconds < 3600:
        return f"{round(seconds / 60)} minutes"
    if seconds < 2 * 3600:
        return "an hour"
    return f"{round(seconds / 3600)} hours"


def _from_cache(store: Store, cached: order_cache.CachedOrders, state: str, message: str = ""):
    return _part(
        store,
        state,
        orders=cached.orders,
        has_more=cached.has_more,
        fetched_at=datetime.fromtimestamp(cached.fetched_at, tz=UTC),
        message=message,
    )


def _part(store: Store, state: str, **fields) -> StoreOrders:
    return StoreOrders(
        store_id=store.pk,
        store_name=store.display_name,
        shop_domain=store.shop_domain,
        state=state,
        **fields,
    )


def _fetch(store: Store, email: str) -> tuple[OrdersPage | None, Exception | None, float]:
    started_at = time.time()
    try:
        client = client_for_store(store, timeout=settings.SHOPIFY_CARD_TIMEOUT_SECONDS)
        return client.customer_orders(email, first=CARD_ORDERS), None, started_at
    except Exception as error:  # each store fails alone; the card shows why
        return None, error, started_at


def _failure(
    store: Store, email: str, error: Exception, cached: order_cache.CachedOrders | None
) -> tuple[StoreOrders, list[Followup]]:
    """What the card shows of a store that could not answer, and what should happen about it."""
    name = store.display_name
    if isinstance(error, ShopifyThrottled | ShopifyUnavailable):
        # Without an email (one order, a refund preview) there are no orders to fetch later.
        refresh = [Followup(REFRESH_ORDERS, store.pk, email=email)] if email else []
        busy = isinstance(error, ShopifyThrottled)
        if cached is not None:
            why = "is busy" if busy else "cannot be reached"
            message = (
                f"{name} {why} right now: these orders are from {_age(cached.age_seconds)} ago."
            )
            return _from_cache(store, cached, STALE, message), refresh
        part = _part(
            store,
            BUSY if busy else UNAVAILABLE,
            message=(
                f"{name} is busy right now; the orders will show in a few seconds."
                if busy
                else f"{name} cannot be reached right now; try again in a moment."
            ),
            retry_after=getattr(error, "retry_after", None) or 5.0,
        )
        return part, refresh
    followups = []
    if isinstance(error, ShopifyAuthError):
        followups.append(Followup(ACCESS_REFUSED, store.pk, detail=str(error)))
        message = f"{name} refused the copilot's access: an admin needs to reconnect the store."
    elif isinstance(error, ProtectedCustomerDataError):
        message = (
            f"{name} has not approved the copilot for protected customer data, so orders "
            "cannot be looked up by email."
        )
    elif isinstance(error, ShopifyAccessDenied):
        message = f"The copilot lacks a permission in {name}: {error}"
    elif isinstance(error, IntegrationError):
        message = f"{name} refused the order lookup: {error}"
    else:
        logger.exception("order lookup in %s failed", store.shop_domain, exc_info=error)
        message = f"The orders of {name} could not be read."
    if cached is not None:
        return _from_cache(store, cached, STALE, message), followups
    return _part(store, ERROR, message=message), followups


def customer_orders_for_card(email: str) -> CustomerOrders:
    """The customer's recent orders in every connected store, for the card. Never raises.

    Fresh cache entries are served without asking Shopify (one cache round trip for all stores);
    otherwise each store is asked once (stores in parallel), within SHOPIFY_CARD_TIMEOUT_SECONDS
    and never waiting for the cost bucket: a busy or unreachable store shows its cached copy
    marked stale, or a "busy"/"unavailable" state, and its followup asks for a background fetch.
    """
    email = (email or "").strip().lower()
    if "@" not in email:
        return CustomerOrders(email=email, stores=())
    stores = active_stores()
    cached = order_cache.read_many(stores, email)
    results: dict[int, StoreOrders] = {}
    followups: list[Followup] = []
    to_fetch = []
    for store in stores:
        entry = cached.get(store.pk)
        if entry is not None and entry.fresh:
            results[store.pk] = _from_cache(store, entry, CACHED)
        else:
            to_fetch.append(store)

    if len(to_fetch) == 1:
        fetched = [_fetch(to_fetch[0], email)]
    elif to_fetch:
        with ThreadPoolExecutor(max_workers=min(len(to_fetch), 8)) as pool:
            fetched = list(pool.map(lambda store: _fetch(store, email), to_fetch))
    else:
        fetched = []
    for store, (page, error, started_at) in zip(to_fetch, fetched, strict=True):
        if page is None:
            results[store.pk], more = _failure(store, email, error, cached.get(store.pk))
            followups += more
            continue
        order_cache.write(store, email, page, started_at=started_at)
        results[store.pk] = _part(
            store,
            FRESH,
            orders=page.orders,
            has_more=page.has_next_page,
            fetched_at=datetime.fromtimestamp(started_at, tz=UTC),
        )
    return CustomerOrders(
        email=email,
        stores=tuple(results[store.pk] for store in stores),
        followups=tuple(followups),
    )


# --- one order ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderLookup:
    state: str  # FRESH, BUSY, UNAVAILABLE or ERROR (or "missing")
    order: Order | None = None
    message: str = ""
    followups: tuple[Followup, ...] = field(default=(), compare=False)


def order_for_card(*, store_id: int, order_id: str) -> OrderLookup:
    """One order in detail (all line items, transactions, refunds). Never raises or waits."""
    store = store_get(store_id)
    if store is None or not store.is_connected:
        return OrderLookup(ERROR, message="This store is not connected.")
    try:
        client = client_for_store(store, timeout=settings.SHOPIFY_CARD_TIMEOUT_SECONDS)
        order = client.order(order_id)
    except Exception as error:
        failure, followups = _failure(store, "", error, None)
        return OrderLookup(failure.state, message=failure.message, followups=tuple(followups))
    if order is None:
        return OrderLookup("missing", message=f"{store.display_name} has no such order.")
    return OrderLookup(FRESH, order=order)


# --- refunds -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundLine:
    """A line item to refund, as the agent picked it on the card."""

    line_item_id: str
    quantity: int
    restock: bool = False


@dataclass(frozen=True)
class RefundPreview:
    """What a refund would give back, for the confirmation step.

    Pass `amount.amount` as `confirmed_amount` to `services.order_refund`: if the order changed in
    between, the refund is not sent.
    """

    state: str  # FRESH, or BUSY / UNAVAILABLE / ERROR / "missing" with `message`
    amount: Money | None = None
    shipping: Money | None = None
    line_items: tuple[RefundLineItem, ...] = ()
    needs_approval: bool = False
    message: str = ""
    suggestion: RefundSuggestion | None = None
    followups: tuple[Followup, ...] = field(default=(), compare=False)


def refund_approval_threshold() -> Decimal:
    return Decimal(str(settings.SHOPIFY_REFUND_APPROVAL_THRESHOLD))


def refund_preview(
    *,
    store_id: int,
    order_id: str,
    line_items: Sequence[RefundLine] | None = None,
    refund_shipping: bool = False,
) -> RefundPreview:
    """Shopify's computation of a refund: everything refundable when `line_items` is None, else
    those items (and the shipping when `refund_shipping`). Never raises or waits."""
    store = store_get(store_id)
    if store is None or not store.is_connected:
        return RefundPreview(ERROR, message="This store is not connected.")
    items = (
        [RefundLineItem(line.line_item_id, line.quantity, line.restock) for line in line_items]
        if line_items is not None
        else None
    )
    try:
        client = client_for_store(store, timeout=settings.SHOPIFY_CARD_TIMEOUT_SECONDS)
        suggestion = client.suggested_refund(
            order_id, line_items=items, refund_shipping=refund_shipping
        )
    except Exception as error:
        failure, followups = _failure(store, "", error, None)
        return RefundPreview(failure.state, message=failure.message, followups=tuple(followups))
    if suggestion is None:
        return RefundPreview("missing", message=f"{store.display_name} has no such order.")
    return RefundPreview(
        FRESH,
        amount=suggestion.amount,
        shipping=suggestion.shipping,
        line_items=suggestion.line_items,
        needs_approval=suggestion.amount.amount > refund_approval_threshold(),
        suggestion=suggestion,
    )


# --- the audit trail ---------------------------------------------------------------------------


def order_actions(*, store_id: int, order_id: str, limit: int = 20) -> list[OrderAction]:
    """The latest actions taken on an order, newest first (for the card's history)."""
    return list(
        OrderAction.objects.filter(store_id=store_id, order_id=order_id).order_by("-created_at")[
            :limit
        ]
    )


def order_action_get(action_id: int) -> OrderAction | None:
    """One action, e.g. to poll a cancellation or an approval from the card."""
    return OrderAction.objects.filter(pk=action_id).first()
