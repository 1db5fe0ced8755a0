"""Correctly signed deliveries with odd content are stored or refused with 400, never a 500.

A vendor retries a failing delivery (Kustomer for an hour, then it may disable the webhook), so
one odd message must not cost every message after it. Text PostgreSQL cannot hold (NUL, a lone
surrogate) is cleaned when the message is otherwise fine.
"""

import base64
import copy
import hashlib
import hmac
import json
import random
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from copilot.inbox.models import InboundMessage
from copilot.webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kustomer"
KUSTOMER_SECRET = "whsec-odd"
SHOPIFY_SECRET = "test-shopify-webhook-secret"  # tests/settings.py

ODD_VALUES = [
    "hello\x00world",
    "\x00",
    "caf\ud800e",
    "\udfff",
    "",
    "   ",
    0,
    12345678901234567890,
    -1.5,
    True,
    None,
    [],
    ["a", "b"],
    {},
    {"nested": {"deeper": "x"}},
    "x" * 300,
    "y" * 70_000,
    "emoji 😀 and rtl \u202e text",
    "line\r\nbreaks\tand\x07bell",
]


@pytest.fixture(autouse=True)
def _secrets(settings, broker):
    settings.KUSTOMER_WEBHOOK_SECRET = [KUSTOMER_SECRET]
    settings.KUSTOMER_WEBHOOK_MAX_BYTES = 256 * 1024


def kustomer_message() -> dict:
    payload = json.loads((FIXTURES / "message_create_in.json").read_text())
    payload["id"] = uuid.uuid4().hex
    payload["data"]["id"] = uuid.uuid4().hex[:24]
    return payload


def shopify_order() -> dict:
    return {
        "id": random.randint(1, 10**12),
        "admin_graphql_api_id": "gid://shopify/Order/1",
        "email": "ada@example.com",
        "contact_email": "ada@example.com",
        "customer": {"id": 7, "email": "ada@example.com"},
        "line_items": [{"id": 1, "quantity": 1, "title": "Mug"}],
        "name": "#1001",
    }


def deliver_to_kustomer(client, body: bytes):
    signature = hmac.new(KUSTOMER_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return client.post(
        "/kustomer/webhooks/",
        data=body,
        content_type="application/json",
        HTTP_X_KUSTOMER_WEBHOOK_SIGNATURE=signature,
    )


def deliver_to_shopify(client, body: bytes, *, topic="orders/updated", **headers):
    signature = base64.b64encode(hmac.new(SHOPIFY_SECRET.encode(), body, hashlib.sha256).digest())
    defaults = {
        "HTTP_X_SHOPIFY_TOPIC": topic,
        "HTTP_X_SHOPIFY_SHOP_DOMAIN": "northwind-goods.myshopify.com",
        "HTTP_X_SHOPIFY_WEBHOOK_ID": str(uuid.uuid4()),
        "HTTP_X_SHOPIFY_TRIGGERED_AT": datetime.now(UTC).isoformat(),
        "HTTP_X_SHOPIFY_HMAC_SHA256": signature.decode(),
    }
    return client.post(
        "/shopify/webhooks/",
        data=body,
        content_type="application/json",
        **{**defaults, **headers},
    )


def set_path(document: dict, path: tuple, value) -> dict:
    changed = copy.deepcopy(document)
    target = changed
    for key in path[:-1]:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    target[path[-1]] = value
    return changed


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


KUSTOMER_PATHS = [
    ("id",),
    ("name",),
    ("data",),
    ("data", "id"),
    ("data", "attributes"),
    ("data", "attributes", "preview"),
    ("data", "attributes", "body"),
    ("data", "attributes", "direction"),
    ("data", "attributes", "channel"),
    ("data", "attributes", "sentAt"),
    ("data", "attributes", "meta"),
    ("data", "attributes", "meta", "subject"),
    ("data", "relationships"),
    ("data", "relationships", "conversation"),
    ("data", "relationships", "conversation", "data", "id"),
    ("data", "relationships", "customer", "data", "id"),
]

SHOPIFY_PATHS = [
    ("id",),
    ("email",),
    ("contact_email",),
    ("customer",),
    ("customer", "email"),
    ("line_items",),
    ("name",),
]


@pytest.mark.parametrize("path", KUSTOMER_PATHS, ids="/".join)
@pytest.mark.parametrize("value", ODD_VALUES, ids=repr)
def test_kustomer_odd_field_is_stored_or_refused_with_a_reason(client, path, value):
    payload = set_path(kustomer_message(), path, value)

    response = deliver_to_kustomer(client, json.dumps(payload).encode())

    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert response.json()["error"].endswith(".")
    for message in InboundMessage.objects.all():
        assert "\x00" not in message.text
        assert message.text.strip()


@pytest.mark.parametrize("path", SHOPIFY_PATHS, ids="/".join)
@pytest.mark.parametrize("value", ODD_VALUES, ids=repr)
def test_shopify_odd_field_is_stored_or_refused_with_a_reason(client, path, value):
    payload = set_path(shopify_order(), path, value)

    response = deliver_to_shopify(client, json.dumps(payload).encode())

    assert response.status_code in (200, 400), response.content
    for event in WebhookEvent.objects.all():
        assert "\x00" not in json.dumps(event.data)


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_X_SHOPIFY_TOPIC": "orders/\x00updated"},
        {"HTTP_X_SHOPIFY_TOPIC": "t" * 300},
        {"HTTP_X_SHOPIFY_SHOP_DOMAIN": "s" * 300 + ".myshopify.com"},
        {"HTTP_X_SHOPIFY_WEBHOOK_ID": "w" * 300},
        {"HTTP_X_SHOPIFY_WEBHOOK_ID": ""},
        {"HTTP_X_SHOPIFY_TRIGGERED_AT": "not a time"},
        {"HTTP_X_SHOPIFY_TRIGGERED_AT": "1970-01-01T00:00:00Z"},
    ],
)
def test_shopify_odd_headers_are_stored_or_refused_with_a_reason(client, headers):
    response = deliver_to_shopify(client, json.dumps(shopify_order()).encode(), **headers)

    assert response.status_code in (200, 400), response.content


@pytest.mark.parametrize("depth", [50, 900, 1_000, 5_000, 100_000])
def test_deeply_nested_json_is_stored_or_refused(client, depth):
    kustomer_body = json.dumps(kustomer_message())[:-1] + f', "extra": {nested(depth)}}}'
    shopify_body = json.dumps(shopify_order())[:-1] + f', "extra": {nested(depth)}}}'

    assert deliver_to_kustomer(client, kustomer_body.encode()).status_code in (200, 400)
    assert deliver_to_shopify(client, shopify_body.encode()).status_code in (200, 400)


def test_a_message_with_a_nul_and_a_lone_surrogate_is_cleaned_not_refused(client, caplog):
    caplog.set_level("DEBUG")
    payload = kustomer_message()
    payload["data"]["attributes"]["preview"] = "where is\x00 my order \ud83d?"
    payload["data"]["attributes"]["meta"] = {"subject": 1042}

    response = deliver_to_kustomer(client, json.dumps(payload).encode())

    assert response.json() == {"status": "accepted"}
    message = InboundMessage.objects.get()
    assert message.text == "1042\nwhere is my order \ufffd?"
    # Nothing of the message reaches the logs.
    assert "my order" not in caplog.text


def test_an_id_longer_than_its_column_is_refused_with_the_reason(client):
    payload = kustomer_message()
    payload["data"]["id"] = "m" * 65

    response = deliver_to_kustomer(client, json.dumps(payload).encode())

    assert response.status_code == 400
    assert response.json() == {"error": "The message id (`data.id`) is longer than 64 characters."}
    assert not WebhookEvent.objects.exists()


def test_a_few_hundred_random_odd_bodies_never_get_a_500(client):
    generator = random.Random(20261204)
    statuses = []
    for _ in range(300):
        if generator.random() < 0.5:
            payload, paths, send = kustomer_message(), KUSTOMER_PATHS, deliver_to_kustomer
        else:
            payload, paths, send = shopify_order(), SHOPIFY_PATHS, deliver_to_shopify
        for _ in range(generator.randint(1, 4)):
            payload = set_path(payload, generator.choice(paths), generator.choice(ODD_VALUES))
        statuses.append(send(client, json.dumps(payload).encode()).status_code)

    assert set(statuses) <= {200, 400}
    assert 200 in statuses and 400 in statuses
