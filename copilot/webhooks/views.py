"""The one webhook intake: the same steps and answers for every vendor."""

from collections.abc import Callable

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .intake import PayloadError, Vendor
from .services import webhook_receive


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def webhook_intake(vendor: Vendor) -> Callable[[HttpRequest], JsonResponse]:
    """The view of one vendor's webhook URL: bounded read (413), signature before parsing
    (401), a usable body (400 with the reason), stored once and answered at once (200)."""

    @csrf_exempt
    @require_POST
    def receive(request: HttpRequest) -> JsonResponse:
        limit = vendor.max_bytes()
        try:
            declared = int(request.headers.get("Content-Length") or 0)
        except ValueError:
            return _error(400, "The Content-Length header is not a number.")
        if declared > limit:
            return _error(413, f"The body is over the {limit}-byte limit.")
        body = request.read(limit + 1)
        if len(body) > limit:
            return _error(413, f"The body is over the {limit}-byte limit.")

        if not vendor.signature_valid(body, request.headers.get(vendor.signature_header, "")):
            return _error(401, f"The {vendor.signature_header} header is missing or wrong.")
        try:
            delivery = vendor.parse(body, request.headers)
        except PayloadError as error:
            return _error(400, str(error))
        receipt = webhook_receive(vendor=vendor, delivery=delivery)
        return JsonResponse({"status": receipt.status})

    receive.__name__ = f"{vendor.source}_webhook"
    return receive
