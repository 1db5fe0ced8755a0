"""Installing the copilot in a Kustomer org: the klass, the webhook, the app definition."""

import time
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from copilot.integrations.kustomer import KustomerClient

from .models import WebhookSubscription
from .webhooks import MESSAGE_CREATE

WEBHOOK_EVENTS = [MESSAGE_CREATE]
KLASS_DISPLAY_NAME = "Copilot insight"
KLASS_ICON = "lightbulb"
KLASS_COLOR = "#5b5bd6"


def webhook_url() -> str:
    return settings.COPILOT_PUBLIC_URL + reverse("kustomer-webhook")


def card_url() -> str:
    return settings.COPILOT_PUBLIC_URL + "/card/"


@dataclass(frozen=True)
class SetupReport:
    klass_created: bool
    webhook_created: bool
    webhook_url: str


def kustomer_setup_run(*, client: KustomerClient) -> SetupReport:
    """Creates the insight klass and our outbound webhook when missing; safe to run again."""
    klass = settings.KUSTOMER_INSIGHT_KLASS
    klass_created = False
    if klass not in {existing.name for existing in client.list_klasses()}:
        client.create_klass(
            klass, display_name=KLASS_DISPLAY_NAME, icon=KLASS_ICON, color=KLASS_COLOR
        )
        klass_created = True

    url = webhook_url()
    webhook_created = False
    registered = [hook for hook in client.list_outbound_webhooks() if hook.url == url]
    if not registered:
        hook = client.create_outbound_webhook(name="Copilot", url=url, events=WEBHOOK_EVENTS)
        # Kustomer returns the signing token once: keep it, it verifies every delivery.
        WebhookSubscription.objects.update_or_create(
            kustomer_id=hook.id,
            defaults={"url": hook.url, "events": hook.events, "token": hook.token},
        )
        webhook_created = True
    else:
        # A webhook of ours may have been pointed here since it was registered (the demo served
        # on another port): what we keep says where it points now.
        registered_ids = [hook.id for hook in registered]
        WebhookSubscription.objects.filter(kustomer_id__in=registered_ids).update(url=url)
    return SetupReport(klass_created, webhook_created, url)


_secrets_cache: tuple[float, list[str]] = (0.0, [])


def webhook_secrets() -> list[str]:
    """Tokens that may sign a delivery: KUSTOMER_WEBHOOK_SECRET and those `kustomer_setup` kept.

    Read from the database at most every 30 s per process, to keep intake fast.
    """
    global _secrets_cache
    checked_at, stored = _secrets_cache
    if time.monotonic() - checked_at > 30:
        stored = list(WebhookSubscription.objects.values_list("token", flat=True))
        _secrets_cache = (time.monotonic(), stored)
    return [*settings.KUSTOMER_WEBHOOK_SECRET, *stored]


def app_definition() -> dict:
    """The Kustomer app definition that installs the copilot in an org."""
    public_url = settings.COPILOT_PUBLIC_URL
    klass = settings.KUSTOMER_INSIGHT_KLASS
    return {
        "app": "copilot",
        "version": "0.1.0",
        "title": "Copilot",
        "description": (
            "The customer's intent, their Shopify orders with the actions agents take on them, "
            "and reply drafts, beside every conversation."
        ),
        "visibility": "private",
        "settings": {
            "default": {
                "copilotUrl": {
                    "description": "The address of your copilot deployment.",
                    "defaultValue": public_url,
                    "type": "string",
                    "required": True,
                }
            }
        },
        "klasses": [
            {
                "name": klass,
                "displayName": KLASS_DISPLAY_NAME,
                "icon": KLASS_ICON,
                "color": KLASS_COLOR,
            }
        ],
        "kviews": [
            {
                "name": f"copilot-card-{resource}",
                "displayName": "Copilot",
                "resource": resource,
                "context": "smartbar-card",
                "template": f'<DynamicCard src={{"{card_url()}"}} context={{object.context}} />',
            }
            for resource in ("conversation", "customer")
        ],
        "outboundWebhooks": [
            {"name": "Copilot", "url": webhook_url(), "events": WEBHOOK_EVENTS, "headers": []}
        ],
        "redirectUris": [f"{public_url}/card/oauth/callback"],
    }
