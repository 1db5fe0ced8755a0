import hashlib
import hmac
import json

import pytest

from copilot.sandbox.kustomer import services
from copilot.sandbox.kustomer.models import WebhookDelivery


@pytest.fixture
def webhook(admin, receiver) -> dict:
    response = admin.post(
        "/v1/outbound-webhooks",
        json={
            "name": "copilot",
            "url": receiver.url,
            "events": [
                "kustomer.message.create",
                "kustomer.conversation.create",
                "kustomer.customer.create",
            ],
            "headers": [{"name": "X-Copilot-Tenant", "value": "northwind"}],
        },
    )
    assert response.status_code == 201
    return response.json()["data"]


def _verify(received, token: str) -> dict:
    expected = hmac.new(token.encode(), received.body, hashlib.sha256).hexdigest()
    assert received.headers["X-Kustomer-Webhook-Signature"] == expected
    return json.loads(received.body)


def test_a_customers_message_is_posted_signed_to_the_webhook(
    conversation, webhook, receiver, control
):
    response = control.post(
        "/messages",
        json={"conversationId": conversation.id, "body": "Where is order #1042?"},
    )
    assert response.status_code == 201
    message_id = response.json()["messageId"]

    (received,) = receiver.wait_for(1)
    services.webhook_deliveries_wait()

    event = _verify(received, webhook["attributes"]["token"])
    assert received.path == "/kustomer/webhooks/"
    assert received.headers["Content-Type"] == "application/json"
    assert received.headers["X-Kustomer-Webhook-Event"] == "kustomer.message.create"
    assert received.headers["X-Copilot-Tenant"] == "northwind"
    assert event["name"] == "kustomer.message.create"
    assert event["changes"] is None
    assert event["org"] == event["partition"] == conversation.org_id
    assert event["data"]["type"] == "message"
    assert event["data"]["id"] == message_id
    assert event["data"]["attributes"]["direction"] == "in"
    assert event["data"]["attributes"]["preview"] == "Where is order #1042?"
    assert event["data"]["attributes"]["auto"] is False
    relationships = event["data"]["relationships"]
    assert relationships["customer"]["data"] == {"type": "customer", "id": conversation.customer_id}
    assert relationships["conversation"]["data"] == {
        "type": "conversation",
        "id": conversation.id,
    }
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.event_id) == ("delivered", 1, event["id"])


def test_a_failed_delivery_is_retried_with_the_same_signed_body(
    conversation, webhook, receiver, control
):
    receiver.statuses = [500, 503]

    control.post("/messages", json={"conversationId": conversation.id, "body": "Hello?"})
    received = receiver.wait_for(3)
    services.webhook_deliveries_wait()

    assert len(received) == 3
    assert len({item.body for item in received}) == 1
    _verify(received[-1], webhook["attributes"]["token"])
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered"
    assert delivery.attempts == 3
    assert delivery.last_error == ""


def test_a_delivery_that_never_succeeds_ends_failed_after_kustomers_schedule(
    conversation, webhook, receiver, control, settings
):
    settings.SANDBOX_KUSTOMER_WEBHOOK_RETRY_SCALE = 0.0001
    receiver.statuses = [500] * 20

    control.post("/messages", json={"conversationId": conversation.id, "body": "Hello?"})
    assert services.webhook_deliveries_wait(timeout=10)

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed"
    assert delivery.attempts == 8  # the first try and 7 retries: 1, 1, 2, 5, 10, 15, 30 minutes
    assert delivery.last_error == "HTTP 500"


def test_an_unreachable_webhook_is_recorded_as_an_error(admin, control, conversation, settings):
    settings.SANDBOX_KUSTOMER_WEBHOOK_RETRY_SCALE = 0.0001
    admin.post(
        "/v1/outbound-webhooks",
        json={"name": "gone", "url": "http://127.0.0.1:9/", "events": ["kustomer.message.create"]},
    )

    control.post("/messages", json={"conversationId": conversation.id, "body": "Hello?"})
    services.webhook_deliveries_wait(timeout=10)

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed"
    assert "ConnectError" in delivery.last_error


def test_a_first_message_creates_the_conversation_and_emits_both_events(
    customer, webhook, receiver, control
):
    response = control.post(
        "/messages", json={"customerId": customer.id, "body": "Hi!", "subject": "Question"}
    )
    received = receiver.wait_for(2)
    services.webhook_deliveries_wait()

    events = sorted(json.loads(item.body)["name"] for item in received)
    assert events == ["kustomer.conversation.create", "kustomer.message.create"]
    assert response.json()["customerId"] == customer.id


def test_a_customer_created_by_the_control_api_emits_customer_create(webhook, receiver, control):
    response = control.post("/customers", json={"name": "Alan Turing", "email": "alan@example.net"})
    (received,) = receiver.wait_for(1)
    services.webhook_deliveries_wait()

    event = _verify(received, webhook["attributes"]["token"])
    assert event["name"] == "kustomer.customer.create"
    assert event["data"]["id"] == response.json()["id"]


def test_an_event_can_be_delivered_twice_for_at_least_once_tests(
    conversation, webhook, receiver, control
):
    control.post(
        "/messages",
        json={"conversationId": conversation.id, "body": "Hello?", "webhookCopies": 2},
    )
    received = receiver.wait_for(2)
    services.webhook_deliveries_wait()

    assert len(received) == 2
    assert received[0].body == received[1].body


def test_a_delayed_event_arrives_after_a_later_one(conversation, webhook, receiver, control):
    control.post(
        "/messages",
        json={"conversationId": conversation.id, "body": "first", "webhookDelaySeconds": 0.5},
    )
    control.post("/messages", json={"conversationId": conversation.id, "body": "second"})
    received = receiver.wait_for(2)
    services.webhook_deliveries_wait()

    previews = [json.loads(item.body)["data"]["attributes"]["preview"] for item in received]
    assert previews == ["second", "first"]


def test_an_agents_message_is_outbound_and_only_subscribed_webhooks_get_it(
    conversation, admin, receiver, control
):
    admin.post(
        "/v1/outbound-webhooks",
        json={"name": "c", "url": receiver.url, "events": ["kustomer.conversation.create"]},
    )

    response = control.post(
        "/messages",
        json={"conversationId": conversation.id, "body": "On its way!", "direction": "out"},
    )
    services.webhook_deliveries_wait()

    assert response.json()["data"]["attributes"]["direction"] == "out"
    assert receiver.requests == []


def test_a_message_created_through_the_api_emits_the_event(
    conversation, webhook, receiver, client_with
):
    api = client_with("org.user.message.write")

    response = api.post(
        f"/v1/conversations/{conversation.id}/messages",
        json={"channel": "email", "direction": "out", "body": "Your parcel ships today."},
    )
    (received,) = receiver.wait_for(1)
    services.webhook_deliveries_wait()

    assert response.status_code == 201
    assert json.loads(received.body)["data"]["attributes"]["direction"] == "out"
