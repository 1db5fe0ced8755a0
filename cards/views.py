"""The card's pages and endpoints. Thin: sessions, selectors and services do the work."""

import json
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from copilot.replies.feedback import draft_feedback_record, drafts_shown_record
from copilot.replies.models import Draft
from copilot.replies.selectors import drafts_for_message
from copilot.replies.services import drafts_regenerate_request
from intents.services import FeedbackError, intent_feedback_record

from . import selectors, services
from .access import conversation_access
from .auth import (
    card_frame,
    card_session_required,
    csrf_token_for,
    not_signed_in,
    session_cookie_delete,
    session_cookie_set,
)
from .sessions import (
    SessionEnded,
    SignInError,
    session_end,
    session_from_handoff,
    session_get,
    sign_in_begin,
    sign_in_complete,
)

logger = logging.getLogger(__name__)

SIGN_IN_COOKIE = "copilot-card-sign-in"


@never_cache
@require_GET
@card_frame
def card(request: HttpRequest) -> HttpResponse:
    """The card's shell: its final shape, empty; the script fills it once signed in."""
    return render(
        request,
        "cards/card.html",
        {
            "sdk_url": settings.KUSTOMER_CARD_SDK_URL,
            "poll_ms": int(settings.CARD_POLL_SECONDS * 1000),
        },
    )


# --- sign-in (a first-party pop-up) ------------------------------------------------------------


@never_cache
@require_GET
def sign_in(request: HttpRequest) -> HttpResponse:
    """Starts "Sign in with Kustomer" in the pop-up: off to Kustomer's sign-in page."""
    try:
        # Back to the host the pop-up was opened on, where its state cookie is.
        start = sign_in_begin(
            redirect_uri=request.build_absolute_uri(reverse("cards:oauth-callback"))
        )
    except SignInError as error:
        return _sign_in_page(request, error=str(error), status=error.status)
    response = _keeps_opener(redirect(start.url))
    # The pop-up is a first-party window: a plain Lax cookie carries the state back.
    response.set_cookie(
        SIGN_IN_COOKIE,
        start.state,
        max_age=600,
        path="/card/oauth/",
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    return response


@never_cache
@require_GET
def oauth_callback(request: HttpRequest) -> HttpResponse:
    """Kustomer sends the pop-up back here; it hands the card a one-time code and closes."""
    try:
        handoff = sign_in_complete(
            request.GET.dict(), cookie_state=request.COOKIES.get(SIGN_IN_COOKIE, "")
        )
    except SignInError as error:
        response = _sign_in_page(request, error=str(error), status=error.status)
    else:
        response = _sign_in_page(request, handoff=handoff)
    response.delete_cookie(SIGN_IN_COOKIE, path="/card/oauth/")
    return response


def _sign_in_page(request, *, handoff: str = "", error: str = "", status: int = 200):
    response = render(
        request,
        "cards/signed_in.html",
        {"handoff": handoff, "error": error},
        status=status,
    )
    return _keeps_opener(response)


def _keeps_opener(response: HttpResponse) -> HttpResponse:
    # The pop-up must keep its link to the card that opened it (to hand over the sign-in),
    # which the default `Cross-Origin-Opener-Policy: same-origin` would cut.
    response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    return response


# --- the card's session ------------------------------------------------------------------------


def _who(session, raw_key: str) -> dict:
    return {
        "agent": {"id": session.agent_id, "name": session.agent_name, "roles": session.roles},
        "csrf": csrf_token_for(raw_key),
    }


@never_cache
@csrf_exempt  # POST proves itself with the one-time code; GET changes nothing
@require_http_methods(["GET", "POST"])
def session(request: HttpRequest) -> HttpResponse:
    """GET: who is signed in to this card (401 if nobody). POST {"handoff"}: the pop-up's
    one-time code becomes this card's session, in a partitioned cookie."""
    if request.method == "GET":
        return _session_current(request)
    if request.content_type != "application/json":
        return JsonResponse({"error": "Send the sign-in code as JSON."}, status=415)
    try:
        handoff = str(json.loads(request.body or b"{}").get("handoff") or "")
    except (ValueError, AttributeError):
        return JsonResponse({"error": "Send the sign-in code as JSON."}, status=400)
    raw_key = session_from_handoff(handoff)
    current = session_get(raw_key) if raw_key else None
    if current is None:
        return JsonResponse(
            {"error": "This sign-in expired or was already used. Please sign in again."},
            status=400,
        )
    response = JsonResponse(_who(current, raw_key))
    session_cookie_set(response, raw_key)
    return response


@card_session_required
def _session_current(request: HttpRequest) -> HttpResponse:
    return JsonResponse(_who(request.card_session, request.card_session_key))


@never_cache
@require_POST
@card_session_required
def sign_out(request: HttpRequest) -> HttpResponse:
    session_end(request.card_session, reason="signed out", revoke=True)
    response = JsonResponse({"signed_out": True})
    session_cookie_delete(response)
    return response


# --- the conversation: intent and drafts -------------------------------------------------------


@never_cache
@require_GET
@card_session_required
def insight_fragment(request: HttpRequest) -> HttpResponse:
    """The intent and drafts sections of a conversation. Polled by every open card: answers
    304 when nothing changed since the version the card holds (its ETag)."""
    conversation_id = request.GET.get("conversation", "")
    if not conversation_id:
        return _fragment(request, "cards/_insight_empty.html", {"reason": "no-conversation"})
    try:
        access = conversation_access(request.card_session, conversation_id)
    except SessionEnded:
        return not_signed_in()
    if not access.visible:
        reason = "unavailable" if access.unavailable else "hidden"
        return _fragment(request, "cards/_insight_empty.html", {"reason": reason}, status=200)
    message = selectors.latest_message(conversation_id)
    insight_version = selectors.insight_version(message)
    etag = f'"{insight_version}-{request.card_session.agent_id}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
        response["ETag"] = etag
        return response
    insight = selectors.conversation_insight(message, agent_name=request.card_session.agent_name)
    drafts = insight.drafts
    if drafts is not None and any(draft.status == "new" for draft in drafts.drafts):
        drafts_shown_record(message_id=drafts.message_id, generation=drafts.generation)
    response = _fragment(request, "cards/_insight.html", {"insight": insight})
    response["ETag"] = etag
    return response


def _fragment(request, template: str, context: dict, *, status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "no-cache, private"
    return response


def _message_for_agent(request: HttpRequest, kustomer_message_id: str):
    """The message, if it is in a conversation Kustomer shows this agent."""
    message = (
        selectors.InboundMessage.objects.filter(kustomer_message_id=kustomer_message_id)
        .only("id", "kustomer_message_id", "conversation_id", "prediction_id")
        .first()
    )
    if message is None:
        return None
    access = conversation_access(request.card_session, message.conversation_id)
    return message if access.visible else None


@require_POST
@card_session_required
def intent_feedback(request: HttpRequest) -> HttpResponse:
    """ "Right", another intent, or "None of these" for the message's intent."""
    try:
        message = _message_for_agent(request, request.POST.get("message", ""))
    except SessionEnded:
        return not_signed_in()
    if message is None:
        return _fragment(request, "cards/_error.html", {"error": _GONE}, status=404)
    choice = request.POST.get("choice", "")  # "right", "none", or empty with an intent
    picked = None if choice in ("right", "none") else request.POST.get("intent") or None
    if choice == "" and picked is None:
        return _intent_body(request, message, error="Pick an intent from the list.", status=400)
    try:
        intent_feedback_record(
            kustomer_message_id=message.kustomer_message_id,
            agent=request.card_agent,
            confirm=choice == "right",
            intent_name=picked,
        )
    except FeedbackError as error:
        return _intent_body(request, message, error=str(error), status=400)
    return _intent_body(request, message, thanked=True)


def _intent_body(request, message, *, error: str = "", thanked: bool = False, status: int = 200):
    full = selectors.latest_message(message.conversation_id)
    view = selectors.intent_view(full if full.pk == message.pk else message)
    return _fragment(
        request,
        "cards/_intent.html",
        {"intent": view, "error": error, "thanked": thanked},
        status=status,
    )


_GONE = "This message is no longer in a conversation you can see. Reload the card."


def _draft_for_agent(request: HttpRequest, draft_id: int) -> Draft | None:
    draft = Draft.objects.select_related("message").filter(pk=draft_id).first()
    if draft is None:
        return None
    access = conversation_access(request.card_session, draft.message.conversation_id)
    return draft if access.visible else None


def _drafts_body(request, draft: Draft, *, result: services.DraftUse | None = None, status=200):
    return _fragment(
        request,
        "cards/_drafts.html",
        {
            "drafts": drafts_for_message(
                message_id=draft.message_id, agent_name=request.card_session.agent_name
            ),
            "result": result,
            "result_draft_id": draft.pk,
        },
        status=status,
    )


@require_POST
@card_session_required
def draft_use(request: HttpRequest, draft_id: int) -> HttpResponse:
    """Use: the draft goes into the agent's reply box in Kustomer."""
    try:
        draft = _draft_for_agent(request, draft_id)
        if draft is None:
            return _fragment(request, "cards/_error.html", {"error": _GONE}, status=404)
        result = services.draft_use(request.card_session, draft=draft)
    except SessionEnded:
        return not_signed_in()
    return _drafts_body(request, draft, result=result, status=200 if result.ok else 502)


@require_POST
@card_session_required
def draft_feedback(request: HttpRequest, draft_id: int) -> HttpResponse:
    """Dismiss (or copied: recorded as shown, the agent may still edit it in Kustomer)."""
    try:
        draft = _draft_for_agent(request, draft_id)
    except SessionEnded:
        return not_signed_in()
    if draft is None:
        return _fragment(request, "cards/_error.html", {"error": _GONE}, status=404)
    action = request.POST.get("action", "")
    if action not in ("dismissed", "shown"):
        return _fragment(
            request, "cards/_error.html", {"error": "The card sent an unknown action."}, status=400
        )
    draft_feedback_record(draft_id=draft.pk, action=action, agent=request.card_agent)
    return _drafts_body(request, draft)


@require_POST
@card_session_required
def drafts_regenerate(request: HttpRequest) -> HttpResponse:
    """New drafts: asks for another set; the card's polling shows it when it is ready."""
    message_id = request.POST.get("message", "")
    message = (
        selectors.InboundMessage.objects.filter(pk=message_id).first()
        if message_id.isdigit()
        else None
    )
    try:
        visible = message is not None and (
            conversation_access(request.card_session, message.conversation_id).visible
        )
    except SessionEnded:
        return not_signed_in()
    if not visible:
        return _fragment(request, "cards/_error.html", {"error": _GONE}, status=404)
    drafts_regenerate_request(message_id=message.pk, requested_by=request.card_agent.id)
    return _fragment(
        request,
        "cards/_drafts.html",
        {
            "drafts": drafts_for_message(
                message_id=message.pk, agent_name=request.card_session.agent_name
            )
        },
    )
