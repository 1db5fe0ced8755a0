"""Storing verified deliveries once, and processing them in the background."""

import functools
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from copilot import queueing
from copilot.db import insert_unless_exists

from .intake import Delivery, Receipt, Vendor
from .models import WebhookEvent

logger = logging.getLogger(__name__)

EVENT_PROCESSING = queueing.Work(
    name="webhook event",
    task="copilot.webhooks.tasks.process_webhook_event",
    model=WebhookEvent,
    unfinished=Q(status=WebhookEvent.Status.RECEIVED),
)


@functools.cache
def vendors() -> dict[str, Vendor]:
    """The installed vendors by source (COPILOT_WEBHOOK_VENDORS)."""
    return {
        source: import_string(path) for source, path in settings.COPILOT_WEBHOOK_VENDORS.items()
    }


def webhook_receive(*, vendor: Vendor, delivery: Delivery) -> Receipt:
    """Stores a verified delivery once and lets the vendor record or queue its work, in one
    transaction. A second delivery of the same event, or of the same body under another id, is
    a duplicate and does nothing."""
    with transaction.atomic():
        event_id = insert_unless_exists(
            WebhookEvent,
            unique_field=None,  # either constraint: the event id, or the same body again
            source=vendor.source,
            external_id=delivery.external_id,
            topic=delivery.topic,
            account=delivery.account,
            body_sha256=delivery.body_sha256,
            triggered_at=delivery.triggered_at,
            data=delivery.data,
            status=_initial_status(vendor, delivery),
            detail=delivery.ignore_reason[:500],
        )
        if event_id is None:
            return Receipt("duplicate", "event already received")
        if delivery.ignore_reason:
            return Receipt("ignored", delivery.ignore_reason)
        return vendor.accept(event_id, delivery)


def _initial_status(vendor: Vendor, delivery: Delivery) -> str:
    if delivery.ignore_reason:
        return WebhookEvent.Status.IGNORED
    if vendor.processes_in_background:
        return WebhookEvent.Status.RECEIVED
    return WebhookEvent.Status.PROCESSED


def webhook_event_queue(*, event_id: int) -> Receipt:
    """For a vendor's `accept`: processes the event in the background, after commit."""
    queueing.enqueue_on_commit(EVENT_PROCESSING, event_id)
    return Receipt("accepted")


def webhook_event_finish(*, event_id: int, status: str, detail: str = "") -> None:
    WebhookEvent.objects.filter(pk=event_id).update(
        status=status, detail=detail[:500], processed_at=timezone.now()
    )


def webhook_event_process(*, event_id: int) -> str:
    """Runs the vendor's processing of a received event; safe to run twice (an event already
    processed is left alone). Transient errors are raised for the task to retry."""
    event = WebhookEvent.objects.filter(pk=event_id, status=WebhookEvent.Status.RECEIVED).first()
    if event is None:
        return "skipped"
    vendor = vendors().get(event.source)
    if vendor is None:
        webhook_event_finish(
            event_id=event_id,
            status=WebhookEvent.Status.FAILED,
            detail=f"No vendor {event.source!r} is installed.",
        )
        return WebhookEvent.Status.FAILED
    status, detail = vendor.process(event)
    # Only the first of two concurrent runs records its outcome.
    WebhookEvent.objects.filter(pk=event_id, status=WebhookEvent.Status.RECEIVED).update(
        status=status, detail=detail[:500], processed_at=timezone.now()
    )
    return status
