"""How a card request proves who sent it: the session cookie, CSRF inside the frame, framing.

The card is a third-party frame: Django's CSRF cookie would be a third-party cookie too, so
unsafe requests prove themselves with a header (`X-Card-CSRF`) only the card's own script can
know: an HMAC of the session key, handed to the script when it asks who is signed in. A cross-site
form cannot set a header, and another site's script cannot read it.
"""

import hashlib
import hmac
from collections.abc import Callable
from functools import wraps
from http.cookies import Morsel

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .models import CardSession
from .sessions import SignInError, our_org_id, session_get, session_verify

# `__Host-`: only this host, path `/`, Secure; the browser refuses it otherwise.
SESSION_COOKIE = "__Host-copilot-card"
CSRF_HEADER = "X-Card-CSRF"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

View = Callable[..., HttpResponse]


class PartitionedMorsel(Morsel):
    """A cookie with the `Partitioned` attribute (CHIPS), which Python's cookies do not know
    yet: kept per top-level site, so the card's cookie survives where third-party cookies are
    blocked (Chrome) or partitioned (Firefox, Safari)."""

    _reserved = {**Morsel._reserved, "partitioned": "Partitioned"}
    _flags = {*Morsel._flags, "partitioned"}


def session_cookie_set(response: HttpResponse, raw_key: str) -> None:
    morsel = PartitionedMorsel()
    morsel.set(SESSION_COOKIE, raw_key, raw_key)
    morsel["path"] = "/"
    morsel["secure"] = True
    morsel["httponly"] = True
    morsel["samesite"] = "None"
    morsel["partitioned"] = True
    morsel["max-age"] = settings.CARD_SESSION_MAX_SECONDS
    response.cookies[SESSION_COOKIE] = morsel


def session_cookie_delete(response: HttpResponse) -> None:
    session_cookie_set(response, "")
    response.cookies[SESSION_COOKIE]["max-age"] = 0
    response.cookies[SESSION_COOKIE]["expires"] = "Thu, 01 Jan 1970 00:00:00 GMT"


def csrf_token_for(raw_key: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"card-csrf:{raw_key}".encode(), hashlib.sha256
    ).hexdigest()


def not_signed_in() -> JsonResponse:
    return JsonResponse(
        {"error": "Sign in with Kustomer to see this customer.", "sign_in": True}, status=401
    )


def card_frame(view: View) -> View:
    """Lets Kustomer (KUSTOMER_FRAME_ANCESTORS) frame this page; every other page stays DENY."""

    @wraps(view)
    def framed(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.xframe_options_exempt = True
        response._csp_replace = {
            "frame-ancestors": list(settings.KUSTOMER_FRAME_ANCESTORS),
            # No third-party origin but Kustomer's SDK.
            "script-src": ["'self'", settings.KUSTOMER_CARD_SDK_ORIGIN],
        }
        return response

    return framed


def card_session_required(view: View) -> View:
    """The card's endpoints: 401 without a live session (and no customer data), 403 for an
    agent of another org, 403 for an unsafe request without the card's CSRF header. Sets
    `request.card_session` (the `CardSession`) and `request.card_agent` (its `Agent`)."""

    @csrf_exempt  # the session's own CSRF check below replaces Django's cookie-based one
    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        raw_key = request.COOKIES.get(SESSION_COOKIE, "")
        session = session_get(raw_key)
        if session is None or not session_verify(session):
            return not_signed_in()
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent, csrf_token_for(raw_key)):
                return JsonResponse(
                    {"error": "This request did not come from the card. Reload the card."},
                    status=403,
                )
        if not _same_org(session):
            return JsonResponse(
                {"error": "This copilot serves another Kustomer organization."}, status=403
            )
        request.card_session = session
        request.card_agent = session.agent
        request.card_session_key = raw_key
        return view(request, *args, **kwargs)

    return guarded


def _same_org(session: CardSession) -> bool:
    try:
        return session.org_id == our_org_id()
    except SignInError:
        return False
