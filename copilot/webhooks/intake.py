"""What every vendor's webhooks share, and what each vendor says of its own.

A delivery goes through the same steps whoever sends it (`views.webhook_intake`): the body is
read up to the vendor's limit (413), its HMAC is checked against every configured secret before
anything is parsed (401), then the vendor turns it into a `Delivery` or refuses it with a
sentence (400), and `services.webhook_receive` stores it once and queues its work. A vendor
supplies only what is its own: how it signs, where its event id is, which topics matter, what
each topic does.
"""

import hashlib
import hmac
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from copilot.text import has_unstorable, storable


class PayloadError(ValueError):
    """A signed body we cannot use; the message says why, in a sentence (answered with 400)."""


@dataclass(frozen=True)
class Delivery:
    """A verified delivery, as the vendor read it."""

    external_id: str
    topic: str
    body_sha256: str
    account: str = ""
    triggered_at: datetime | None = None
    # What processing needs, cleaned so that PostgreSQL can hold it.
    data: dict = field(default_factory=dict)
    # Empty when the topic is one we act on; else why it is kept as ignored.
    ignore_reason: str = ""
    # What the vendor read for its `accept` (a Kustomer message, say); not stored with the event.
    content: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Receipt:
    status: str  # "accepted", "duplicate" or "ignored"
    detail: str = ""


class Vendor(ABC):
    """One sender of webhooks."""

    source: str
    signature_header: str
    # False when `accept` does the event's work at once (the event is stored as processed).
    processes_in_background: bool = True

    @abstractmethod
    def max_bytes(self) -> int: ...

    @abstractmethod
    def secrets(self) -> list[str]: ...

    @abstractmethod
    def expected_signature(self, secret: bytes, body: bytes) -> bytes:
        """The signature header's value for this body and secret, as the vendor encodes it."""

    def normalize_signature(self, signature: str) -> bytes:
        return signature.strip().encode()

    def signature_valid(self, body: bytes, signature: str) -> bool:
        """True when any configured secret (two during a rotation) signed this exact body."""
        secrets = [secret for secret in self.secrets() if secret]
        if not signature or not secrets:
            return False
        presented = self.normalize_signature(signature)
        valid = False
        for secret in secrets:
            expected = self.expected_signature(secret.encode(), body)
            # Every secret is compared, in constant time: timing says nothing of which matched.
            valid |= hmac.compare_digest(expected, presented)
        return valid

    @abstractmethod
    def parse(self, body: bytes, headers: Mapping[str, str]) -> Delivery:
        """The delivery of a verified body, or `PayloadError` saying why it cannot be used."""

    @abstractmethod
    def accept(self, event_id: int, delivery: Delivery) -> Receipt:
        """Runs inside the transaction that stored the event: records or queues its work."""

    def process(self, event) -> tuple[str, str]:
        """Background work of an accepted event: returns (status, detail). Vendors whose
        `accept` does the work at once never queue it."""
        raise NotImplementedError


def hmac_sha256(secret: bytes, body: bytes) -> bytes:
    return hmac.new(secret, body, hashlib.sha256).digest()


def body_fingerprint(topic: str, body: bytes) -> str:
    return hashlib.sha256(topic.encode() + b"\0" + body).hexdigest()


def json_object(body: bytes) -> dict:
    """The body as a JSON object, or a sentence saying why not."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PayloadError(f"The body is not valid JSON: {error}.") from None
    except RecursionError:
        raise PayloadError("The body is nested too deeply to be a webhook.") from None
    if not isinstance(payload, dict):
        raise PayloadError("The body must be a JSON object.")
    return payload


def text_field(value: Any) -> str:
    """A free-text field (a message, a subject, an email): cleaned, and a number read as text."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def identifier(value: Any, *, what: str, max_length: int, required: bool = True) -> str:
    """An id or a name that keys a row: a string that fits its column, or a `PayloadError`."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value is None or value == "":
        if required:
            raise PayloadError(f"The {what} is missing.")
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"The {what} must be a string.")
    value = value.strip()
    if has_unstorable(value) or not value.isprintable():
        raise PayloadError(f"The {what} holds characters an id cannot have.")
    if len(value) > max_length:
        raise PayloadError(f"The {what} is longer than {max_length} characters.")
    return value


def mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
