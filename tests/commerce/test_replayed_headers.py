"""A captured, correctly signed Shopify body can do no more than the event it came from.

Shopify signs only the body: the topic, shop and webhook id headers are not covered. Every
captured body of every handled topic is replayed under every other topic, another shop and a
fresh webhook id; none may disconnect the store or act beyond what its own event did.
"""

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from copilot.commerce.models import Store
from copilot.sandbox.shopify.webhooks import order_payload, refund_payload, shop_payload
from copilot.webhooks.models import WebhookEvent
from tests.sandbox_shopify.support import order_of

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "test-shopify-webhook-secret"  # tests/settings.py
SHOP = "northwind-goods.myshopify.com"
TOPICS = [
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "refunds/create",
    "app/uninstalled",
    "products/update",
]
ORDER_TOPICS = {"orders/create", "orders/updated", "orders/cancelled"}


def deliver(client, body: bytes, *, topic: str, shop: str = SHOP, triggered_at=None):
    signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest())
    return client.post(
        "/shopify/webhooks/",
        data=body,
        content_type="application/json",
        HTTP_X_SHOPIFY_TOPIC=topic,
        HTTP_X_SHOPIFY_SHOP_DOMAIN=shop,
        HTTP_X_SHOPIFY_WEBHOOK_ID=str(uuid.uuid4()),
        HTTP_X_SHOPIFY_TRIGGERED_AT=(triggered_at or datetime.now(UTC)).isoformat(),
        HTTP_X_SHOPIFY_HMAC_SHA256=signature.decode(),
    )


def captured_bodies(fake_shop) -> dict[str, bytes]:
    order = order_of(fake_shop, "tim@example.com", state="partially_refunded")
    bodies = {topic: json.dumps(order_payload(order)).encode() for topic in ORDER_TOPICS}
    bodies["refunds/create"] = json.dumps(refund_payload(order.refunds.first())).encode()
    bodies["app/uninstalled"] = json.dumps(shop_payload(fake_shop)).encode()
    return bodies


@pytest.mark.parametrize("captured", TOPICS[:5])
def test_a_captured_body_replayed_under_any_topic_does_no_more_than_its_event(
    client, store, fake_shop, captured
):
    body = captured_bodies(fake_shop)[captured]
    answers = {}

    for topic in TOPICS:
        answers[topic] = deliver(client, body, topic=topic)
    answers["another shop"] = deliver(client, body, topic=captured, shop="other.myshopify.com")
    answers["six hours old"] = deliver(
        client, body, topic=captured, triggered_at=datetime.now(UTC) - timedelta(hours=6)
    )

    store.refresh_from_db()
    # The token still works (the app is installed), so no replay disconnects the store.
    assert store.status == Store.Status.CONNECTED and store.access_token
    assert answers["six hours old"].status_code == 400
    for topic, answer in answers.items():
        assert answer.status_code in (200, 400), (topic, answer.content)
        if answer.status_code == 200 and topic in TOPICS and topic != "products/update":
            fits = topic == captured or (topic in ORDER_TOPICS and captured in ORDER_TOPICS)
            assert fits or answer.json()["status"] == "duplicate", (topic, answer.json())
    # Whatever was accepted did what its own kind of event does, and nothing was disconnected.
    for event in WebhookEvent.objects.exclude(status=WebhookEvent.Status.IGNORED):
        assert event.topic in ORDER_TOPICS | {"refunds/create", "app/uninstalled"}
        if event.topic == "app/uninstalled":
            assert "still accepts the store's token" in event.detail
