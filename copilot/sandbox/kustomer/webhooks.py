"""Outbound webhooks as Kustomer sends them: signed POSTs, retried on a fixed schedule.

Each delivery runs in its own background thread, started after the transaction that created
the event commits, never inside the request that created it. A delivery that fails (non-2xx,
timeout, refused connection) is retried after 1, 1, 2, 5, 10, 15 and 30 minutes, each wait
multiplied by `SANDBOX_KUSTOMER_WEBHOOK_RETRY_SCALE`, then marked failed. Threads die with the
process: deliveries pending at a restart are not resumed (the rows still say where they were).
"""

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import httpx
from django.conf import settings
from django.db import OperationalError, connections
from django.utils import timezone

from copilot.integrations.http import tls_context

from .models import Org, WebhookDelivery, new_object_id
from .representations import iso

logger = logging.getLogger(__name__)

RETRY_MINUTES = (1, 1, 2, 5, 10, 15, 30)
TIMEOUT_SECONDS = 5.0
USER_AGENT = "Kustomer-Webhooks/1.0 (copilot sandbox)"

_active: set[threading.Thread] = set()
_active_lock = threading.Lock()

T = TypeVar("T")


def signature(token: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of the raw body, keyed with the webhook's token."""
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


def event_payload(*, org: Org, name: str, data: dict[str, Any]) -> tuple[str, str]:
    """The event id and the exact JSON text Kustomer would POST for it."""
    event_id = new_object_id()
    body = {
        "id": event_id,
        "name": name,
        "org": org.id,
        "partition": org.id,
        "data": data,
        "createdAt": iso(timezone.now()),
        "changes": None,
    }
    return event_id, json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def dispatch(delivery_ids: list[str], *, delay_seconds: float = 0.0) -> None:
    """Starts one background thread per delivery (call it once the rows are committed)."""
    for delivery_id in delivery_ids:
        thread = threading.Thread(
            target=_run,
            args=(delivery_id, delay_seconds),
            name=f"sandbox-kustomer-webhook-{delivery_id}",
            daemon=True,
        )
        with _active_lock:
            _active.add(thread)
        thread.start()


def wait_idle(*, timeout: float) -> bool:
    """Waits until no delivery is in flight (or retrying); False if some still are at timeout."""
    deadline = time.monotonic() + timeout
    while True:
        with _active_lock:
            threads = list(_active)
        if not threads:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        threads[0].join(remaining)


def _run(delivery_id: str, delay_seconds: float) -> None:
    try:
        if delay_seconds > 0:
            time.sleep(delay_seconds)
        while True:
            retry_in = attempt(delivery_id)
            if retry_in is None:
                return
            time.sleep(retry_in)
    except Exception:
        logger.exception("Sandbox webhook delivery %s crashed", delivery_id)
    finally:
        connections.close_all()
        with _active_lock:
            _active.discard(threading.current_thread())


def _retrying_when_locked(operation: Callable[[], T]) -> T:
    # SQLite (the embedded default and the tests) refuses a write while another connection
    # writes; a delivery thread waits its turn instead of failing.
    for _ in range(100):
        try:
            return operation()
        except OperationalError as error:
            if "locked" not in str(error):
                raise
            time.sleep(0.05)
    return operation()


def attempt(delivery_id: str) -> float | None:
    """POSTs the delivery once and records the outcome; returns seconds until the retry, if any."""
    delivery = _retrying_when_locked(
        lambda: WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    )
    if delivery is None:  # the sandbox was reset meanwhile
        return None
    webhook = delivery.webhook
    if delivery.status in (WebhookDelivery.Status.DELIVERED, WebhookDelivery.Status.FAILED):
        return None
    body = delivery.payload.encode()
    headers = {item["name"]: item["value"] for item in webhook.headers}
    headers.update(
        {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Kustomer-Webhook-Event": delivery.event_name,
            "X-Kustomer-Webhook-Signature": signature(webhook.token, body),
        }
    )
    status_code: int | None = None
    error = ""
    if not webhook.enabled:
        error = "The webhook is disabled"
    else:
        try:
            with httpx.Client(
                timeout=TIMEOUT_SECONDS, trust_env=False, verify=tls_context()
            ) as client:
                response = client.post(webhook.url, content=body, headers=headers)
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__

    now = timezone.now()
    delivery.attempts += 1
    delivery.last_status_code = status_code
    delivery.last_error = error
    retry_in: float | None = None
    if not error:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    elif webhook.enabled and delivery.attempts <= len(RETRY_MINUTES):
        scale = settings.SANDBOX_KUSTOMER_WEBHOOK_RETRY_SCALE
        retry_in = RETRY_MINUTES[delivery.attempts - 1] * 60 * scale
        delivery.status = WebhookDelivery.Status.RETRYING
        delivery.next_attempt_at = now + timedelta(seconds=retry_in)
    else:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.next_attempt_at = None
    _retrying_when_locked(
        lambda: delivery.save(
            update_fields=[
                "attempts",
                "last_status_code",
                "last_error",
                "status",
                "delivered_at",
                "next_attempt_at",
                "updated_at",
            ]
        )
    )
    logger.info(
        "Sandbox webhook %s %s attempt %d: %s",
        delivery.event_name,
        delivery.event_id,
        delivery.attempts,
        error or status_code,
    )
    return retry_in
