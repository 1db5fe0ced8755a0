"""The demo workspace: the fake Kustomer's conversation view, for a newcomer's first five minutes.

Customers and their conversations on the left, the timeline in the middle (messages, the
copilot's notes and KObjects as they arrive), the Insight Panel on the right framing the real
card from the other name of this machine (`localhost` frames `127.0.0.1` and the reverse), so
that framing, sign-in and cookies behave as inside Kustomer. The user writes as the customer
(the fake then sends its signed webhook to the copilot) and replies as the agent from the reply
box, which holds the conversation's Kustomer draft (what "Use" in the card puts there).

- `workspace/`: the page (`?conversation=<id>` or `?customer=<id>`).
- `workspace/conversations/<id>/timeline`: the timeline and the reply box's draft as JSON, polled
  by static/sandbox_kustomer/workspace.js.
- `workspace/messages` (POST): the customer writes in.
- `workspace/conversations/<id>/reply` (POST): the agent sends the reply box.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from . import services
from .card_views import insight_panel_headers, insight_panel_host
from .models import Conversation, Customer, Draft, KObject, Message, Note, Org

POLL_MILLISECONDS = 1500
MESSAGE_MAX_LENGTH = 5000
# Scripted customer messages: several languages and tones, the last one the model should not be
# sure of (it names no order, no product, no problem).
EXAMPLES: list[tuple[str, str]] = [
    (
        "Where is my order? (English, worried)",
        "Hi, where is my order? It has not arrived yet and the tracking has not moved for a week.",
    ),
    (
        "Refund, angry (English)",
        "This is the second time the mug arrived broken. I want my "
        "money back today, not another replacement.",
    ),
    (
        "Annuler (français, poli)",
        "Bonjour, pourriez-vous annuler ma commande s'il vous plaît ? "
        "Je me suis trompée de taille. Merci !",
    ),
    ("Devolución (español)", "Hola, quiero devolver la chaqueta, me queda pequeña. ¿Cómo lo hago?"),
    (
        "Lieferadresse (Deutsch)",
        "Hallo, ich ziehe nächste Woche um. Können Sie die Lieferadresse meiner Bestellung ändern?",
    ),
    ("Not sure what they want", "Hmm, about the thing from last time… can someone call me back?"),
]


@dataclass(frozen=True)
class TimelineEvent:
    kind: str  # customer | agent | note | kobject
    at: datetime
    row: Any


def _org() -> Org:
    return services.org_get_or_create()


def _card_url(request: HttpRequest) -> str:
    """The card on the other name of this machine, so that it is framed cross-site as inside
    Kustomer; behind any other name, the copilot's public address."""
    host = request.get_host()
    name, _, port = host.rpartition(":") if ":" in host else (host, "", "")
    other = {"localhost": "127.0.0.1", "127.0.0.1": "localhost"}.get(name)
    if other is None:
        return f"{settings.COPILOT_PUBLIC_URL}/card/"
    return f"{request.scheme}://{other}{':' + port if port else ''}/card/"


def drafts_source() -> dict[str, str]:
    """Where the card's drafts come from, in words for the banner."""
    base_url = settings.OPENAI_BASE_URL
    if not base_url:
        return {"kind": "templates", "text": "Shortcuts and templates only (no model server)"}
    if "/sandbox/llm" in urlsplit(base_url).path:
        return {"kind": "model", "text": "The built-in fake model server (OPENAI_BASE_URL)"}
    return {"kind": "model", "text": f"Model server at {urlsplit(base_url).netloc}"}


def _timeline(conversation: Conversation) -> list[TimelineEvent]:
    """Messages, the copilot's notes and KObjects of the conversation, oldest first."""
    events = [
        TimelineEvent(
            kind="customer" if message.direction == Message.Direction.IN else "agent",
            at=message.sent_at,
            row=message,
        )
        for message in Message.objects.filter(conversation=conversation)
    ]
    events += [
        TimelineEvent(kind="note", at=note.created_at, row=note)
        for note in Note.objects.filter(conversation=conversation)
    ]
    events += [
        TimelineEvent(kind="kobject", at=kobject.created_at, row=kobject)
        for kobject in KObject.objects.filter(
            customer_id=conversation.customer_id,
            custom__conversationIdStr=conversation.id,
        ).select_related("klass")
    ]
    order = {"customer": 0, "agent": 0, "kobject": 1, "note": 2}
    return sorted(events, key=lambda event: (event.at, order[event.kind]))


def _reply_draft(conversation: Conversation) -> Draft | None:
    return (
        Draft.objects.filter(conversation=conversation)
        .exclude(channel="note")
        .order_by("-updated_at")
        .first()
    )


def _timeline_state(conversation: Conversation) -> dict[str, Any]:
    html = render_to_string(
        "sandbox_kustomer/_workspace_timeline.html",
        {"events": _timeline(conversation), "conversation": conversation},
    )
    draft = _reply_draft(conversation)
    draft_state = {"id": draft.id, "body": draft.body} if draft else {"id": "", "body": ""}
    version = hashlib.sha256(
        f"{html}\0{draft_state['id']}\0{draft_state['body']}".encode()
    ).hexdigest()[:16]
    return {"version": version, "html": html, "draft": draft_state}


@require_safe
def workspace(request: HttpRequest) -> HttpResponse:
    org = _org()
    customers = list(
        Customer.objects.filter(org=org)
        .order_by("created_at", "id")
        .prefetch_related(
            Prefetch(
                "conversations",
                queryset=Conversation.objects.order_by("-last_message_at", "-created_at"),
            )
        )
    )
    conversation = None
    customer = None
    if conversation_id := request.GET.get("conversation", "").strip():
        conversation = get_object_or_404(Conversation, org=org, pk=conversation_id)
        customer = conversation.customer
    elif customer_id := request.GET.get("customer", "").strip():
        customer = get_object_or_404(Customer, org=org, pk=customer_id)
    else:
        # Opens on the conversation that moved last.
        conversation = (
            Conversation.objects.filter(org=org)
            .order_by("-last_message_at", "-created_at")
            .select_related("customer")
            .first()
        )
        customer = conversation.customer if conversation else None
    if customer is not None and conversation is None:
        conversation = customer.conversations.order_by("-last_message_at").first()

    card_url = _card_url(request)
    panel = insight_panel_host(
        request,
        card_url=card_url,
        customer_id=customer.id if customer else "",
        conversation_id=conversation.id if conversation else "",
    )
    state = _timeline_state(conversation) if conversation else None
    response = render(
        request,
        "sandbox_kustomer/workspace.html",
        {
            **panel,
            "width": 320,
            "customers": customers,
            "current_customer": customer,
            "current_conversation": conversation,
            "events": _timeline(conversation) if conversation else [],
            "state": state,
            "examples": EXAMPLES,
            "message_max_length": MESSAGE_MAX_LENGTH,
            "poll_ms": POLL_MILLISECONDS,
            "drafts_source": drafts_source(),
            "card_origin": panel["host"]["cardOrigin"],
        },
    )
    return insight_panel_headers(response, card_origin=panel["host"]["cardOrigin"])


@require_safe
def workspace_timeline(request: HttpRequest, conversation_id: str) -> JsonResponse:
    conversation = get_object_or_404(Conversation, org=_org(), pk=conversation_id)
    return JsonResponse(_timeline_state(conversation))


def _text(request: HttpRequest) -> str | None:
    # Browsers send a textarea's line breaks as CRLF; Kustomer keeps the text as typed.
    body = request.POST.get("body", "").replace("\r\n", "\n").strip()
    return body if body and len(body) <= MESSAGE_MAX_LENGTH else None


def _answer(request: HttpRequest, conversation: Conversation, status: int = 200) -> HttpResponse:
    url = f"{reverse('sandbox_kustomer:workspace')}?conversation={conversation.id}"
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"conversation": conversation.id, "url": url}, status=status)
    return redirect(url)


def _refusal(request: HttpRequest, problem: str) -> HttpResponse:
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"error": problem}, status=400)
    return HttpResponse(problem, status=400, content_type="text/plain; charset=utf-8")


@require_POST
def workspace_message(request: HttpRequest) -> HttpResponse:
    """The customer writes in: on the conversation given, or on a new one of the customer."""
    org = _org()
    body = _text(request)
    if body is None:
        return _refusal(request, f"Write a message of 1 to {MESSAGE_MAX_LENGTH} characters.")
    conversation = None
    customer = None
    if conversation_id := request.POST.get("conversation", "").strip():
        conversation = get_object_or_404(Conversation, org=org, pk=conversation_id)
    else:
        customer = get_object_or_404(Customer, org=org, pk=request.POST.get("customer", ""))
    message = services.message_send_from_customer(
        body=body,
        conversation=conversation,
        customer=customer,
        subject="" if conversation else body[:60],
    )
    return _answer(request, message.conversation, status=201)


@require_POST
def workspace_reply(request: HttpRequest, conversation_id: str) -> HttpResponse:
    """The agent sends what the reply box holds."""
    conversation = get_object_or_404(Conversation, org=_org(), pk=conversation_id)
    body = _text(request)
    if body is None:
        return _refusal(request, f"Write a reply of 1 to {MESSAGE_MAX_LENGTH} characters.")
    services.reply_box_send(conversation=conversation, body=body)
    return _answer(request, conversation, status=201)
