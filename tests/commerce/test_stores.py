"""Stores: tokens encrypted at rest, the store from the environment, connecting, the admin."""

from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import User
from django.core.management import call_command

from copilot.agents import Agent
from copilot.commerce import services
from copilot.commerce.checks import shopify_settings
from copilot.commerce.encryption import TokenDecryptionError
from copilot.commerce.models import OrderAction, RefundApproval, Store
from copilot.integrations.http import IntegrationError
from copilot.sandbox.shopify.models import Refund, WebhookSubscription, gid
from tests.sandbox_shopify.support import order_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_access_token_is_encrypted_at_rest(store, fake_shop):
    raw = Store.objects.filter(pk=store.pk).values_list("access_token_encrypted", flat=True)[0]

    assert fake_shop.access_token not in raw
    assert raw.startswith("gAAAAA")  # a Fernet token
    assert Store.objects.get(pk=store.pk).access_token == fake_shop.access_token


def test_keys_rotate_the_new_key_first_then_reencrypt(store, fake_shop, settings):
    old_key = settings.SHOPIFY_TOKEN_ENCRYPTION_KEY
    new_key = Fernet.generate_key().decode()
    settings.SHOPIFY_TOKEN_ENCRYPTION_KEY = f"{new_key},{old_key}"

    assert Store.objects.get(pk=store.pk).access_token == fake_shop.access_token
    assert services.store_tokens_reencrypt() == 1
    settings.SHOPIFY_TOKEN_ENCRYPTION_KEY = new_key
    assert Store.objects.get(pk=store.pk).access_token == fake_shop.access_token
    settings.SHOPIFY_TOKEN_ENCRYPTION_KEY = old_key
    with pytest.raises(TokenDecryptionError):
        Store.objects.get(pk=store.pk).access_token


def test_a_bad_encryption_key_is_reported_at_start_up(settings):
    settings.SHOPIFY_TOKEN_ENCRYPTION_KEY = "not-a-fernet-key"

    problems = shopify_settings()

    assert [problem.id for problem in problems] == ["commerce.E001"]


def test_connecting_checks_the_token_and_registers_webhooks(fake_shop, shopify_url, settings):
    settings.SHOPIFY_WEBHOOK_URL = "https://copilot.example.com/shopify/webhooks/"

    store = services.store_connect(
        shop_domain="https://Northwind-Goods.myshopify.com/",
        access_token=fake_shop.access_token,
        api_base_url=shopify_url,
    )
    again = services.store_connect(
        shop_domain=fake_shop.domain, access_token=fake_shop.access_token, api_base_url=shopify_url
    )

    assert store.shop_domain == "northwind-goods.myshopify.com"
    assert store.name == "Northwind Goods"  # from Shopify
    assert again.pk == store.pk
    assert again.webhooks_registered_at is not None
    topics = set(WebhookSubscription.objects.values_list("topic", flat=True))
    assert topics == {
        "ORDERS_CREATE",
        "ORDERS_UPDATED",
        "ORDERS_CANCELLED",
        "REFUNDS_CREATE",
        "APP_UNINSTALLED",
    }
    with pytest.raises(IntegrationError):
        services.store_connect(
            shop_domain=fake_shop.domain, access_token="shpat_wrong", api_base_url=shopify_url
        )


def test_the_store_from_the_environment_is_created_once_and_not_revived(
    fake_shop, shopify_url, settings
):
    settings.SHOPIFY_SHOP_DOMAIN = fake_shop.domain
    settings.SHOPIFY_ACCESS_TOKEN = fake_shop.access_token
    settings.SHOPIFY_API_BASE_URL = shopify_url

    store = services.store_ensure_from_settings()
    services.store_disconnect(store_id=store.pk, status=Store.Status.UNINSTALLED)
    same_token = services.store_ensure_from_settings()
    settings.SHOPIFY_ACCESS_TOKEN = "shpat_reinstalled"
    new_token = services.store_ensure_from_settings()

    assert store.from_environment and store.api_base_url == shopify_url
    assert same_token.status == Store.Status.UNINSTALLED
    assert new_token.status == Store.Status.CONNECTED
    assert new_token.access_token == "shpat_reinstalled"


def test_the_connect_command_uses_the_environment(fake_shop, shopify_url, settings):
    settings.SHOPIFY_SHOP_DOMAIN = fake_shop.domain
    settings.SHOPIFY_ACCESS_TOKEN = fake_shop.access_token
    settings.SHOPIFY_API_BASE_URL = shopify_url
    settings.SHOPIFY_WEBHOOK_URL = "https://copilot.example.com/shopify/webhooks/"

    call_command("shopify_store_connect")

    store = Store.objects.get()
    assert store.is_connected and store.webhooks_registered_at is not None


def test_a_supervisor_approves_a_refund_from_the_admin(client, store, fake_shop, kustomer_notes):
    order = order_of(fake_shop, "alan@example.com", state="unfulfilled")
    services.order_refund(
        store_id=store.pk,
        order_id=gid("Order", order.pk),
        agent=Agent(id="u1", name="Ada Agent"),
        idempotency_key="admin-approval-1",
        confirmed_amount=Decimal("259.00"),
        conversation_id="conv-9",
    )
    client.force_login(User.objects.create_superuser("boss", password="x"))
    approval = RefundApproval.objects.get()

    listing = client.get("/admin/commerce/refundapproval/")
    response = client.post(
        "/admin/commerce/refundapproval/",
        {"action": "approve", "_selected_action": [approval.pk]},
        follow=True,
    )

    assert listing.status_code == 200
    assert order.name in listing.content.decode()
    assert response.status_code == 200
    assert OrderAction.objects.get().status == "succeeded"
    assert Refund.objects.filter(order=order).count() == 1


def test_a_store_is_added_in_the_admin_with_its_token_checked(client, fake_shop, shopify_url):
    client.force_login(User.objects.create_superuser("boss", password="x"))

    refused = client.post(
        "/admin/commerce/store/add/",
        {
            "shop_domain": fake_shop.domain,
            "access_token": "shpat_wrong",
            "api_base_url": shopify_url,
        },
    )
    added = client.post(
        "/admin/commerce/store/add/",
        {
            "shop_domain": fake_shop.domain,
            "access_token": fake_shop.access_token,
            "api_base_url": shopify_url,
        },
    )

    assert "Shopify refused this token" in refused.content.decode()
    assert added.status_code == 302
    store = Store.objects.get()
    assert store.name == "Northwind Goods"
    assert store.access_token == fake_shop.access_token
