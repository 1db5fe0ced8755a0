"""Writes of the connected Shopify stores: connecting one with its token (checked with Shopify,
stored encrypted), subscribing our webhooks, disconnecting, taking out a store whose token
Shopify refused, re-encrypting every token, and the store that the environment defines.

Every change calls `selectors.stores_changed()`, so that this process's list of stores is read
again at once (other processes see it within `selectors.STORE_LIST_SECONDS`).
"""

import hashlib
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from copilot.integrations.http import IntegrationError
from copilot.integrations.shopify import ShopifyClient

from .clients import client_for_store
from .encryption import token_encrypt, token_reencrypt
from .models import Store
from .selectors import stores_changed

logger = logging.getLogger(__name__)

WEBHOOK_TOPICS = (
    "ORDERS_CREATE",
    "ORDERS_UPDATED",
    "ORDERS_CANCELLED",
    "REFUNDS_CREATE",
    "APP_UNINSTALLED",
)


def shop_domain_normalize(shop_domain: str) -> str:
    """Lower case, no scheme or path: `https://Shop.myshopify.com/` → `shop.myshopify.com`."""
    domain = shop_domain.strip().lower().removeprefix("https://").removeprefix("http://")
    return domain.split("/")[0]


def store_token_check(
    *, shop_domain: str, access_token: str, api_base_url: str = "", timeout: float | None = None
):
    """Asks Shopify who the token belongs to; raises IntegrationError when it is refused."""
    with ShopifyClient(
        shop_domain=shop_domain_normalize(shop_domain),
        access_token=access_token,
        api_version=settings.SHOPIFY_API_VERSION,
        base_url=api_base_url,
        timeout=timeout or settings.SHOPIFY_TIMEOUT_SECONDS,
    ) as client:
        return client.shop()


def store_connect(
    *,
    shop_domain: str,
    access_token: str,
    name: str = "",
    api_base_url: str = "",
    verify: bool = True,
    register_webhooks: bool = True,
    from_environment: bool = False,
) -> Store:
    """Connects (or reconnects) a store with its Admin API token, stored encrypted.

    With `verify`, the token is checked with Shopify first (IntegrationError if refused) and the
    store's name is taken from Shopify when none is given. With `register_webhooks`, the orders,
    refunds and app/uninstalled topics are subscribed to SHOPIFY_WEBHOOK_URL.
    """
    domain = shop_domain_normalize(shop_domain)
    if verify:
        shop = store_token_check(
            shop_domain=domain, access_token=access_token, api_base_url=api_base_url
        )
        name = name or shop.name
    with transaction.atomic():
        store, created = Store.objects.select_for_update().get_or_create(shop_domain=domain)
        store.name = name or store.name
        store.api_base_url = api_base_url.rstrip("/")
        store.access_token_encrypted = token_encrypt(access_token)
        store.status = Store.Status.CONNECTED
        store.status_detail = ""
        store.connected_at = timezone.now()
        store.disconnected_at = None
        store.from_environment = from_environment or (store.from_environment and not created)
        if from_environment:
            store.environment_token_sha256 = hashlib.sha256(access_token.encode()).hexdigest()
        if not created:
            store.cache_version += 1
        store.save()
    stores_changed()
    if register_webhooks and settings.SHOPIFY_WEBHOOK_URL:
        problems = store_webhooks_register(store_id=store.pk)
        if problems:
            logger.warning("webhooks of %s not all registered: %s", domain, "; ".join(problems))
    return store


def store_ensure_from_settings() -> Store | None:
    """The store of SHOPIFY_SHOP_DOMAIN/SHOPIFY_ACCESS_TOKEN, created or given a new token.

    A token it was already given is not applied again, so an uninstalled store stays
    disconnected until the environment brings a new token. Shopify is asked once for the store's
    name (briefly: a failure only leaves the name empty); webhooks are registered by
    `manage.py shopify_store_connect`.
    """
    domain = shop_domain_normalize(settings.SHOPIFY_SHOP_DOMAIN or "")
    token = settings.SHOPIFY_ACCESS_TOKEN
    if not domain or not token:
        return None
    fingerprint = hashlib.sha256(token.encode()).hexdigest()
    store = Store.objects.filter(shop_domain=domain).first()
    if store is not None and (
        store.environment_token_sha256 == fingerprint or not store.from_environment
    ):
        return store
    name = store.name if store is not None else ""
    if not name:
        try:
            name = store_token_check(
                shop_domain=domain,
                access_token=token,
                api_base_url=settings.SHOPIFY_API_BASE_URL,
                timeout=settings.SHOPIFY_CARD_TIMEOUT_SECONDS,
            ).name
        except IntegrationError as error:
            logger.warning("could not read the name of %s: %s", domain, error)
    return store_connect(
        shop_domain=domain,
        access_token=token,
        name=name,
        api_base_url=settings.SHOPIFY_API_BASE_URL,
        verify=False,
        register_webhooks=False,
        from_environment=True,
    )


def store_webhooks_register(*, store_id: int, callback_url: str = "") -> list[str]:
    """Subscribes the store's topics to our receiver; returns the problems (empty when all is
    well; a subscription that already exists is fine)."""
    store = Store.objects.get(pk=store_id)
    uri = callback_url or settings.SHOPIFY_WEBHOOK_URL
    client = client_for_store(store)
    problems = []
    for topic in WEBHOOK_TOPICS:
        try:
            result = client.webhook_subscription_create(topic=topic, uri=uri)
        except IntegrationError as error:
            problems.append(f"{topic}: {error}")
            continue
        for error in result.user_errors:
            if "already been taken" not in error.message:
                problems.append(f"{topic}: {error.message}")
    if not problems:
        Store.objects.filter(pk=store.pk).update(webhooks_registered_at=timezone.now())
    return problems


def store_disconnect(
    *, store_id: int, status: str = Store.Status.DISCONNECTED, detail: str = ""
) -> None:
    """Forgets the token and every cached order of the store; its audit rows stay."""
    Store.objects.filter(pk=store_id).update(
        status=status,
        status_detail=detail[:500],
        access_token_encrypted="",
        disconnected_at=timezone.now(),
        cache_version=F("cache_version") + 1,
    )
    stores_changed()


def store_token_rejected(*, store_id: int, detail: str) -> None:
    """Shopify refused the token (401/403): stop using the store until an admin reconnects it."""
    Store.objects.filter(pk=store_id, status=Store.Status.CONNECTED).update(
        status=Store.Status.TOKEN_REJECTED,
        status_detail=detail[:500],
        cache_version=F("cache_version") + 1,
    )
    stores_changed()


def store_tokens_reencrypt() -> int:
    """Re-encrypts every stored token with the first SHOPIFY_TOKEN_ENCRYPTION_KEY."""
    count = 0
    for store in Store.objects.exclude(access_token_encrypted=""):
        Store.objects.filter(pk=store.pk).update(
            access_token_encrypted=token_reencrypt(store.access_token_encrypted)
        )
        count += 1
    stores_changed()
    return count
