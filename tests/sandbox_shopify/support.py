"""Fixtures shared by the Shopify tests: the fake Shopify on pytest-django's live server, reached
over real HTTP, a seeded demo shop, our Store pointed at it, and a recorder of Kustomer notes."""

import base64
import contextlib
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import redis

from copilot.commerce import clients as commerce_clients
from copilot.commerce.selectors import stores_changed
from copilot.integrations import shopify as shopify_client_module
from copilot.integrations.shopify import LocalCostBucket, ShopifyClient, shared_cost_bucket
from copilot.sandbox.shopify import webhooks as fake_webhooks
from copilot.sandbox.shopify.bucket import buckets
from copilot.sandbox.shopify.models import Order, Shop
from copilot.sandbox.shopify.seed import DEMO_DOMAIN, DEMO_TOKEN, shop_seed

API_VERSION = "2026-10"


def wait_until(predicate: Callable[[], object], *, timeout: float = 5.0, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


# Rows that only migrations make and that no test here changes: kept across the flush.
KEPT_TABLES = {"django_content_type", "auth_permission"}


@contextlib.contextmanager
def fast_flush():
    """A cheaper flush after each test while it is active.

    Every test here needs the live server, so pytest-django flushes the whole database after
    each one, then re-runs post_migrate to make the content types and permissions again. On
    PostgreSQL the TRUNCATE of ~50 tables takes 0.5-2 s on a busy 2-core machine and the
    post_migrate another 0.2 s. Instead: DELETE the rows (Django's foreign keys are DEFERRABLE,
    so the order does not matter in flush's transaction), keep the content types and
    permissions, and skip post_migrate.
    """
    from django.core.management.commands import flush
    from django.db import connection

    operations = type(connection.ops)
    original = operations.sql_flush
    emit = flush.emit_post_migrate_signal

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        tables = [table for table in tables if table not in KEPT_TABLES]
        if self.connection.vendor != "postgresql" or reset_sequences or allow_cascade:
            return original(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        return ["SET CONSTRAINTS ALL DEFERRED;"] + [
            f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};"
            for table in tables
        ]

    operations.sql_flush = sql_flush
    flush.emit_post_migrate_signal = lambda *args, **kwargs: None
    try:
        yield
    finally:
        operations.sql_flush = original
        flush.emit_post_migrate_signal = emit


def forget_our_bucket() -> None:
    """Forgets what our client knows of every shop's bucket (local or in Redis)."""
    from django.conf import settings

    bucket = shared_cost_bucket(settings.REDIS_URL)
    if isinstance(bucket, LocalCostBucket):
        bucket.clear()
    else:
        client = redis.Redis.from_url(settings.REDIS_URL)
        for name in client.scan_iter("copilot:shopify:bucket:*"):
            client.delete(name)
        client.close()


@pytest.fixture(autouse=True)
def _fresh_shopify_state(settings):
    """Every test starts with full buckets, no known costs and no open clients."""
    settings.SANDBOX_SHOPIFY_CANCEL_JOB_SECONDS = 0.2
    settings.SANDBOX_SHOPIFY_LATENCY_MS = 0
    settings.SANDBOX_SHOPIFY_THROTTLE_STATUS = 200
    settings.SANDBOX_SHOPIFY_PROTECTED_CUSTOMER_DATA = True
    settings.SHOPIFY_SHOP_DOMAIN = ""
    settings.SHOPIFY_ACCESS_TOKEN = ""
    buckets.reset()
    shopify_client_module._known_costs.clear()
    bucket = shared_cost_bucket("")
    if isinstance(bucket, LocalCostBucket):
        bucket.clear()
    fake_webhooks.deliveries.clear()
    stores_changed()
    yield
    commerce_clients.clients_close()


@pytest.fixture
def shopify_url(live_server) -> str:
    return live_server.url + "/sandbox/shopify"


@pytest.fixture
def fake_shop(live_server) -> Shop:
    """The demo store Northwind Goods, seeded in the fake (no webhook subscriptions)."""
    return shop_seed(domain=DEMO_DOMAIN, token=DEMO_TOKEN, webhook_url="").shop


@pytest.fixture
def store(fake_shop, shopify_url):
    """Our Store for the demo shop, pointed at the fake (no webhook registration)."""
    from copilot.commerce import services

    return services.store_connect(
        shop_domain=fake_shop.domain,
        access_token=fake_shop.access_token,
        name="Northwind Goods",
        api_base_url=shopify_url,
        verify=False,
        register_webhooks=False,
    )


@pytest.fixture
def shopify_client(shopify_url, fake_shop):
    """Our client, talking to the fake over HTTP, with its own in-memory bucket."""
    client = ShopifyClient(
        shop_domain=fake_shop.domain,
        access_token=fake_shop.access_token,
        api_version=API_VERSION,
        base_url=shopify_url,
        timeout=5.0,
        bucket=LocalCostBucket(),
    )
    yield client
    client.close()


def graphql(
    shopify_url: str,
    query: str,
    variables: dict | None = None,
    *,
    token=DEMO_TOKEN,
    version=API_VERSION,
) -> httpx.Response:
    """A raw request to the fake, as any Shopify client would send it."""
    return httpx.post(
        f"{shopify_url}/admin/api/{version}/graphql.json",
        json={"query": query, "variables": variables or {}},
        headers={"X-Shopify-Access-Token": token},
        timeout=10.0,
    )


def order_of(fake_shop: Shop, email: str, *, state: str) -> Order:
    """A seeded order of the customer in the given state."""
    checks = {
        "unfulfilled": lambda o: (
            not o.fulfillments.exists() and not o.cancelled_at and o.financial_status == "PAID"
        ),
        "fulfilled": lambda o: o.fulfillments.exists(),
        "cancelled": lambda o: o.cancelled_at is not None,
        "partially_refunded": lambda o: o.financial_status == "PARTIALLY_REFUNDED",
    }
    orders = Order.objects.filter(shop=fake_shop, customer__email=email).order_by("-created_at")
    for order in orders:
        if checks[state](order):
            return order
    raise LookupError(f"no {state} order for {email}")


class CaptureServer:
    """A tiny HTTP server that records what is POSTed to it (a stand-in webhook receiver)."""

    def __init__(self, status: int = 200):
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                outer.requests.append({"headers": dict(self.headers), "body": body})
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def topics(self) -> list[str]:
        return [request["headers"].get("X-Shopify-Topic") for request in self.requests]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def capture_server():
    server = CaptureServer()
    yield server
    server.stop()


class RequestCounter:
    """Counts the GraphQL requests the fake answers (it runs in this process)."""

    def __init__(self, monkeypatch):
        from copilot.sandbox.shopify import schema

        self.calls: list[str] = []
        original = schema.run

        def counting_run(**kwargs):
            self.calls.append(kwargs["shop"].domain)
            return original(**kwargs)

        monkeypatch.setattr(schema, "run", counting_run)

    @property
    def count(self) -> int:
        return len(self.calls)


@pytest.fixture
def fake_requests(monkeypatch) -> RequestCounter:
    return RequestCounter(monkeypatch)


class NoteRecorder:
    """Stands in for the Kustomer client in `write_action_note` (outside the Shopify part)."""

    def __init__(self):
        self.notes: list[dict] = []
        self.failures: list[Exception] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None

    def close(self):
        pass

    def create_note(self, conversation_id, *, body, external_id, customer_id=None):
        if self.failures:
            raise self.failures.pop(0)
        self.notes.append(
            {"conversation_id": conversation_id, "body": body, "external_id": external_id}
        )
        return {"id": f"note-{len(self.notes)}"}


@pytest.fixture
def kustomer_notes(monkeypatch) -> NoteRecorder:
    from copilot.integrations import kustomer

    recorder = NoteRecorder()
    monkeypatch.setattr(kustomer.KustomerClient, "from_settings", classmethod(lambda cls: recorder))
    return recorder


def json_body(response: httpx.Response) -> dict:
    return json.loads(response.content)
