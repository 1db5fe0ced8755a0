"""copilot/integrations/shopify/ (the client) against the fake Shopify over real HTTP."""

import os
import socket
from decimal import Decimal

import httpx
import pytest
import redis

from copilot.integrations.http import PermanentError, RateLimited, TransientError
from copilot.integrations.shopify import (
    LocalCostBucket,
    Money,
    ProtectedCustomerDataError,
    RedisCostBucket,
    RefundLineItem,
    ShopifyAuthError,
    ShopifyClient,
    ShopifyQueryError,
    ShopifyThrottled,
    ShopifyUnavailable,
    ThrottleStatus,
    search_value,
)
from copilot.sandbox.shopify.bucket import buckets
from copilot.sandbox.shopify.models import Refund, gid
from tests.sandbox_shopify.support import API_VERSION, order_of

pytestmark = pytest.mark.django_db(transaction=True)


class CountingTransport(httpx.HTTPTransport):
    def __init__(self):
        super().__init__()
        self.sent = 0

    def handle_request(self, request):
        self.sent += 1
        return super().handle_request(request)


def _client(shopify_url, shop, **overrides) -> ShopifyClient:
    options = {
        "shop_domain": shop.domain,
        "access_token": shop.access_token,
        "api_version": API_VERSION,
        "base_url": shopify_url,
        "timeout": 5.0,
        "bucket": LocalCostBucket(),
        **overrides,
    }
    return ShopifyClient(**options)


def test_customer_orders_come_back_as_typed_orders(shopify_client):
    page = shopify_client.customer_orders("Ada@Example.com")

    assert len(page.orders) == 3
    order = page.orders[0]
    assert order.name.startswith("#10")
    assert isinstance(order.total, Money)
    assert isinstance(order.total.amount, Decimal)
    assert order.customer.number_of_orders == 3
    assert order.customer.amount_spent == Money(Decimal("276.00"), "USD")
    assert order.line_items[0].unit_price.currency_code == "USD"
    assert order.shipping_address.city == "Portland"
    shipped = next(o for o in page.orders if o.fulfillments)
    assert shipped.fulfillments[0].tracking[0].number
    assert not shipped.can_edit_shipping_address
    assert page.cost.requested > page.cost.actual > 0


def test_one_order_in_detail_and_the_customers_lifetime_figures(shopify_client, fake_shop):
    seeded = order_of(fake_shop, "ada@example.com", state="partially_refunded")

    order = shopify_client.order(gid("Order", seeded.pk))
    customer = shopify_client.customer_by_email("ada@example.com")

    assert order.financial_status == "PARTIALLY_REFUNDED"
    assert order.refunds[0].note == "Arrived damaged"
    assert {t.kind for t in order.transactions} == {"SALE", "REFUND"}
    assert customer.number_of_orders == 3
    assert shopify_client.order("gid://shopify/Order/1") is None
    assert shopify_client.customer_by_email("nobody@example.com") is None


@pytest.mark.parametrize("status", [200, 429])
def test_throttled_answers_raise_the_same_error_whatever_the_status(
    shopify_url, fake_shop, settings, status
):
    settings.SANDBOX_SHOPIFY_THROTTLE_STATUS = status
    buckets.set_available(fake_shop.domain, 0)
    client = _client(shopify_url, fake_shop)

    with pytest.raises(ShopifyThrottled) as raised:
        client.customer_orders("ada@example.com")

    assert isinstance(raised.value, RateLimited)
    assert isinstance(raised.value, TransientError)
    assert raised.value.retry_after > 0


def test_once_throttled_the_client_holds_off_without_sending(shopify_url, fake_shop):
    buckets.set_available(fake_shop.domain, 0)
    transport = CountingTransport()
    client = _client(shopify_url, fake_shop, transport=transport)
    with pytest.raises(ShopifyThrottled):
        client.customer_orders("ada@example.com")

    with pytest.raises(ShopifyThrottled) as raised:
        client.customer_orders("ada@example.com")

    assert transport.sent == 1  # the second call never left the process
    assert "nothing was sent" in str(raised.value)


def test_the_wait_follows_shopifys_formula(shopify_url, fake_shop, settings):
    settings.SANDBOX_SHOPIFY_RESTORE_RATE = 50
    buckets.set_available(fake_shop.domain, 100)
    client = _client(shopify_url, fake_shop, bucket=None)

    with pytest.raises(ShopifyThrottled) as raised:
        client.customer_orders("ada@example.com")

    # (requestedQueryCost - currentlyAvailable) / restoreRate, with ~532 requested.
    assert raised.value.retry_after == pytest.approx((532 - 100) / 50, abs=0.5)


def test_user_errors_are_returned_and_request_errors_raised(shopify_client, fake_shop):
    seeded = order_of(fake_shop, "ada@example.com", state="partially_refunded")
    refunded = seeded.line_items.get(refunded_quantity=1)

    result = shopify_client.refund_create(
        order_id=gid("Order", seeded.pk),
        idempotency_key="client-test-1",
        line_items=[RefundLineItem(gid("LineItem", refunded.pk), refunded.quantity)],
    )

    assert result.refund is None
    assert "refundable quantity" in result.user_errors[0].message
    assert result.user_errors[0].field == ("refundLineItems", "0", "quantity")
    with pytest.raises(ShopifyQueryError):
        shopify_client.execute("{ orders(first: 1) { nodes { favouriteColour } } }")


def test_a_refused_token_is_an_auth_error(shopify_url, fake_shop):
    client = _client(shopify_url, fake_shop, access_token="shpat_revoked")

    with pytest.raises(ShopifyAuthError) as raised:
        client.shop()

    assert isinstance(raised.value, PermanentError)
    assert raised.value.status == 401


def test_missing_protected_data_approval_is_its_own_error(shopify_client, settings):
    settings.SANDBOX_SHOPIFY_PROTECTED_CUSTOMER_DATA = False

    with pytest.raises(ProtectedCustomerDataError):
        shopify_client.customer_orders("ada@example.com")


def test_an_unreachable_shop_did_not_receive_the_request(fake_shop):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = _client(f"http://127.0.0.1:{port}", fake_shop, timeout=1.0)

    with pytest.raises(ShopifyUnavailable) as raised:
        client.shop()

    assert raised.value.reached_shopify is False


def test_a_timeout_after_sending_may_have_reached_shopify(shopify_url, fake_shop, settings):
    settings.SANDBOX_SHOPIFY_LATENCY_MS = 600
    client = _client(shopify_url, fake_shop, timeout=0.2)

    with pytest.raises(ShopifyUnavailable) as raised:
        client.shop()

    assert raised.value.reached_shopify is True


def test_refund_create_with_the_same_key_refunds_once(shopify_client, fake_shop):
    seeded = order_of(fake_shop, "grace@example.com", state="fulfilled")
    suggestion = shopify_client.suggested_refund(gid("Order", seeded.pk))
    arguments = {
        "order_id": gid("Order", seeded.pk),
        "idempotency_key": "client-test-2",
        "line_items": suggestion.line_items,
        "shipping_amount": suggestion.shipping.amount,
        "transactions": suggestion.transactions,
    }

    first = shopify_client.refund_create(**arguments)
    second = shopify_client.refund_create(**arguments)

    assert suggestion.amount == Money(Decimal("136.00"), "USD")
    assert first.refund.id == second.refund.id
    assert first.refund.total == suggestion.amount
    assert Refund.objects.filter(order=seeded).count() == 1


def test_search_values_are_quoted_when_needed():
    assert search_value("ada@example.com") == "ada@example.com"
    assert search_value('o"brien @example.com') == '"o\\"brien @example.com"'


@pytest.fixture(params=["local", "redis"])
def cost_bucket(request):
    if request.param == "local":
        return LocalCostBucket()
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs REDIS_URL for the shared bucket")
    return RedisCostBucket(redis.Redis.from_url(url), namespace="test:shopify:bucket")


def test_the_cost_bucket_reserves_and_refills(cost_bucket):
    shop = "bucket-test.myshopify.com"
    assert cost_bucket.reserve(shop, 500) == 0  # unknown bucket: let Shopify say

    cost_bucket.observe(shop, ThrottleStatus(2000, 600, 100))

    assert cost_bucket.reserve(shop, 500) == 0
    wait = cost_bucket.reserve(shop, 500)
    assert 3.5 < wait <= 4.0  # 100 left, 400 missing at 100/s
    assert cost_bucket.reserve(shop, 50) == 0
