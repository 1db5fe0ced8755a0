"""customer_orders_for_card: the cache, one request per store, and never an error for THROTTLED."""

import socket

import pytest

from copilot.commerce import selectors, services
from copilot.commerce.models import Store
from copilot.commerce.selectors import (
    BUSY,
    CACHED,
    ERROR,
    FRESH,
    STALE,
    UNAVAILABLE,
)
from copilot.commerce.services import customer_orders_for_card, order_for_card
from copilot.sandbox.shopify import services as fake_services
from copilot.sandbox.shopify.bucket import buckets
from copilot.sandbox.shopify.models import WebhookSubscription, gid
from copilot.sandbox.shopify.seed import shop_seed
from tests.sandbox_shopify.support import order_of, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_cold_card_asks_each_store_exactly_once(store, shopify_url, fake_requests):
    other_shop = shop_seed(domain="northwind-outlet.myshopify.com", token="shpat_outlet").shop
    services.store_connect(
        shop_domain=other_shop.domain,
        access_token="shpat_outlet",
        name="Northwind Outlet",
        api_base_url=shopify_url,
        verify=False,
        register_webhooks=False,
    )

    orders = customer_orders_for_card("ada@example.com")

    assert fake_requests.count == 2
    assert sorted(fake_requests.calls) == sorted([store.shop_domain, other_shop.domain])
    assert [s.state for s in orders.stores] == [FRESH, FRESH]
    assert len(orders.orders) == 6
    created = [order.created_at for _, order in orders.orders]
    assert created == sorted(created, reverse=True)
    assert orders.stores[0].customer.number_of_orders == 3


def test_a_warm_card_asks_shopify_nothing(store, fake_requests):
    customer_orders_for_card("ada@example.com")

    again = customer_orders_for_card("ADA@example.com ")

    assert fake_requests.count == 1
    assert again.stores[0].state == CACHED
    assert len(again.stores[0].orders) == 3
    assert not again.is_stale


@pytest.mark.parametrize("throttle_status", [200, 429])
def test_a_throttled_store_serves_the_stale_copy_marked_stale(
    store, fake_shop, settings, throttle_status
):
    customer_orders_for_card("ada@example.com")
    settings.SHOPIFY_ORDER_CACHE_SECONDS = 0  # the copy is now too old to be fresh
    settings.SANDBOX_SHOPIFY_THROTTLE_STATUS = throttle_status
    buckets.set_available(fake_shop.domain, 0)

    orders = customer_orders_for_card("ada@example.com")

    part = orders.stores[0]
    assert part.state == STALE
    assert orders.is_stale
    assert len(part.orders) == 3
    assert "is busy right now" in part.message


def test_a_throttled_answer_never_reaches_the_card_as_an_error(store, fake_shop):
    buckets.set_available(fake_shop.domain, 0)

    first = customer_orders_for_card("grace@example.com")
    second = customer_orders_for_card("grace@example.com")  # our bucket now knows: not even sent

    for orders in (first, second):
        part = orders.stores[0]
        assert part.state == BUSY
        assert part.orders == ()
        assert (
            part.message
            == "Northwind Goods is busy right now; the orders will show in a few seconds."
        )
        assert part.retry_after > 0


def test_a_store_that_cannot_be_reached_is_unavailable_and_others_still_show(store, fake_shop):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    services.store_connect(
        shop_domain="gone.myshopify.com",
        access_token="shpat_gone",
        name="Gone Store",
        api_base_url=f"http://127.0.0.1:{port}",
        verify=False,
        register_webhooks=False,
    )

    orders = customer_orders_for_card("ada@example.com")

    states = {part.store_name: part.state for part in orders.stores}
    assert states == {"Gone Store": UNAVAILABLE, "Northwind Goods": FRESH}


def test_a_revoked_token_shows_an_error_and_takes_the_store_out(store, fake_shop):
    fake_shop.installed = False  # uninstalled without telling us
    fake_shop.save()

    orders = customer_orders_for_card("ada@example.com")

    assert orders.stores[0].state == ERROR
    assert "reconnect" in orders.stores[0].message
    store.refresh_from_db()
    assert store.status == Store.Status.TOKEN_REJECTED
    assert customer_orders_for_card("ada@example.com").stores == ()


def test_the_read_only_reports_a_refused_token_and_the_card_takes_the_store_out(store, fake_shop):
    fake_shop.installed = False
    fake_shop.save()

    read = selectors.customer_orders_for_card("ada@example.com")
    store.refresh_from_db()
    status_after_read = store.status
    services.customer_orders_for_card("ada@example.com")
    store.refresh_from_db()

    assert read.stores[0].state == ERROR
    assert [followup.kind for followup in read.followups] == [selectors.ACCESS_REFUSED]
    assert status_after_read == Store.Status.CONNECTED  # a selector writes nothing
    assert store.status == Store.Status.TOKEN_REJECTED


def test_missing_protected_data_approval_is_explained(store, settings):
    settings.SANDBOX_SHOPIFY_PROTECTED_CUSTOMER_DATA = False

    part = customer_orders_for_card("ada@example.com").stores[0]

    assert part.state == ERROR
    assert "protected customer data" in part.message


def test_an_order_changed_in_shopify_drops_the_cached_copy(
    store, fake_shop, fake_requests, live_server, settings
):
    WebhookSubscription.objects.create(
        shop=fake_shop, topic="ORDERS_UPDATED", uri=live_server.url + "/shopify/webhooks/"
    )
    customer_orders_for_card("ada@example.com")
    order = order_of(fake_shop, "ada@example.com", state="unfulfilled")

    fake_services.order_update(
        shop=fake_shop, order_input={"id": gid("Order", order.pk), "tags": ["rush"]}
    )

    assert wait_until(lambda: _processed(store))
    orders = customer_orders_for_card("ada@example.com")
    assert orders.stores[0].state == FRESH
    assert fake_requests.count == 2
    changed = next(o for o in orders.stores[0].orders if o.name == order.name)
    assert changed.tags == ("rush",)


def _processed(store) -> bool:
    from copilot.webhooks.models import WebhookEvent

    return WebhookEvent.objects.filter(
        account=store.shop_domain, status=WebhookEvent.Status.PROCESSED
    ).exists()


def test_no_email_no_stores_no_requests(store, fake_requests):
    assert customer_orders_for_card("").stores == ()
    assert customer_orders_for_card("not an email").stores == ()
    assert fake_requests.count == 0


def test_one_order_in_detail_for_the_card(store, fake_shop):
    seeded = order_of(fake_shop, "tim@example.com", state="partially_refunded")

    lookup = order_for_card(store_id=store.pk, order_id=gid("Order", seeded.pk))
    missing = order_for_card(store_id=store.pk, order_id="gid://shopify/Order/1")

    assert lookup.state == FRESH
    assert lookup.order.refunds
    assert missing.state == "missing"


def test_the_refresh_task_fills_the_cache_for_the_next_look(store, fake_requests):
    services.customer_orders_refresh(store_id=store.pk, email="linus@example.com")

    orders = customer_orders_for_card("linus@example.com")

    assert orders.stores[0].state == CACHED
    assert fake_requests.count == 1
