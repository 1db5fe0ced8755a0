"""The card's reads of orders, and the writes those reads call for.

`selectors` only reads; what a read finds that needs a write comes back in its result as
`followups`, done here by the service of the same name: a store that could not answer now has
the customer's orders fetched again in the background (fresh for the next look), and a store
whose token Shopify refused is taken out until an admin reconnects it. The store that the
environment defines (SHOPIFY_SHOP_DOMAIN) is created on the first look.
"""

import hashlib
import threading
import time
from collections.abc import Sequence

from celery import current_app
from django.conf import settings
from django.core.cache import cache

from copilot import queueing

from . import order_cache, selectors
from .clients import client_for_store
from .models import Store
from .selectors import (
    ACCESS_REFUSED,
    CARD_ORDERS,
    REFRESH_ORDERS,
    CustomerOrders,
    Followup,
    OrderLookup,
    RefundLine,
    RefundPreview,
)
from .stores import store_ensure_from_settings, store_token_rejected

_environment_store_checked = False
_environment_lock = threading.Lock()


def customer_orders_for_card(email: str) -> CustomerOrders:
    """The customer's recent orders in every connected store, for the card (see
    `selectors.customer_orders_for_card`). Never raises."""
    _environment_store_ensure_once()
    orders = selectors.customer_orders_for_card(email)
    followups_apply(orders.followups)
    return orders


def order_for_card(*, store_id: int, order_id: str) -> OrderLookup:
    """One order in detail (all line items, transactions, refunds). Never raises or waits."""
    lookup = selectors.order_for_card(store_id=store_id, order_id=order_id)
    followups_apply(lookup.followups)
    return lookup


def refund_preview(
    *,
    store_id: int,
    order_id: str,
    line_items: Sequence[RefundLine] | None = None,
    refund_shipping: bool = False,
) -> RefundPreview:
    """Shopify's computation of a refund, for the confirmation step (see
    `selectors.refund_preview`). Never raises or waits."""
    preview = selectors.refund_preview(
        store_id=store_id,
        order_id=order_id,
        line_items=line_items,
        refund_shipping=refund_shipping,
    )
    followups_apply(preview.followups)
    return preview


def followups_apply(followups: Sequence[Followup]) -> None:
    """Does the writes that reads found necessary."""
    for followup in followups:
        if followup.kind == ACCESS_REFUSED:
            store_token_rejected(store_id=followup.store_id, detail=followup.detail)
        elif followup.kind == REFRESH_ORDERS:
            customer_orders_refresh_schedule(store_id=followup.store_id, email=followup.email)


def _environment_store_ensure_once() -> None:
    global _environment_store_checked
    if _environment_store_checked or not settings.SHOPIFY_SHOP_DOMAIN:
        return
    with _environment_lock:
        if not _environment_store_checked:
            store_ensure_from_settings()
            _environment_store_checked = True


def customer_orders_refresh(*, store_id: int, email: str) -> None:
    """Fetches a customer's orders into the cache (background work: raises ShopifyThrottled and
    other transient errors for the task to retry later)."""
    store = Store.objects.filter(pk=store_id, status=Store.Status.CONNECTED).first()
    if store is None or not store.access_token_encrypted:
        return
    started_at = time.time()
    page = client_for_store(store).customer_orders(email, first=CARD_ORDERS)
    order_cache.write(store, email, page, started_at=started_at)


def customer_orders_refresh_schedule(*, store_id: int, email: str) -> None:
    """Queues one background fetch per store and email at a time (not when tasks run in
    process: there is no background to wait in)."""
    if not email or current_app.conf.task_always_eager:
        return
    digest = hashlib.sha256(email.encode()).hexdigest()[:40]
    if cache.add(f"commerce:orders:v1:refresh:{store_id}:{digest}", 1, timeout=30):
        # A cache fill, not accepted work: if the broker refuses it, the next look fetches again.
        queueing.publish_on_commit_best_effort(
            "copilot.commerce.tasks.refresh_customer_orders", store_id, email
        )
