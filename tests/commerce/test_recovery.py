"""Nothing accepted is lost when the broker is down: the sweep queues it once Redis is back.

Real processes throughout: a Celery worker and beat on a Redis of the test's own, which the test
stops and starts again empty, while a Shopify webhook and an agent's order action arrive.
"""

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User

from copilot.agents import Agent
from copilot.commerce import services
from copilot.commerce.models import OrderAction, RefundApproval
from copilot.sandbox.shopify.models import gid
from copilot.sandbox.shopify.webhooks import order_payload
from copilot.webhooks.models import WebhookEvent
from tests.processes import (
    CeleryBeat,
    CeleryWorker,
    RedisServer,
    publishing_to,
    require_services,
    wait_until,
)
from tests.sandbox_shopify.support import order_of

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "test-shopify-webhook-secret"  # tests/settings.py
SWEEP = {"COPILOT_SWEEP_SECONDS": "1", "CELERY_TASK_ALWAYS_EAGER": "false"}


def signed_orders_updated(client, body: bytes):
    signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest())
    return client.post(
        "/shopify/webhooks/",
        data=body,
        content_type="application/json",
        HTTP_X_SHOPIFY_TOPIC="orders/updated",
        HTTP_X_SHOPIFY_SHOP_DOMAIN="northwind-goods.myshopify.com",
        HTTP_X_SHOPIFY_WEBHOOK_ID=str(uuid.uuid4()),
        HTTP_X_SHOPIFY_TRIGGERED_AT=datetime.now(UTC).isoformat(),
        HTTP_X_SHOPIFY_HMAC_SHA256=signature.decode(),
    )


def approved_refund(store, order) -> OrderAction:
    """A refund above the approval threshold, requested then approved: it must be sent by a
    worker."""
    services.order_refund(
        store_id=store.pk,
        order_id=gid("Order", order.pk),
        agent=Agent(id="user-1", name="Ada Agent", roles=frozenset({"agent"})),
        idempotency_key=str(uuid.uuid4()),
        confirmed_amount=Decimal("259.00"),
        reason="Never arrived",
        conversation_id="",
    )
    supervisor = User.objects.create_user("sam", first_name="Sam", last_name="Super")
    supervisor.user_permissions.add(Permission.objects.get(codename="decide_refundapproval"))
    supervisor = User.objects.get(pk=supervisor.pk)
    approval = RefundApproval.objects.get()
    result = services.refund_approval_decide(approval_id=approval.pk, user=supervisor, approve=True)
    assert result.status == "queued"
    return OrderAction.objects.get(pk=approval.action_id)


def test_a_webhook_and_an_order_action_accepted_while_the_broker_is_down_run_once(
    client, store, fake_shop
):
    require_services()
    order = order_of(fake_shop, "alan@example.com", state="unfulfilled")  # $259
    redis_server = RedisServer()
    worker = CeleryWorker(redis_url=redis_server.url, queue="default", extra_env=SWEEP)
    beat = CeleryBeat(redis_url=redis_server.url, extra_env=SWEEP)
    try:
        redis_server.stop()
        with publishing_to(redis_server.url):
            response = signed_orders_updated(client, json.dumps(order_payload(order)).encode())
            action = approved_refund(store, order)

        # Both are stored, acknowledged and waiting for the sweep.
        assert response.json() == {"status": "accepted"}
        event = WebhookEvent.objects.get()
        assert event.needs_queueing and event.status == WebhookEvent.Status.RECEIVED
        action.refresh_from_db()
        assert action.needs_queueing and action.status == OrderAction.Status.QUEUED

        redis_server.start()  # empty, as after a restart
        done = wait_until(
            lambda: (
                WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).exists()
                and OrderAction.objects.filter(status=OrderAction.Status.SUCCEEDED).exists()
            ),
            timeout=90,
            interval=0.5,
        )
        # Time for a wrongly repeated task to show before counting.
        wait_until(lambda: False, timeout=3)
    finally:
        log = worker.stop() + beat.stop()
        redis_server.stop()

    assert done, log
    action.refresh_from_db()
    # The agent's request took it once (to ask for approval), the worker once to send it.
    assert action.attempts == 2
    assert order.refunds.count() == 1
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.PROCESSED
