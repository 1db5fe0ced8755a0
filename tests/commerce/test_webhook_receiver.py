"""POST /shopify/webhooks/: signature first, then size, headers, JSON; once per webhook id."""

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from copilot.commerce import order_cache
from copilot.commerce.models import Store
from copilot.commerce.selectors import CACHED, FRESH, customer_orders_for_card
from copilot.sandbox.shopify.models import Order
from copilot.sandbox.shopify.webhooks import order_payload, refund_payload, shop_payload
from copilot.webhooks.models import WebhookEvent
from tests.sandbox_shopify.support import order_of, sign

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "test-shopify-webhook-secret"  # tests/settings.py
URL = "/shopify/webhooks/"


def deliver(
    client,
    body: bytes,
    *,
    topic="orders/updated",
    secret=SECRET,
    webhook_id=None,
    signature=None,
    shop="northwind-goods.myshopify.com",
    **headers,
):
    defaults = {
        "HTTP_X_SHOPIFY_TOPIC": topic,
        "HTTP_X_SHOPIFY_SHOP_DOMAIN": shop,
        "HTTP_X_SHOPIFY_WEBHOOK_ID": webhook_id or str(uuid.uuid4()),
        "HTTP_X_SHOPIFY_API_VERSION": "2026-10",
        "HTTP_X_SHOPIFY_TRIGGERED_AT": datetime.now(UTC).isoformat(),
    }
    if signature is not False:
        defaults["HTTP_X_SHOPIFY_HMAC_SHA256"] = (
            sign(body, secret) if signature is None else signature
        )
    return client.post(URL, data=body, content_type="application/json", **{**defaults, **headers})


def _order_body(fake_shop, email="ada@example.com") -> tuple[Order, bytes]:
    order = order_of(fake_shop, email, state="unfulfilled")
    return order, json.dumps(order_payload(order)).encode()


def test_a_signed_orders_updated_drops_the_customers_cached_orders(client, store, fake_shop):
    customer_orders_for_card("ada@example.com")
    _, body = _order_body(fake_shop)

    response = deliver(client, body)

    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.PROCESSED
    assert event.data["emails"] == ["ada@example.com"]
    assert customer_orders_for_card("ada@example.com").stores[0].state == FRESH


def test_the_old_secret_still_signs_during_a_rotation(client, store, fake_shop, settings):
    settings.SHOPIFY_WEBHOOK_SECRET = ["new-secret", SECRET]
    _, body = _order_body(fake_shop)

    assert deliver(client, body, secret=SECRET).json() == {"status": "accepted"}
    other = body.replace(b"{", b'{"note": "changed", ', 1)
    assert deliver(client, other, secret="new-secret").json() == {"status": "accepted"}
    assert deliver(client, body, secret="retired-secret").status_code == 401


@pytest.mark.parametrize("signature", [False, "", "bm90IHRoZSBzaWduYXR1cmU=", "%%%"])
def test_a_missing_or_wrong_signature_is_refused(client, store, fake_shop, signature):
    _, body = _order_body(fake_shop)

    response = deliver(client, body, signature=signature)

    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


def test_the_signature_is_checked_before_the_body_is_parsed(client, store):
    response = deliver(client, b"{not json", signature="bm90IHRoZSBzaWduYXR1cmU=")

    assert response.status_code == 401


def test_a_malformed_body_with_a_good_signature_is_400(client, store):
    assert deliver(client, b"{not json").status_code == 400
    assert deliver(client, b"[1, 2]").status_code == 400
    assert deliver(client, b"{}", topic="").status_code == 400
    assert deliver(client, b"{}", HTTP_X_SHOPIFY_WEBHOOK_ID="").status_code == 400


def test_an_oversized_body_is_413(client, store, settings):
    settings.SHOPIFY_WEBHOOK_MAX_BYTES = 1000
    body = json.dumps({"note": "x" * 2000}).encode()

    assert deliver(client, body).status_code == 413


def test_a_duplicate_delivery_is_a_no_op(client, store, fake_shop):
    _, body = _order_body(fake_shop)
    webhook_id = str(uuid.uuid4())

    first = deliver(client, body, webhook_id=webhook_id)
    customer_orders_for_card("ada@example.com")  # cached again after the first delivery
    second = deliver(client, body, webhook_id=webhook_id)

    assert first.json() == {"status": "accepted"}
    assert second.status_code == 200
    assert second.json() == {"status": "duplicate"}
    assert WebhookEvent.objects.count() == 1
    assert customer_orders_for_card("ada@example.com").stores[0].state == CACHED


def test_an_unknown_topic_is_accepted_and_ignored(client, store):
    response = deliver(client, b'{"id": 1}', topic="products/update")

    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.IGNORED


def test_refunds_create_drops_the_orders_of_the_refunded_orders_customer(client, store, fake_shop):
    customer_orders_for_card("tim@example.com")
    order = order_of(fake_shop, "tim@example.com", state="partially_refunded")
    body = json.dumps(refund_payload(order.refunds.first())).encode()

    assert deliver(client, body, topic="refunds/create").status_code == 200

    assert customer_orders_for_card("tim@example.com").stores[0].state == FRESH


def test_app_uninstalled_disconnects_the_store(client, store, fake_shop):
    customer_orders_for_card("ada@example.com")
    body = json.dumps(shop_payload(fake_shop)).encode()
    # The merchant removed the app: Shopify no longer takes the store's token.
    type(fake_shop).objects.filter(pk=fake_shop.pk).update(installed=False)

    assert deliver(client, body, topic="app/uninstalled").status_code == 200

    store.refresh_from_db()
    assert store.status == Store.Status.UNINSTALLED
    assert store.access_token_encrypted == ""
    assert customer_orders_for_card("ada@example.com").stores == ()


def test_an_uninstall_that_shopify_does_not_confirm_changes_nothing(client, store, fake_shop):
    body = json.dumps(shop_payload(fake_shop)).encode()

    response = deliver(client, body, topic="app/uninstalled")

    assert response.status_code == 200
    store.refresh_from_db()
    assert store.status == Store.Status.CONNECTED
    assert store.access_token
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.IGNORED
    assert "still accepts the store's token" in event.detail


def test_a_captured_order_body_replayed_as_an_uninstall_is_refused(client, store, fake_shop):
    _, body = _order_body(fake_shop)

    response = deliver(client, body, topic="app/uninstalled")

    assert response.status_code == 400
    assert "does not fit its topic" in response.json()["error"]
    store.refresh_from_db()
    assert store.status == Store.Status.CONNECTED
    assert not WebhookEvent.objects.exists()


def test_an_uninstall_of_another_shop_than_the_header_names_is_refused(client, store, fake_shop):
    body = json.dumps({**shop_payload(fake_shop), "myshopify_domain": "other.myshopify.com"})

    response = deliver(client, body.encode(), topic="app/uninstalled")

    assert response.status_code == 400
    assert "another shop" in response.json()["error"]


def test_the_same_body_under_a_new_webhook_id_is_a_duplicate(client, store, fake_shop):
    _, body = _order_body(fake_shop)

    first = deliver(client, body)
    second = deliver(client, body)  # a fresh webhook id each time

    assert first.json() == {"status": "accepted"}
    assert second.json() == {"status": "duplicate"}
    assert WebhookEvent.objects.count() == 1


def test_a_delivery_older_than_the_window_is_refused_as_a_replay(client, store, fake_shop):
    _, body = _order_body(fake_shop)
    long_ago = (datetime.now(UTC) - timedelta(hours=6)).isoformat()

    response = deliver(client, body, HTTP_X_SHOPIFY_TRIGGERED_AT=long_ago)

    assert response.status_code == 400
    assert "refused as a replay" in response.json()["error"]


def test_a_webhook_for_a_shop_we_do_not_know_is_ignored(client, store, fake_shop):
    _, body = _order_body(fake_shop)

    assert deliver(client, body, shop="someone-else.myshopify.com").status_code == 200

    assert WebhookEvent.objects.get().status == WebhookEvent.Status.IGNORED


def test_only_post_is_allowed(client):
    assert client.get(URL).status_code == 405


def test_the_receiver_answers_well_under_five_seconds(client, store, fake_shop):
    _, body = _order_body(fake_shop)

    started = time.perf_counter()
    deliver(client, body)

    assert time.perf_counter() - started < 0.5


def test_dropping_leaves_a_mark_so_a_slow_fetch_is_not_taken_as_fresh(store, fake_shop):
    from copilot.integrations.shopify import OrdersPage

    started_before_the_change = time.time()
    order_cache.drop(store, "ada@example.com")
    order_cache.write(
        store,
        "ada@example.com",
        OrdersPage(orders=(), has_next_page=False, end_cursor=None, cost=None),
        started_at=started_before_the_change - 1,
    )

    entry = order_cache.read_many([store], "ada@example.com")[store.pk]

    assert entry.fresh is False
