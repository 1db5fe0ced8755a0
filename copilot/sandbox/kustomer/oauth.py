"""Kustomer as an OAuth 2.0 provider: apps are the clients, agents sign in to them.

The authorization code grant with PKCE, `S256` only (RFC 6749 §4.1, RFC 7636), refresh tokens,
and revocation (RFC 7009), as Kustomer documents them, and with the RFCs' strictest readings
where Kustomer says nothing:

- a redirect URI must equal one the app registered, character for character;
- a code lives 60 s and is spent by the first exchange that names it, even a failed one; a code
  presented again is refused and the tokens issued from it are revoked (RFC 6749 §4.1.2);
- refresh tokens rotate: each refresh answers with a new one, and presenting a spent one
  revokes every token of that sign-in;
- an app with a client secret is a confidential client and must authenticate at the token and
  revocation endpoints (`client_secret_post` or `client_secret_basic`); an app without one is a
  public client, identified by `client_id`, whose PKCE verifier is its proof;
- scopes are role names (Kustomer's scope names are unconfirmed): a token gets the requested
  roles the agent holds, or every role the agent holds when no scope is asked for.

Codes, tokens and client secrets are kept only as SHA-256 hashes.
"""

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import conf
from .auth import Role, secret_hash
from .errors import Duplicate, NotFound
from .models import (
    AccessToken,
    App,
    AuthorizationCode,
    Grant,
    Org,
    RefreshToken,
    User,
)

CODE_SECONDS = 60
CODE_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
# An S256 challenge is the unpadded base64url of a SHA-256 digest: 43 characters.
CODE_CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")
ROLE_NAME = re.compile(r"^org(\.[a-z][a-z0-9_-]*)+$")


# --- errors -------------------------------------------------------------------------------------


@dataclass
class OAuthError(Exception):
    """An error of the token or revocation endpoint (RFC 6749 §5.2): 400, or 401 for the client."""

    error: str
    description: str
    status: int = 400

    def as_json(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def _invalid_client(description: str) -> OAuthError:
    return OAuthError("invalid_client", description, status=401)


@dataclass
class PageError(Exception):
    """An authorization request that must not be sent back to the client: shown as a page."""

    title: str
    detail: str
    status: int = 400


@dataclass
class RedirectError(Exception):
    """An authorization request refused by redirecting to the client (RFC 6749 §4.1.2.1)."""

    redirect_uri: str
    error: str
    description: str
    state: str | None

    @property
    def url(self) -> str:
        return with_query(
            self.redirect_uri,
            {"error": self.error, "error_description": self.description, "state": self.state},
        )


def with_query(url: str, params: Mapping[str, str | None]) -> str:
    """`url` with `params` added to its query, which is kept (RFC 6749 §3.1.2)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(name, value) for name, value in params.items() if value is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


# --- apps ---------------------------------------------------------------------------------------


def app_register(
    *,
    org: Org,
    name: str,
    version: str,
    title: str,
    redirect_uris: Sequence[str] = (),
    definition: dict[str, Any] | None = None,
) -> App:
    """Registers version `version` of app `name` in `org` and installs it there.

    The app keeps its `client_id` from version to version; the newest version's definition and
    redirect URIs are the ones in force. A version registered before raises `Duplicate`.
    """
    with transaction.atomic():
        app = App.objects.select_for_update().filter(org=org, name=name).first()
        if app is not None and version in app.versions:
            raise Duplicate(
                f"Version {version} of app {name} is already registered",
                pointer="/data/attributes/version",
            )
        if app is None:
            app = App(org=org, name=name)
        app.version = version
        app.versions = [*app.versions, version]
        app.title = title
        app.redirect_uris = list(dict.fromkeys(redirect_uris))
        app.definition = definition or {"app": name, "version": version, "title": title}
        app.installed = True
        try:
            with transaction.atomic():
                app.save()
        except IntegrityError:  # registered at the same moment by another request
            raise Duplicate(
                f"App {name} is being registered by another request",
                pointer="/data/attributes/app",
            ) from None
    return app


def app_upsert(
    *,
    org: Org,
    name: str,
    title: str,
    redirect_uris: Sequence[str],
    installed: bool = True,
    version: str = "1.0.0",
) -> App:
    """For the control API and the demo: registers app `name`, or points the registered one at
    `redirect_uris` (as an admin editing its definition would), keeping its client id."""
    app = App.objects.filter(org=org, name=name).first()
    if app is None:
        app = app_register(
            org=org, name=name, version=version, title=title, redirect_uris=redirect_uris
        )
    app.title = title
    app.redirect_uris = list(dict.fromkeys(redirect_uris))
    app.definition = {**app.definition, "title": title, "redirectUris": app.redirect_uris}
    app.installed = installed
    app.save()
    return app


def app_get_version(*, org: Org, name: str, version: str) -> App:
    app = App.objects.filter(org=org, name=name).first()
    if app is None or version not in app.versions:
        raise NotFound(f"App {name}-{version} not found")
    return app


def app_secret_mint(*, app: App) -> str:
    """A new client secret for `app`, returned this once; the previous secret stops working."""
    secret = secrets.token_urlsafe(32)
    App.objects.filter(pk=app.pk).update(
        client_secret_hash=secret_hash(secret),
        client_secret_created_at=timezone.now(),
        updated_at=timezone.now(),
    )
    app.refresh_from_db()
    return secret


def installed_app(client_id: str) -> App | None:
    if not client_id:
        return None
    return App.objects.select_related("org").filter(client_id=client_id, installed=True).first()


# --- the authorization endpoint -----------------------------------------------------------------


@dataclass(frozen=True)
class AuthorizationRequest:
    app: App
    redirect_uri: str
    state: str | None
    code_challenge: str
    scope: tuple[str, ...] = field(default_factory=tuple)


def _single(params: Mapping[str, Any], name: str) -> tuple[str | None, bool]:
    """The parameter's value (None when absent) and whether it was sent more than once."""
    getlist = getattr(params, "getlist", None)
    values = getlist(name) if getlist else ([params[name]] if name in params else [])
    return (values[0] if values else None), len(values) > 1


def authorization_request_check(params: Mapping[str, Any]) -> AuthorizationRequest:
    """Checks an authorization request in RFC 6749's order: the client and its redirect URI
    first (faults shown to the person as a `PageError`), then the rest (faults sent back to the
    client as a `RedirectError`)."""
    client_id, repeated = _single(params, "client_id")
    app = None if repeated else installed_app(client_id or "")
    if app is None:
        raise PageError(
            "Invalid Client",
            "The app asking you to sign in is not installed in this organization, or its "
            "client_id is wrong.",
        )
    redirect_uri, repeated = _single(params, "redirect_uri")
    if repeated or not redirect_uri or redirect_uri not in app.redirect_uris:
        raise PageError(
            "Invalid redirect URI",
            f"{app.title} asked to send you back to an address it has not registered, so you "
            "are not sent there.",
        )
    state = _single(params, "state")[0]

    def refuse(error: str, description: str) -> RedirectError:
        return RedirectError(redirect_uri, error, description, state)

    for name in ("response_type", "code_challenge", "code_challenge_method", "scope", "state"):
        if _single(params, name)[1]:
            raise refuse("invalid_request", f"{name} is repeated")
    response_type = _single(params, "response_type")[0]
    if not response_type:
        raise refuse("invalid_request", "response_type is required")
    if response_type != "code":
        raise refuse("unsupported_response_type", "Only response_type=code is supported")
    challenge = _single(params, "code_challenge")[0]
    method = _single(params, "code_challenge_method")[0]
    if not challenge:
        raise refuse("invalid_request", "PKCE is required: send code_challenge")
    if method != "S256":
        raise refuse("invalid_request", "code_challenge_method must be S256")
    if not CODE_CHALLENGE.match(challenge):
        raise refuse(
            "invalid_request", "code_challenge must be the base64url SHA-256 of the verifier"
        )
    scope = tuple(dict.fromkeys((_single(params, "scope")[0] or "").split()))
    for role in scope:
        if not ROLE_NAME.match(role):
            raise refuse("invalid_scope", f"Unknown scope {role}")
    return AuthorizationRequest(
        app=app, redirect_uri=redirect_uri, state=state, code_challenge=challenge, scope=scope
    )


def _holds(roles: Iterable[str], role: str) -> bool:
    roles = list(roles)
    return Role.ADMIN.value in roles or role in roles


def granted_scope(*, user: User, requested: Sequence[str]) -> list[str]:
    """The requested roles `user` holds, or all of `user`'s roles when none were requested."""
    if not requested:
        return list(user.roles)
    return [role for role in requested if _holds(user.roles, role)]


def code_issue(*, request: AuthorizationRequest, user: User) -> str:
    """The code that `user`'s sign-in gives the app (raises `RedirectError` for no scope)."""
    scope = granted_scope(user=user, requested=request.scope)
    if not scope:
        raise RedirectError(
            request.redirect_uri,
            "invalid_scope",
            f"{user.name} holds none of the requested roles",
            request.state,
        )
    code = secrets.token_urlsafe(32)
    AuthorizationCode.objects.create(
        app=request.app,
        user=user,
        code_hash=secret_hash(code),
        redirect_uri=request.redirect_uri,
        code_challenge=request.code_challenge,
        scope=scope,
        expires_at=timezone.now() + timedelta(seconds=CODE_SECONDS),
    )
    return code


def users_who_can_sign_in(*, app: App) -> list[User]:
    return list(User.objects.filter(org_id=app.org_id).order_by("created_at", "id"))


# --- the token endpoint -------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    scope: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
            "scope": " ".join(self.scope),
        }


def client_authenticate(*, client_id: str, client_secret: str | None) -> App:
    """The app calling the token or revocation endpoint, or a 401 `invalid_client`."""
    app = installed_app(client_id)
    if app is None:
        raise _invalid_client("Invalid Client: unknown client_id, or the app is not installed")
    if not app.confidential:
        if client_secret is not None:
            raise _invalid_client("This client has no client secret: send only client_id")
        return app
    if client_secret is None:
        raise _invalid_client("This client has a client secret: authenticate with it")
    if not hmac.compare_digest(secret_hash(client_secret), app.client_secret_hash):
        raise _invalid_client("Client authentication failed")
    return app


def _issue(grant: Grant) -> IssuedTokens:
    access_token, refresh_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = timezone.now()
    seconds = conf.access_token_seconds()
    AccessToken.objects.create(
        grant=grant,
        token_hash=secret_hash(access_token),
        expires_at=now + timedelta(seconds=seconds),
    )
    RefreshToken.objects.create(
        grant=grant,
        token_hash=secret_hash(refresh_token),
        expires_at=now + timedelta(seconds=conf.refresh_token_seconds()),
    )
    return IssuedTokens(
        access_token=access_token,
        refresh_token=refresh_token,
        expires_in=seconds,
        scope=list(grant.scope),
    )


def _pkce_matches(*, verifier: str, challenge: str) -> bool:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return hmac.compare_digest(computed, challenge)


def code_exchange(*, app: App, code: str, redirect_uri: str, code_verifier: str) -> IssuedTokens:
    """Tokens for a code (RFC 6749 §4.1.3, RFC 7636 §4.6), or an `OAuthError`."""
    if not code:
        raise OAuthError("invalid_request", "code is required")
    if not redirect_uri:
        raise OAuthError("invalid_request", "redirect_uri is required")
    if not code_verifier:
        raise OAuthError("invalid_request", "PKCE is required: send code_verifier")
    if not CODE_VERIFIER.match(code_verifier):
        raise OAuthError(
            "invalid_request", "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~"
        )
    # Decided inside the transaction, raised after it: a refused exchange still spends the code.
    with transaction.atomic():
        row = (
            AuthorizationCode.objects.select_for_update()
            .select_related("user")
            .filter(code_hash=secret_hash(code))
            .first()
        )
        refusal = _code_refusal(row, app=app, redirect_uri=redirect_uri, verifier=code_verifier)
        if refusal is None and row is not None:
            grant = Grant.objects.create(app=app, user=row.user, code=row, scope=row.scope)
            return _issue(grant)
    raise refusal or OAuthError("invalid_grant", "The authorization code is invalid")


def _code_refusal(
    row: AuthorizationCode | None, *, app: App, redirect_uri: str, verifier: str
) -> OAuthError | None:
    if row is None or row.app_id != app.id:
        return OAuthError("invalid_grant", "The authorization code is invalid")
    now = timezone.now()
    if row.used_at is not None:
        Grant.objects.filter(code=row, revoked_at__isnull=True).update(revoked_at=now)
        return OAuthError(
            "invalid_grant",
            "The authorization code was already used; the tokens issued for it are revoked",
        )
    row.used_at = now
    row.save(update_fields=["used_at"])
    if row.expires_at <= now:
        return OAuthError("invalid_grant", "The authorization code has expired")
    if redirect_uri != row.redirect_uri:
        return OAuthError(
            "invalid_grant", "redirect_uri differs from the one of the authorization request"
        )
    if not _pkce_matches(verifier=verifier, challenge=row.code_challenge):
        return OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
    return None


def refresh(*, app: App, refresh_token: str, scope: str | None = None) -> IssuedTokens:
    """New tokens for a refresh token, which is spent (RFC 6749 §6), or an `OAuthError`."""
    if not refresh_token:
        raise OAuthError("invalid_request", "refresh_token is required")
    with transaction.atomic():
        row = (
            RefreshToken.objects.select_for_update()
            .select_related("grant")
            .filter(token_hash=secret_hash(refresh_token))
            .first()
        )
        refusal = _refresh_refusal(row, app=app, scope=scope)
        if refusal is None and row is not None:
            return _issue(row.grant)
    raise refusal or OAuthError("invalid_grant", "The refresh token is invalid")


def _refresh_refusal(row: RefreshToken | None, *, app: App, scope: str | None) -> OAuthError | None:
    if row is None or row.grant.app_id != app.id:
        return OAuthError("invalid_grant", "The refresh token is invalid")
    grant, now = row.grant, timezone.now()
    if row.revoked_at is not None or grant.revoked_at is not None:
        return OAuthError("invalid_grant", "The refresh token was revoked")
    if row.used_at is not None:
        # A spent refresh token seen again: someone holds a copy. End the whole sign-in.
        Grant.objects.filter(pk=grant.pk).update(revoked_at=now)
        return OAuthError(
            "invalid_grant",
            "The refresh token was already used; every token of this sign-in is revoked",
        )
    if row.expires_at <= now:
        return OAuthError("invalid_grant", "The refresh token has expired")
    if scope is not None and scope.split() != list(grant.scope):
        return OAuthError("invalid_scope", "A refresh must ask for the scope first granted")
    row.used_at = now
    row.save(update_fields=["used_at"])
    return None


# --- revocation ---------------------------------------------------------------------------------


def token_revoke(*, app: App, token: str, token_type_hint: str | None = None) -> None:
    """Revokes a token of `app` (RFC 7009): a refresh token ends the whole sign-in, an access
    token only itself. An unknown token is no error."""
    if not token:
        raise OAuthError("invalid_request", "token is required")
    digest, now = secret_hash(token), timezone.now()
    lookups = [AccessToken, RefreshToken]
    if token_type_hint == "refresh_token":  # noqa: S105 (a hint, not a secret)
        lookups.reverse()
    for model in lookups:
        row = model.objects.select_related("grant").filter(token_hash=digest).first()
        if row is None:
            continue
        if row.grant.app_id != app.id:
            raise OAuthError("invalid_request", "The token was not issued to this client")
        if isinstance(row, RefreshToken):
            Grant.objects.filter(pk=row.grant_id, revoked_at__isnull=True).update(revoked_at=now)
        else:
            AccessToken.objects.filter(pk=row.pk, revoked_at__isnull=True).update(revoked_at=now)
        return


def user_tokens_revoke(*, user: User, app: App | None = None) -> int:
    """Signs `user` out of every app (or of `app`), as an admin does in Kustomer's settings:
    every token and every code not yet exchanged stops working. Returns how many sign-ins."""
    now = timezone.now()
    grants = Grant.objects.filter(user=user, revoked_at__isnull=True)
    codes = AuthorizationCode.objects.filter(user=user, used_at__isnull=True)
    if app is not None:
        grants, codes = grants.filter(app=app), codes.filter(app=app)
    codes.update(expires_at=now)
    return grants.update(revoked_at=now)
