"""Webhooks the fake Shopify sends when its orders change, shaped like Shopify's REST payloads.

Each delivery is signed like Shopify's: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the
raw body keyed with `SANDBOX_SHOPIFY_WEBHOOK_SECRET` (the app's client secret). Payloads are
built when the transaction commits, then sent from a background thread; a failed delivery is
tried again a few times with the same webhook id, as Shopify does.
"""

import base64
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
from django.conf import settings
from django.db import transaction

from .models import Order, Refund, Shop, WebhookSubscription, gid, legacy_id
from .money import order_totals

logger = logging.getLogger(__name__)

# The last deliveries (newest last), for tests and for a look in the shell.
deliveries: deque[dict] = deque(maxlen=500)
_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sandbox-shopify-webhook")
RETRY_DELAYS = (0.5, 2.0)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _amount(value) -> str:
    return f"{value:.2f}"


def _address(address: dict | None) -> dict | None:
    if not address:
        return None
    return {
        "first_name": address.get("firstName", ""),
        "last_name": address.get("lastName", ""),
        "name": f"{address.get('firstName', '')} {address.get('lastName', '')}".strip(),
        "address1": address.get("address1", ""),
        "address2": address.get("address2", ""),
        "city": address.get("city", ""),
        "province_code": address.get("provinceCode", ""),
        "zip": address.get("zip", ""),
        "country_code": address.get("countryCode", ""),
        "phone": address.get("phone", ""),
    }


def order_payload(order: Order) -> dict:
    """An order as the REST Admin API (and so every orders/* webhook) shows it."""
    totals = order_totals(order)
    fulfillment = {
        Order.FulfillmentStatus.FULFILLED: "fulfilled",
        Order.FulfillmentStatus.PARTIALLY_FULFILLED: "partial",
    }.get(order.fulfillment_status)
    customer = order.customer
    return {
        "id": order.legacy_id,
        "admin_graphql_api_id": gid("Order", order.pk),
        "name": order.name,
        "order_number": order.number,
        "number": order.number - 1000,
        "email": order.email,
        "contact_email": order.email,
        "created_at": _iso(order.created_at),
        "updated_at": _iso(order.updated_at),
        "processed_at": _iso(order.created_at),
        "cancelled_at": _iso(order.cancelled_at),
        "cancel_reason": order.cancel_reason.lower() or None,
        "closed_at": _iso(order.closed_at),
        "currency": order.currency_code,
        "financial_status": order.financial_status.lower(),
        "fulfillment_status": fulfillment,
        "subtotal_price": _amount(totals.subtotal),
        "current_subtotal_price": _amount(totals.current_subtotal),
        "total_price": _amount(totals.total),
        "current_total_price": _amount(totals.current_total),
        "total_shipping_price_set": {
            "shop_money": {"amount": _amount(totals.shipping), "currency_code": order.currency_code}
        },
        "tags": ", ".join(order.tags),
        "note": order.note or None,
        "order_status_url": status_page_url(order),
        "customer": {
            "id": legacy_id("Customer", customer.pk),
            "admin_graphql_api_id": gid("Customer", customer.pk),
            "email": customer.email,
            "first_name": customer.first_name,
            "last_name": customer.last_name,
        }
        if customer
        else None,
        "shipping_address": _address(order.shipping_address),
        "line_items": [
            {
                "id": legacy_id("LineItem", item.pk),
                "admin_graphql_api_id": gid("LineItem", item.pk),
                "title": item.title,
                "variant_title": item.variant_title or None,
                "sku": item.sku,
                "quantity": item.quantity,
                "current_quantity": 0 if order.cancelled_at else item.refundable_quantity,
                "price": _amount(item.price),
            }
            for item in order.line_items.all()
        ],
        "fulfillments": [
            {
                "id": legacy_id("Fulfillment", f.pk),
                "status": f.status.lower(),
                "tracking_company": f.tracking_company or None,
                "tracking_number": f.tracking_number or None,
                "tracking_url": f.tracking_url or None,
                "created_at": _iso(f.created_at),
            }
            for f in order.fulfillments.all()
        ],
        "refunds": [
            {
                "id": legacy_id("Refund", refund.pk),
                "created_at": _iso(refund.created_at),
                "note": refund.note or None,
            }
            for refund in order.refunds.all()
        ],
    }


def refund_payload(refund: Refund) -> dict:
    order = refund.order
    return {
        "id": legacy_id("Refund", refund.pk),
        "admin_graphql_api_id": gid("Refund", refund.pk),
        "order_id": order.legacy_id,
        "created_at": _iso(refund.created_at),
        "note": refund.note or None,
        "refund_line_items": [
            {
                "id": legacy_id("RefundLineItem", item.pk),
                "line_item_id": legacy_id("LineItem", item.line_item_id),
                "quantity": item.quantity,
                "restock_type": item.restock_type.lower(),
                "subtotal": _amount(item.subtotal),
            }
            for item in refund.items.all()
        ],
        "transactions": [
            {
                "id": legacy_id("OrderTransaction", t.pk),
                "order_id": order.legacy_id,
                "kind": "refund",
                "gateway": t.gateway,
                "status": "success",
                "amount": _amount(t.amount),
                "currency": order.currency_code,
                "parent_id": legacy_id("OrderTransaction", t.parent_id) if t.parent_id else None,
            }
            for t in refund.transactions.all()
        ],
    }


def shop_payload(shop: Shop) -> dict:
    return {
        "id": legacy_id("Shop", shop.pk),
        "name": shop.name,
        "email": shop.email,
        "domain": shop.domain,
        "myshopify_domain": shop.domain,
        "currency": shop.currency_code,
    }


def status_page_url(order: Order) -> str:
    token = hashlib.sha256(f"{order.shop.domain}:{order.pk}".encode()).hexdigest()[:32]
    shop_id = legacy_id("Shop", order.shop_id)
    return f"https://{order.shop.domain}/{shop_id}/orders/{token}/authenticate"


def sign(body: bytes, secret: str) -> str:
    """Shopify's signature: base64 of the HMAC-SHA256 of the raw body."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def webhook_send_on_commit(shop: Shop, topic: str, build_payload) -> None:
    """After the transaction commits, builds the payload and sends it to the topic's subscribers.

    `topic` is the REST form (`orders/updated`); `build_payload()` runs after commit, so it sees
    what was committed.
    """

    def send() -> None:
        graphql_topic = topic.upper().replace("/", "_")
        uris = list(
            WebhookSubscription.objects.filter(shop=shop, topic=graphql_topic).values_list(
                "uri", flat=True
            )
        )
        if not uris:
            return
        body = json.dumps(build_payload()).encode()
        event_id = str(uuid.uuid4())
        triggered_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        for uri in uris:
            headers = {
                "Content-Type": "application/json",
                "X-Shopify-Topic": topic,
                "X-Shopify-Hmac-Sha256": sign(body, settings.SANDBOX_SHOPIFY_WEBHOOK_SECRET),
                "X-Shopify-Shop-Domain": shop.domain,
                "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                "X-Shopify-Event-Id": event_id,
                "X-Shopify-API-Version": settings.SHOPIFY_API_VERSION,
                "X-Shopify-Triggered-At": triggered_at,
            }
            _executor.submit(_deliver, uri, body, headers)

    transaction.on_commit(send)


def _deliver(uri: str, body: bytes, headers: dict[str, str]) -> None:
    topic = headers["X-Shopify-Topic"]
    for attempt, delay in enumerate((0.0, *RETRY_DELAYS), start=1):
        time.sleep(delay)
        try:
            response = httpx.post(uri, content=body, headers=headers, timeout=5.0)
            status: int | str = response.status_code
        except httpx.HTTPError as error:
            status = type(error).__name__
        deliveries.append(
            {
                "topic": topic,
                "uri": uri,
                "status": status,
                "attempt": attempt,
                "webhook_id": headers["X-Shopify-Webhook-Id"],
                "body": body,
            }
        )
        logger.info("sandbox shopify webhook %s → %s: %s (attempt %d)", topic, uri, status, attempt)
        if isinstance(status, int) and 200 <= status < 300:
            return
