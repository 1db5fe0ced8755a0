"""API keys of the fake: HS256 JWTs signed with the org's secret, listing the key's roles.

As in Kustomer, a missing, garbled or unknown key is a 401 and a valid key without the role an
endpoint needs is a 403. `org.admin` implies every role; no other role implies another (a
`write` role does not grant `read`).
"""

import base64
import binascii
import hashlib
import hmac
import json
import time
from enum import StrEnum
from typing import Any

from .errors import ApiError
from .models import ApiKey, Org


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
    ADMIN = "org.admin"


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


def _unauthorized(detail: str) -> ApiError:
    return ApiError(401, detail, code="unauthorized")


def authenticate(authorization: str) -> ApiKey:
    """The API key of an `Authorization: Bearer <jwt>` header, or a 401 `ApiError`."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("Authorization header with a Bearer API key is required")
    parts = token.strip().split(".")
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


def authorize(key: ApiKey, role: Role | None) -> None:
    """Raises a 403 unless `key` holds `role` (or org.admin); `None` means any valid key."""
    if role is None or Role.ADMIN in key.roles or role in key.roles:
        return
    raise ApiError(403, f"The API key lacks the role {role.value}", code="forbidden")
