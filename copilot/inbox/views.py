from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .services import kustomer_event_receive
from .setup import webhook_secrets
from .webhooks import WebhookPayloadError, parse_event, signature_is_valid


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@csrf_exempt
@require_POST
def kustomer_webhook(request: HttpRequest) -> JsonResponse:
    """Kustomer's outbound webhook: verify, store once, queue, answer fast."""
    limit = settings.KUSTOMER_WEBHOOK_MAX_BYTES
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        return _error(400, "The Content-Length header is not a number.")
    if declared > limit:
        return _error(413, f"The body is over the {limit}-byte limit.")
    raw_body = request.read(limit + 1)
    if len(raw_body) > limit:
        return _error(413, f"The body is over the {limit}-byte limit.")

    signature = request.headers.get("X-Kustomer-Webhook-Signature", "")
    if not signature_is_valid(raw_body, signature, webhook_secrets()):
        return _error(401, "The X-Kustomer-Webhook-Signature header is missing or wrong.")

    try:
        receipt = kustomer_event_receive(event=parse_event(raw_body))
    except WebhookPayloadError as error:
        return _error(400, str(error))
    return JsonResponse({"status": receipt.status})
