"""Credentials of the fake: API keys and agents' OAuth access tokens.

API keys are HS256 JWTs signed with the org's secret, listing the key's roles. Access tokens are
opaque strings given by the token endpoint (oauth.py); the fake keeps only their SHA-256. Either
one is sent as `Authorization: Bearer ...` and becomes a `Principal`: who acts, with which roles.

As in Kustomer, a missing, garbled, unknown, expired or revoked credential is a 401 and a valid
one without the role an endpoint needs is a 403. `org.admin` implies every role; no other role
implies another (a `write` role does not grant `read`).
"""

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.utils import timezone

from .errors import ApiError
from .models import AccessToken, ApiKey, Org, User


class Role(StrEnum):
    CUSTOMER_READ = "org.user.customer.read"
    CONVERSATION_READ = "org.user.conversation.read"
    CONVERSATION_WRITE = "org.user.conversation.write"
    MESSAGE_READ = "org.user.message.read"
    MESSAGE_WRITE = "org.user.message.write"
    NOTE_WRITE = "org.user.note.write"
    KOBJECT_READ = "org.user.kobject.read"
    KOBJECT_WRITE = "org.user.kobject.write"
    SHORTCUT_READ = "org.user.shortcut.read"
    DRAFT_READ = "org.user.draft.read"
    # Either one lets a key search (POST /v1/customers/search).
    SEARCH_READ = "org.user.search.read"
    SEARCH_CREATE = "org.permission.search.create"
    # Every person's account carries it; it grants nothing by itself here.
    USER = "org.user"
    APPS_ADMIN = "org.admin.apps"
    ADMIN = "org.admin"


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: an API key's machine user, or an agent signed in through OAuth."""

    org: Org
    user_id: str
    roles: tuple[str, ...]
    api_key: ApiKey | None = None
    user: User | None = None
    access_token: AccessToken | None = None

    @property
    def org_id(self) -> str:
        return self.org.id


def secret_hash(secret: str) -> str:
    """How the fake stores tokens, codes and client secrets: never the secret itself."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, signing_input: str) -> str:
    digest = hmac.new(secret.encode(), signing_input.encode("ascii"), hashlib.sha256).digest()
    return _b64encode(digest)


def token_sign(*, org: Org, key: ApiKey) -> str:
    """The JWT of `key`: its payload carries the fields Kustomer's keys carry."""
    header = {"alg": "HS256", "typ": "JWT"}
    payload = {
        "_id": key.id,
        "user": key.user_id,
        "org": org.id,
        "orgName": org.name,
        "partition": org.id,
        "roles": list(key.roles),
        "aud": "sandbox.kustomer",
        "iss": "sandbox.kustomer",
        "iat": int(time.time()),
    }
    signing_input = ".".join(
        _b64encode(json.dumps(part, separators=(",", ":")).encode()) for part in (header, payload)
    )
    return f"{signing_input}.{_signature(org.signing_secret, signing_input)}"


def _unauthorized(detail: str, *, bearer_error: bool = False) -> ApiError:
    # RFC 6750 §3: a rejected OAuth access token also says so in WWW-Authenticate.
    headers = (
        {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{detail}"'}
        if bearer_error
        else {}
    )
    return ApiError(401, detail, code="unauthorized", headers=headers)


def authenticate(authorization: str) -> Principal:
    """Who an `Authorization: Bearer <api key or access token>` header names, or a 401."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("Authorization header with a Bearer API key is required")
    parts = token.strip().split(".")
    if len(parts) == 1:
        return _access_token_principal(token.strip())
    key = _api_key(parts)
    return Principal(org=key.org, user_id=key.user_id, roles=tuple(key.roles), api_key=key)


def _access_token_principal(token: str) -> Principal:
    access = (
        AccessToken.objects.select_related("grant__user__org", "grant__app")
        .filter(token_hash=secret_hash(token))
        .first()
    )
    if access is None:
        raise _unauthorized("The access token is unknown", bearer_error=True)
    grant = access.grant
    if access.revoked_at is not None or grant.revoked_at is not None:
        raise _unauthorized("The access token was revoked", bearer_error=True)
    if access.expires_at <= timezone.now():
        raise _unauthorized("The access token has expired", bearer_error=True)
    if not grant.app.installed:
        raise _unauthorized("The app of the access token is not installed", bearer_error=True)
    user = grant.user
    # What the agent may do now: the scope granted, less any role taken away since.
    roles = tuple(role for role in grant.scope if _holds(user.roles, role))
    return Principal(org=user.org, user_id=user.id, roles=roles, user=user, access_token=access)


def _api_key(parts: list[str]) -> ApiKey:
    if len(parts) != 3:
        raise _unauthorized("The API key is not a valid token")
    try:
        payload: Any = json.loads(_b64decode(parts[1]))
    except (ValueError, binascii.Error):
        raise _unauthorized("The API key is not a valid token") from None
    if not isinstance(payload, dict):
        raise _unauthorized("The API key is not a valid token")
    key = (
        ApiKey.objects.select_related("org")
        .filter(pk=str(payload.get("_id", "")), org_id=str(payload.get("org", "")))
        .first()
    )
    if key is None:
        raise _unauthorized("The API key is unknown or was revoked")
    expected = _signature(key.org.signing_secret, f"{parts[0]}.{parts[1]}")
    if not hmac.compare_digest(expected, parts[2]):
        raise _unauthorized("The API key signature is invalid")
    return key


def _holds(roles: Any, role: str) -> bool:
    return Role.ADMIN in roles or role in roles


def authorize_any(principal: Principal, roles: tuple[Role, ...]) -> None:
    """Raises a 403 unless `principal` holds one of `roles` (or org.admin)."""
    if any(_holds(principal.roles, role) for role in roles):
        return
    holder = "API key" if principal.api_key is not None else "access token"
    names = " or ".join(role.value for role in roles)
    raise ApiError(403, f"The {holder} lacks the role {names}", code="forbidden")


def authorize(principal: Principal, role: Role | None) -> None:
    """Raises a 403 unless `principal` holds `role` (or org.admin); `None`: any credential."""
    if role is None or _holds(principal.roles, role):
        return
    holder = "API key" if principal.api_key is not None else "access token"
    raise ApiError(403, f"The {holder} lacks the role {role.value}", code="forbidden")
