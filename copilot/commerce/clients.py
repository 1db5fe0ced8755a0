"""Shopify clients for our stores, one per store and timeout, kept for the process's life so that
their connections are reused."""

import hashlib
import threading

from django.conf import settings

from copilot.integrations.shopify import ShopifyClient, shared_cost_bucket

from .models import Store

_clients: dict[tuple, ShopifyClient] = {}
_lock = threading.Lock()


def client_for_store(store: Store, *, timeout: float | None = None) -> ShopifyClient:
    """The client of `store`. `timeout` defaults to SHOPIFY_TIMEOUT_SECONDS (background work);
    requests an agent waits on pass SHOPIFY_CARD_TIMEOUT_SECONDS."""
    token = store.access_token
    timeout = settings.SHOPIFY_TIMEOUT_SECONDS if timeout is None else timeout
    key = (
        store.shop_domain,
        store.api_base_url,
        hashlib.sha256(token.encode()).hexdigest(),
        settings.SHOPIFY_API_VERSION,
        timeout,
        settings.REDIS_URL,
    )
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = ShopifyClient(
                shop_domain=store.shop_domain,
                access_token=token,
                api_version=settings.SHOPIFY_API_VERSION,
                base_url=store.api_base_url,
                timeout=timeout,
                bucket=shared_cost_bucket(
                    settings.REDIS_URL, socket_timeout=settings.REDIS_SOCKET_TIMEOUT
                ),
            )
            _clients[key] = client
        return client


def clients_close() -> None:
    """Closes every kept client (tests, and after a token change)."""
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
