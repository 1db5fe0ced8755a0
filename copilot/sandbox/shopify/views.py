"""The fake Shopify's GraphQL endpoint: `POST /sandbox/shopify/admin/api/<version>/graphql.json`.

It answers like Shopify: 401 for a wrong `X-Shopify-Access-Token`, 404 for a version that does not
exist, 400 for a body without a query, and otherwise what `schema.run` says.
"""

import json
import re
import time
import uuid

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import schema
from .models import Shop
from .seed import DEMO_DOMAIN, shop_seed

UNAUTHORIZED_MESSAGE = (
    "[API] Invalid API key or access token (unrecognized login or wrong password)"
)
VERSION = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")


def _answer(body: dict, *, status: int, version: str, headers: dict | None = None) -> JsonResponse:
    response = JsonResponse(body, status=status)
    response["X-Shopify-API-Version"] = version
    response["X-Request-Id"] = str(uuid.uuid4())
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _shop_for(token: str) -> Shop | None:
    shop = Shop.objects.filter(access_token=token, installed=True).first()
    if (
        shop is None
        and settings.DEMO_MODE
        and token == settings.SHOPIFY_ACCESS_TOKEN
        and not Shop.objects.exists()
    ):
        # The demo's first store points here: seed its shop on first use, so that `make run`
        # shows orders without a separate `manage.py sandbox_shopify_seed`.
        shop = shop_seed(
            domain=settings.SHOPIFY_SHOP_DOMAIN or DEMO_DOMAIN,
            token=token,
            webhook_url=settings.SHOPIFY_WEBHOOK_URL,
        ).shop
    return shop


@csrf_exempt
@require_POST
def graphql(request: HttpRequest, version: str) -> JsonResponse:
    if settings.SANDBOX_SHOPIFY_LATENCY_MS:
        time.sleep(settings.SANDBOX_SHOPIFY_LATENCY_MS / 1000)
    if not VERSION.match(version):
        return _answer({"errors": "Not Found"}, status=404, version=version)
    token = request.headers.get("X-Shopify-Access-Token", "")
    shop = _shop_for(token) if token else None
    if shop is None:
        return _answer(
            {"errors": UNAUTHORIZED_MESSAGE},
            status=401,
            version=version,
        )
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return _answer(
            {"errors": {"query": "Required parameter missing or invalid"}},
            status=400,
            version=version,
        )
    variables = payload.get("variables")
    status, body, headers = schema.run(
        shop=shop,
        api_version=version,
        query=payload["query"],
        variables=variables if isinstance(variables, dict) else None,
        operation_name=payload.get("operationName") or None,
    )
    return _answer(body, status=status, version=version, headers=headers)
