"""Kustomer's side of an iFrame Context Card, for the demo and the browser tests.

- `card-js/kustomer-card.js`: a stand-in for Kustomer's Cards SDK, which lives on Kustomer's CDN
  and cannot be reached here. Same calls, same postMessage conversation with the framing window.
- `insight-panel/`: a host page laid out like Kustomer's Insight Panel. It frames a card as
  Kustomer does (the card URL plus `parentUrl` and `id`) and answers the SDK's messages
  (static/sandbox_kustomer/insight-panel.js).
- `card-js/demo-card/`: the smallest card, an example of the SDK and the harness's test page.
"""

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from . import representations
from .models import Conversation, Customer, new_object_id
from .services import AGENT_ROLES

SDK_FILE = Path(__file__).resolve().parent / "static" / "sandbox_kustomer" / "kustomer-card.js"
PANEL_WIDTHS = {"320": 320, "480": 480}
# The fake's own pages may frame the demo card from either name of the machine, on any port.
SANDBOX_FRAME_ANCESTORS = ["'self'", "http://localhost:*", "http://127.0.0.1:*"]


@require_safe
def card_sdk(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(
        SDK_FILE.read_bytes(), content_type="application/javascript; charset=utf-8"
    )
    # Kustomer's CDN serves `latest` with a short cache life; a script of another origin needs
    # CORS only when the card loads it with `crossorigin` (for example with SRI).
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


# --- the Insight Panel ------------------------------------------------------------------------


@require_safe
def insight_panel(request: HttpRequest) -> HttpResponse:
    """`?card=<url>&customer=<id>&conversation=<id>&roles=<csv>&width=320|480`."""
    card_url = request.GET.get("card", "").strip()
    card_origin = _http_origin(card_url)
    if card_origin is None:
        return render(
            request,
            "sandbox_kustomer/insight_panel.html",
            {"problem": "Add ?card= with the http(s) address of the card to show."},
            status=400,
        )
    roles = [role.strip() for role in request.GET.get("roles", "").split(",") if role.strip()]
    panel = insight_panel_host(
        request,
        card_url=card_url,
        customer_id=request.GET.get("customer", "").strip(),
        conversation_id=request.GET.get("conversation", "").strip(),
        roles=roles,
    )
    response = render(
        request,
        "sandbox_kustomer/insight_panel.html",
        {**panel, "width": PANEL_WIDTHS.get(request.GET.get("width", ""), 320)},
    )
    return insight_panel_headers(response, card_origin=card_origin)


def insight_panel_host(
    request: HttpRequest,
    *,
    card_url: str,
    customer_id: str,
    conversation_id: str,
    roles: list[str] | None = None,
) -> dict[str, Any]:
    """What a page hosting a card needs (templates/sandbox_kustomer/_insight_panel.html and
    insight-panel.js): the host data, the framed address, the customer and conversation."""
    context = card_context(customer_id=customer_id, conversation_id=conversation_id)
    host = {
        "cardOrigin": _http_origin(card_url),
        "context": context,
        "config": {"userRoles": roles or list(AGENT_ROLES)},
    }
    return {
        "host": host,
        "frame_src": _with_query(
            card_url, {"parentUrl": request.build_absolute_uri(), "id": new_object_id()}
        ),
        "customer": context.get("customer"),
        "conversation": context.get("conversation"),
    }


def insight_panel_headers(response: HttpResponse, *, card_origin: str) -> HttpResponse:
    """The headers of a page framing a card: it may frame the card's origin, and the card's
    pop-ups (an app's "Sign in with Kustomer") may talk back to the card."""
    response._csp_update = {"frame-src": ["'self'", card_origin]}  # type: ignore[attr-defined]
    response["Cross-Origin-Opener-Policy"] = "same-origin-allow-popups"
    return response


def card_context(*, customer_id: str, conversation_id: str) -> dict[str, Any]:
    """The context Kustomer hands a card: the customer and, on a conversation, the conversation,
    as the API renders them; ids the fake does not know get a bare resource."""
    context: dict[str, Any] = {}
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is not None:
        context["conversation"] = representations.conversation(conversation)
        customer_id = customer_id or conversation.customer_id
    elif conversation_id:
        context["conversation"] = _bare("conversation", conversation_id)
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is not None:
        context["customer"] = representations.customer(customer)
    elif customer_id:
        context["customer"] = _bare("customer", customer_id)
    return context


def _bare(kind: str, object_id: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {"displayName": "", "emails": []} if kind == "customer" else {}
    return {"type": kind, "id": object_id, "attributes": attributes}


def _http_origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def _with_query(url: str, extra: dict[str, str]) -> str:
    """`url` with `extra` query parameters added (replacing any of the same name), as Kustomer
    adds `parentUrl` and `id` to a card's address."""
    parts = urlsplit(url)
    query = [(name, value) for name, value in parse_qsl(parts.query) if name not in extra]
    return urlunsplit(parts._replace(query=urlencode([*query, *extra.items()])))


# --- the demo card ----------------------------------------------------------------------------


@require_safe
@xframe_options_exempt
def demo_card(request: HttpRequest) -> HttpResponse:
    response = render(request, "sandbox_kustomer/demo_card.html")
    # Framed by the Insight Panel, which is on another origin as Kustomer is for real cards.
    response._csp_replace = {  # type: ignore[attr-defined]
        "frame-ancestors": [*SANDBOX_FRAME_ANCESTORS, *settings.KUSTOMER_FRAME_ANCESTORS]
    }
    return response
