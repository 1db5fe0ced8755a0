"""`POST /shopify/webhooks/`: where Shopify tells us that orders changed or the app was removed.

In this order: size (413), signature on the raw body (401, before anything is parsed), headers
and JSON (400), then the event is stored once per webhook id and handled after the answer. A
duplicate or an unknown topic is a 200 that does nothing. The answer comes in milliseconds, well
under Shopify's 5 seconds.
"""

import base64
import hashlib
import hmac
import json
import logging
from datetime import datetime

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import webhooks

logger = logging.getLogger(__name__)


def signature_valid(body: bytes, signature: str, secrets: list[str]) -> bool:
    """Shopify's X-Shopify-Hmac-Sha256: base64 HMAC-SHA256 of the raw body, with any of the
    configured secrets (the old one signs for a while after a rotation)."""
    if not signature:
        return False
    given = signature.strip().encode()
    valid = False
    for secret in secrets:
        expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
        # Compare with every secret (no early exit), in constant time.
        valid |= hmac.compare_digest(expected, given)
    return valid


def _parse_time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


@csrf_exempt
@require_POST
def shopify_webhook(request: HttpRequest) -> JsonResponse:
    limit = settings.SHOPIFY_WEBHOOK_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return JsonResponse({"error": "body too large"}, status=413)
    body = request.read(limit + 1)
    if len(body) > limit:
        return JsonResponse({"error": "body too large"}, status=413)

    secrets = [secret for secret in settings.SHOPIFY_WEBHOOK_SECRET if secret]
    if not secrets:
        logger.error("Shopify webhook refused: SHOPIFY_WEBHOOK_SECRET is not set")
    if not signature_valid(body, request.headers.get("X-Shopify-Hmac-Sha256", ""), secrets):
        return JsonResponse({"error": "invalid signature"}, status=401)

    topic = request.headers.get("X-Shopify-Topic", "").strip().lower()
    shop_domain = request.headers.get("X-Shopify-Shop-Domain", "").strip().lower()
    webhook_id = (
        request.headers.get("X-Shopify-Webhook-Id")
        or request.headers.get("X-Shopify-Event-Id")
        or ""
    ).strip()
    if not topic or not shop_domain or not webhook_id or len(webhook_id) > 255:
        return JsonResponse({"error": "missing Shopify headers"}, status=400)
    try:
        payload = json.loads(body)
    except ValueError:
        return JsonResponse({"error": "body is not JSON"}, status=400)
    if not isinstance(payload, dict):
        return JsonResponse({"error": "body is not a JSON object"}, status=400)

    event, created = webhooks.webhook_event_receive(
        webhook_id=webhook_id,
        topic=topic,
        shop_domain=shop_domain,
        payload=payload,
        api_version=request.headers.get("X-Shopify-API-Version", ""),
        triggered_at=_parse_time(request.headers.get("X-Shopify-Triggered-At", "")),
    )
    if not created:
        return JsonResponse({"status": "duplicate"})
    if event.status == event.Status.IGNORED:
        return JsonResponse({"status": "ignored"})
    return JsonResponse({"status": "accepted"})
