"""The OAuth endpoints of the fake Kustomer: `oauth/authorize` (a page), `oauth/token` and
`oauth/revoke` (form-encoded, JSON answers). The rules are in oauth.py.

Kustomer serves the first on the org's web host and the others on its API host; the fake serves
all three under its one base URL. Token and revocation calls are written to the request log with
their secret values redacted.
"""

import base64
import binascii
import functools
import time
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import oauth, services
from .models import App, User

SECRET_PARAMETERS = {"code", "code_verifier", "client_secret", "refresh_token", "token"}


# --- the sign-in page ---------------------------------------------------------------------------


def _opener_kept(view):
    """Apps open Kustomer's sign-in in a pop-up and are handed the result by the window that
    opened it, so the page must not cut that link (`Cross-Origin-Opener-Policy: same-origin`,
    Django's default, would)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Cross-Origin-Opener-Policy"] = "unsafe-none"
        return response

    return wrapped


@_opener_kept
@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    """GET shows who may sign in; POST (the page's form) signs one of them in, or cancels.

    The request's parameters stay in the query string of both, so the form posts back to the
    very URL it was shown at.
    """
    try:
        auth_request = oauth.authorization_request_check(request.GET)
        if request.method == "GET":
            return _sign_in_page(request, auth_request)
        if "cancel" in request.POST:
            raise oauth.RedirectError(
                auth_request.redirect_uri,
                "access_denied",
                "The user cancelled the sign-in",
                auth_request.state,
            )
        user = User.objects.filter(
            org_id=auth_request.app.org_id, pk=request.POST.get("user", "")
        ).first()
        if user is None:
            return _sign_in_page(request, auth_request, status=400, problem="Choose who signs in.")
        code = oauth.code_issue(request=auth_request, user=user)
    except oauth.PageError as error:
        return render(
            request,
            "sandbox_kustomer/oauth_error.html",
            {"title": error.title, "detail": error.detail},
            status=error.status,
        )
    except oauth.RedirectError as error:
        return HttpResponseRedirect(error.url)
    return HttpResponseRedirect(
        oauth.with_query(auth_request.redirect_uri, {"code": code, "state": auth_request.state})
    )


def _sign_in_page(
    request: HttpRequest,
    auth_request: oauth.AuthorizationRequest,
    *,
    status: int = 200,
    problem: str = "",
) -> HttpResponse:
    app: App = auth_request.app
    target = urlsplit(auth_request.redirect_uri)
    response = render(
        request,
        "sandbox_kustomer/oauth_authorize.html",
        {
            "app": app,
            "org": app.org,
            "users": oauth.users_who_can_sign_in(app=app),
            "scope": auth_request.scope,
            "redirect_host": target.netloc,
            "problem": problem,
        },
        status=status,
    )
    # Browsers hold the redirect that answers the form to the page's form-action too.
    response._csp_update = {"form-action": [f"{target.scheme}://{target.netloc}"]}  # type: ignore[attr-defined]
    return response


# --- the token and revocation endpoints ---------------------------------------------------------


def _oauth_endpoint(
    handle: Callable[[HttpRequest, dict[str, str]], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """POST with a form body only; OAuth errors as JSON; every call in the request log."""

    @csrf_exempt
    def view(request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        form: dict[str, str] = {}
        try:
            if request.method != "POST":
                response: HttpResponse = _error_response(
                    oauth.OAuthError("invalid_request", "Use POST", status=405)
                )
                response["Allow"] = "POST"
            else:
                form = _form(request)
                response = handle(request, form)
        except oauth.OAuthError as error:
            response = _error_response(error)
        _log(request, form, response, started)
        return response

    return view


def _form(request: HttpRequest) -> dict[str, str]:
    if (request.content_type or "").lower() != "application/x-www-form-urlencoded":
        raise oauth.OAuthError(
            "invalid_request", "The body must be application/x-www-form-urlencoded"
        )
    form: dict[str, str] = {}
    for name, values in request.POST.lists():
        if len(values) > 1:
            raise oauth.OAuthError("invalid_request", f"{name} is repeated")
        form[name] = values[0]
    return form


def _basic_credentials(request: HttpRequest) -> tuple[str, str] | None:
    """`client_secret_basic`: the client id and secret of an `Authorization: Basic` header."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise oauth.OAuthError(
            "invalid_client", "Malformed Basic credentials", status=401
        ) from None
    basic_id, _, basic_secret = decoded.partition(":")
    return unquote(basic_id), unquote(basic_secret)


def _client(request: HttpRequest, form: dict[str, str]) -> App:
    """The calling app, authenticated by `client_secret_basic` or `client_secret_post` (or, for
    a public client, named by `client_id` alone)."""
    client_id, client_secret = form.get("client_id", ""), form.get("client_secret")
    basic = _basic_credentials(request)
    if basic is not None:
        if client_secret is not None:
            raise oauth.OAuthError("invalid_request", "Use one client authentication method")
        if client_id and client_id != basic[0]:
            raise oauth.OAuthError("invalid_client", "client_id differs", status=401)
        client_id, client_secret = basic
    return oauth.client_authenticate(client_id=client_id, client_secret=client_secret)


def _token(request: HttpRequest, form: dict[str, str]) -> HttpResponse:
    grant_type = form.get("grant_type")
    if not grant_type:
        raise oauth.OAuthError("invalid_request", "grant_type is required")
    app = _client(request, form)
    if grant_type == "authorization_code":
        tokens = oauth.code_exchange(
            app=app,
            code=form.get("code", ""),
            redirect_uri=form.get("redirect_uri", ""),
            code_verifier=form.get("code_verifier", ""),
        )
    elif grant_type == "refresh_token":
        tokens = oauth.refresh(
            app=app, refresh_token=form.get("refresh_token", ""), scope=form.get("scope")
        )
    else:
        raise oauth.OAuthError(
            "unsupported_grant_type", f"grant_type {grant_type} is not supported"
        )
    return _no_store(JsonResponse(tokens.as_json()))


def _revoke(request: HttpRequest, form: dict[str, str]) -> HttpResponse:
    app = _client(request, form)
    oauth.token_revoke(
        app=app, token=form.get("token", ""), token_type_hint=form.get("token_type_hint")
    )
    return _no_store(HttpResponse(status=200))


token = _oauth_endpoint(_token)
revoke = _oauth_endpoint(_revoke)


def _no_store(response: HttpResponse) -> HttpResponse:
    # RFC 6749 §5.1: answers that carry tokens must not be cached.
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def _error_response(error: oauth.OAuthError) -> HttpResponse:
    response = _no_store(JsonResponse(error.as_json(), status=error.status))
    if error.status == 401:
        response["WWW-Authenticate"] = 'Basic realm="kustomer"'
    return response


def _log(
    request: HttpRequest, form: dict[str, str], response: HttpResponse, started: float
) -> None:
    client_id = form.get("client_id", "")
    try:
        basic = _basic_credentials(request)
    except oauth.OAuthError:
        basic = None
    app = oauth.installed_app(basic[0] if basic else client_id)
    redacted = {
        name: "[redacted]" if name in SECRET_PARAMETERS else value for name, value in form.items()
    }
    services.request_log_record(
        org=app.org if app else None,
        api_key_id="",
        method=request.method or "",
        path=request.path[request.path.find("/oauth/") :],
        query=request.META.get("QUERY_STRING", ""),
        status=response.status_code,
        body="&".join(f"{name}={value}" for name, value in redacted.items()),
        duration_ms=(time.perf_counter() - started) * 1000,
    )
