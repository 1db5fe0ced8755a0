"""Shopify's webhooks, as the shared intake sees them (`copilot.webhooks`).

Shopify signs only the body (base64 HMAC-SHA256 in `X-Shopify-Hmac-Sha256`): the topic, shop and
webhook id headers are not covered. So a captured body can do no more than the event it came
from: the topic must fit the body (an order's id and shape, a refund's order, the shop that is
uninstalled), the shop header must match what the body says where it says it, a delivery older
than SHOPIFY_WEBHOOK_MAX_AGE_SECONDS is refused, the same body under a new webhook id is a
duplicate, and an uninstall is confirmed with Shopify before the store is disconnected.
"""

import base64
from collections.abc import Mapping
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from copilot.integrations.http import IntegrationError, TransientError
from copilot.integrations.shopify import ShopifyAuthError
from copilot.webhooks import intake
from copilot.webhooks.intake import Delivery, PayloadError, Receipt, Vendor
from copilot.webhooks.models import WebhookEvent
from copilot.webhooks.services import webhook_event_queue

from . import order_cache
from .models import Store
from .stores import shop_domain_normalize, store_disconnect, store_token_check

ORDER_TOPICS = {"orders/create", "orders/updated", "orders/cancelled"}
REFUND_CREATE = "refunds/create"
APP_UNINSTALLED = "app/uninstalled"
HANDLED_TOPICS = {*ORDER_TOPICS, REFUND_CREATE, APP_UNINSTALLED}


def _legacy_id(payload: dict, key: str, *, what: str) -> str:
    value = payload.get(key)
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise PayloadError(f"The body does not fit its topic: {what} has no numeric `{key}`.")
    return str(value)


def _order_data(payload: dict) -> dict:
    order_id = _legacy_id(payload, "id", what="the order")
    if not isinstance(payload.get("line_items"), list):
        raise PayloadError("The body does not fit its topic: the order has no `line_items`.")
    customer = intake.mapping(payload.get("customer"))
    emails = {
        intake.text_field(value).strip().lower()
        for value in (payload.get("email"), payload.get("contact_email"), customer.get("email"))
    }
    return {"order_id": order_id, "emails": sorted(email for email in emails if email)}


def _refund_data(payload: dict) -> dict:
    _legacy_id(payload, "id", what="the refund")
    return {"order_id": _legacy_id(payload, "order_id", what="the refund")}


def _uninstall_data(payload: dict, shop_domain: str) -> dict:
    domain = payload.get("myshopify_domain")
    if not isinstance(domain, str) or not domain:
        raise PayloadError("The body does not fit its topic: the shop has no `myshopify_domain`.")
    if shop_domain_normalize(domain) != shop_domain:
        raise PayloadError("The body is about another shop than X-Shopify-Shop-Domain names.")
    return {}


class ShopifyWebhooks(Vendor):
    source = "shopify"
    signature_header = "X-Shopify-Hmac-Sha256"

    def max_bytes(self) -> int:
        return settings.SHOPIFY_WEBHOOK_MAX_BYTES

    def secrets(self) -> list[str]:
        return list(settings.SHOPIFY_WEBHOOK_SECRET)

    def expected_signature(self, secret: bytes, body: bytes) -> bytes:
        return base64.b64encode(intake.hmac_sha256(secret, body))

    def parse(self, body: bytes, headers: Mapping[str, str]) -> Delivery:
        topic = intake.identifier(
            headers.get("X-Shopify-Topic", "").lower(), what="X-Shopify-Topic header", max_length=64
        )
        shop_domain = shop_domain_normalize(
            intake.identifier(
                headers.get("X-Shopify-Shop-Domain", ""),
                what="X-Shopify-Shop-Domain header",
                max_length=255,
            )
        )
        webhook_id = intake.identifier(
            headers.get("X-Shopify-Webhook-Id") or headers.get("X-Shopify-Event-Id") or "",
            what="X-Shopify-Webhook-Id header",
            max_length=255,
        )
        triggered_at = intake.parse_time(headers.get("X-Shopify-Triggered-At", ""))
        max_age = timedelta(seconds=settings.SHOPIFY_WEBHOOK_MAX_AGE_SECONDS)
        if triggered_at is not None and triggered_at < timezone.now() - max_age:
            raise PayloadError(
                "The delivery was triggered more than "
                f"{settings.SHOPIFY_WEBHOOK_MAX_AGE_SECONDS} seconds ago: it is refused as a "
                "replay."
            )
        payload = intake.json_object(body)
        delivery = {
            "external_id": webhook_id,
            "topic": topic,
            "account": shop_domain,
            "triggered_at": triggered_at,
            "body_sha256": intake.body_fingerprint(topic, body),
        }
        if topic in ORDER_TOPICS:
            return Delivery(**delivery, data=_order_data(payload))
        if topic == REFUND_CREATE:
            return Delivery(**delivery, data=_refund_data(payload))
        if topic == APP_UNINSTALLED:
            return Delivery(**delivery, data=_uninstall_data(payload, shop_domain))
        return Delivery(**delivery, ignore_reason="topic not handled")

    def accept(self, event_id: int, delivery: Delivery) -> Receipt:
        return webhook_event_queue(event_id=event_id)

    def process(self, event: WebhookEvent) -> tuple[str, str]:
        """Drops the cached orders the event says changed; app/uninstalled disconnects the store
        once Shopify confirms the token no longer works."""
        store = Store.objects.filter(shop_domain=event.account).first()
        if store is None:
            return WebhookEvent.Status.IGNORED, "no store with this domain"
        if event.topic == APP_UNINSTALLED:
            return _uninstall(store)
        if event.topic in ORDER_TOPICS:
            for email in event.data.get("emails") or ():
                order_cache.drop(store, email)
        elif event.topic == REFUND_CREATE:
            email = order_cache.email_for_order(store, event.data.get("order_id") or "")
            if email:
                order_cache.drop(store, email)
        return WebhookEvent.Status.PROCESSED, ""


def _uninstall(store: Store) -> tuple[str, str]:
    if store.access_token_encrypted:
        try:
            store_token_check(
                shop_domain=store.shop_domain,
                access_token=store.access_token,
                api_base_url=store.api_base_url,
            )
        except ShopifyAuthError:
            pass  # the token is refused: the app is really gone
        except TransientError:
            raise
        except IntegrationError as error:
            return WebhookEvent.Status.FAILED, f"Could not confirm the uninstall: {error}"
        else:
            return (
                WebhookEvent.Status.IGNORED,
                "Shopify still accepts the store's token, so the app is installed: not applied.",
            )
    store_disconnect(
        store_id=store.pk,
        status=Store.Status.UNINSTALLED,
        detail="The app was uninstalled in Shopify.",
    )
    return WebhookEvent.Status.PROCESSED, ""


SHOPIFY = ShopifyWebhooks()
