"""Shopify's webhooks: what we keep of each topic and what it does (the intake is shared)."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import order_cache
from .models import Store, WebhookEvent
from .services import _normalize_domain, store_disconnect

HANDLED_TOPICS = {
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "refunds/create",
    "app/uninstalled",
}


def _webhook_data(topic: str, payload: dict) -> dict:
    """What processing needs from a webhook body, and nothing more."""
    if topic.startswith("orders/"):
        customer = payload.get("customer") if isinstance(payload.get("customer"), dict) else {}
        emails = {
            str(value).strip().lower()
            for value in (payload.get("email"), payload.get("contact_email"), customer.get("email"))
            if value
        }
        return {"order_id": str(payload.get("id") or ""), "emails": sorted(emails)}
    if topic == "refunds/create":
        return {"order_id": str(payload.get("order_id") or "")}
    return {}


def webhook_event_receive(
    *,
    webhook_id: str,
    topic: str,
    shop_domain: str,
    payload: dict,
    api_version: str = "",
    triggered_at=None,
) -> tuple[WebhookEvent, bool]:
    """Records a verified delivery once; returns (event, created). A new event of a topic we
    handle is processed after commit; others are kept as ignored."""
    handled = topic in HANDLED_TOPICS
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                source="shopify",
                external_id=webhook_id,
                topic=topic,
                shop_domain=_normalize_domain(shop_domain),
                api_version=api_version[:16],
                triggered_at=triggered_at,
                data=_webhook_data(topic, payload) if handled else {},
                status=WebhookEvent.Status.RECEIVED if handled else WebhookEvent.Status.IGNORED,
                detail="" if handled else "topic not handled",
            )
    except IntegrityError:
        return WebhookEvent.objects.get(source="shopify", external_id=webhook_id), False
    if handled:
        from .tasks import process_webhook_event

        transaction.on_commit(lambda: process_webhook_event.delay(event.pk))
    return event, True


def webhook_event_process(*, event_id: int) -> None:
    """Drops the cached orders a webhook says changed; app/uninstalled disconnects the store.
    Safe to run twice."""
    event = WebhookEvent.objects.get(pk=event_id)
    if event.status != WebhookEvent.Status.RECEIVED:
        return
    store = Store.objects.filter(shop_domain=event.shop_domain).first()
    status, detail = WebhookEvent.Status.PROCESSED, ""
    if store is None:
        status, detail = WebhookEvent.Status.IGNORED, "no store with this domain"
    elif event.topic == "app/uninstalled":
        store_disconnect(
            store_id=store.pk,
            status=Store.Status.UNINSTALLED,
            detail="The app was uninstalled in Shopify.",
        )
    elif event.topic.startswith("orders/"):
        for email in event.data.get("emails") or ():
            order_cache.drop(store, email)
    elif event.topic == "refunds/create":
        email = order_cache.email_for_order(store, event.data.get("order_id") or "")
        if email:
            order_cache.drop(store, email)
    WebhookEvent.objects.filter(pk=event.pk).update(
        status=status, detail=detail, processed_at=timezone.now()
    )
