"""The fake's signed webhooks, its app uninstall, and the demo seed."""

import json

import pytest
from django.core.management import call_command

from copilot.sandbox.shopify import services
from copilot.sandbox.shopify.models import Customer, Order, Shop, WebhookSubscription, gid
from copilot.sandbox.shopify.seed import DEMO_DOMAIN, DEMO_TOKEN
from tests.sandbox_shopify.support import graphql, order_of, sign, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

SUBSCRIBE = """
mutation($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}
"""


def test_subscribing_twice_to_the_same_topic_and_address_is_a_user_error(shopify_url, fake_shop):
    variables = {"topic": "ORDERS_UPDATED", "uri": "https://copilot.example.com/shopify/webhooks/"}

    first = graphql(shopify_url, SUBSCRIBE, variables).json()["data"]["webhookSubscriptionCreate"]
    second = graphql(shopify_url, SUBSCRIBE, variables).json()["data"]["webhookSubscriptionCreate"]

    assert first["webhookSubscription"]["topic"] == "ORDERS_UPDATED"
    assert "already been taken" in second["userErrors"][0]["message"]


def test_a_changed_order_sends_signed_rest_shaped_webhooks(
    shopify_url, fake_shop, capture_server, settings
):
    for topic in ("ORDERS_UPDATED", "REFUNDS_CREATE"):
        graphql(shopify_url, SUBSCRIBE, {"topic": topic, "uri": capture_server.url})
    order = order_of(fake_shop, "ada@example.com", state="unfulfilled")
    mutation = """mutation($input: OrderInput!) {
      orderUpdate(input: $input) { order { id } userErrors { field message } }
    }"""

    graphql(shopify_url, mutation, {"input": {"id": gid("Order", order.pk), "tags": ["vip"]}})

    assert wait_until(lambda: capture_server.requests)
    request = capture_server.requests[0]
    headers = request["headers"]
    assert headers["X-Shopify-Topic"] == "orders/updated"
    assert headers["X-Shopify-Shop-Domain"] == DEMO_DOMAIN
    assert headers["X-Shopify-API-Version"] == settings.SHOPIFY_API_VERSION
    assert headers["X-Shopify-Webhook-Id"] and headers["X-Shopify-Triggered-At"]
    assert headers["X-Shopify-Hmac-Sha256"] == sign(
        request["body"], settings.SANDBOX_SHOPIFY_WEBHOOK_SECRET
    )
    body = json.loads(request["body"])
    assert body["id"] == order.legacy_id  # REST: a number, snake_case fields
    assert body["admin_graphql_api_id"] == gid("Order", order.pk)
    assert body["email"] == "ada@example.com"
    assert body["tags"] == "vip"
    assert body["financial_status"] == "paid"


def test_a_refund_sends_refunds_create_and_orders_updated(shopify_url, fake_shop, capture_server):
    for topic in ("ORDERS_UPDATED", "REFUNDS_CREATE"):
        WebhookSubscription.objects.create(shop=fake_shop, topic=topic, uri=capture_server.url)
    order = order_of(fake_shop, "ada@example.com", state="unfulfilled")
    sale = order.transactions.get()
    refund_input = {
        "orderId": gid("Order", order.pk),
        "transactions": [
            {
                "orderId": gid("Order", order.pk),
                "parentId": gid("OrderTransaction", sale.pk),
                "gateway": sale.gateway,
                "kind": "REFUND",
                "amount": "10.00",
            }
        ],
    }

    services.refund_create(shop=fake_shop, refund_input=refund_input, idempotency_key="k-9")

    assert wait_until(lambda: len(capture_server.requests) == 2)
    assert sorted(capture_server.topics()) == ["orders/updated", "refunds/create"]
    refund = next(
        json.loads(r["body"])
        for r in capture_server.requests
        if r["headers"]["X-Shopify-Topic"] == "refunds/create"
    )
    assert refund["order_id"] == order.legacy_id
    assert refund["transactions"][0]["amount"] == "10.00"


def test_uninstalling_the_app_revokes_the_token_and_sends_app_uninstalled(
    shopify_url, fake_shop, capture_server
):
    WebhookSubscription.objects.create(
        shop=fake_shop, topic="APP_UNINSTALLED", uri=capture_server.url
    )

    services.shop_app_uninstall(shop=fake_shop)

    assert wait_until(lambda: capture_server.topics() == ["app/uninstalled"])
    assert json.loads(capture_server.requests[0]["body"])["myshopify_domain"] == DEMO_DOMAIN
    assert graphql(shopify_url, "{ shop { name } }").status_code == 401


def test_the_seed_makes_northwind_goods_and_is_idempotent(live_server):
    call_command("sandbox_shopify_seed", "--webhook-url", "http://127.0.0.1:9/shopify/webhooks/")
    counts = (Customer.objects.count(), Order.objects.count())
    call_command("sandbox_shopify_seed", "--webhook-url", "http://127.0.0.1:9/shopify/webhooks/")

    shop = Shop.objects.get()
    assert (shop.name, shop.domain, shop.access_token) == (
        "Northwind Goods",
        DEMO_DOMAIN,
        DEMO_TOKEN,
    )
    assert (Customer.objects.count(), Order.objects.count()) == counts
    emails = set(Customer.objects.values_list("email", flat=True))
    assert emails == {
        f"{name}@example.com"
        for name in ("ada", "grace", "alan", "katherine", "linus", "margaret", "tim", "barbara")
    }
    for customer in Customer.objects.all():
        assert 1 <= customer.orders.count() <= 5
    statuses = set(Order.objects.values_list("financial_status", flat=True))
    assert {"PAID", "PARTIALLY_REFUNDED", "REFUNDED", "AUTHORIZED"} <= statuses
    assert Order.objects.filter(cancelled_at__isnull=False).exists()
    assert Order.objects.filter(fulfillments__tracking_number__gt="").exists()
    assert WebhookSubscription.objects.count() == 5
    numbers = sorted(Order.objects.values_list("number", flat=True))
    assert numbers == list(range(1001, 1001 + len(numbers)))
