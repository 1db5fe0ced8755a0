"""Kustomer's outbound webhooks: signature check and the parts of the payload we use.

The signature is the lowercase hex HMAC-SHA256 of the raw body keyed with the webhook's token;
it is checked before the body is parsed.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass

from copilot.integrations.kustomer import Message

MESSAGE_CREATE = "kustomer.message.create"


class WebhookPayloadError(ValueError):
    """The body is not a Kustomer event we can use; the message says why."""


def signature_is_valid(raw_body: bytes, signature: str, secrets: list[str]) -> bool:
    """True when any of the secrets (two during a rotation) signed this exact body."""
    if not signature or not secrets:
        return False
    presented = signature.strip().lower().encode()
    valid = False
    for secret in secrets:
        expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest().encode()
        # Every secret is compared, in constant time, so timing says nothing about which matched.
        valid |= hmac.compare_digest(expected, presented)
    return valid


@dataclass(frozen=True)
class Event:
    id: str
    name: str
    payload: dict


def parse_event(raw_body: bytes) -> Event:
    try:
        payload = json.loads(raw_body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WebhookPayloadError(f"The body is not valid JSON: {error}.") from None
    if not isinstance(payload, dict):
        raise WebhookPayloadError("The body must be a JSON object.")
    event_id, name = payload.get("id"), payload.get("name")
    if not isinstance(event_id, str) or not event_id:
        raise WebhookPayloadError("The event has no `id`.")
    if not isinstance(name, str) or not name:
        raise WebhookPayloadError("The event has no `name`.")
    return Event(id=event_id, name=name, payload=payload)


def message_from_event(event: Event) -> Message:
    """The message of a `kustomer.message.create` event, or a reason it cannot be used.

    The event's `data` is the message resource, in the same shape the REST API returns.
    """
    data = event.payload.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not data["id"]:
        raise WebhookPayloadError("The event has no `data.id` (the message id).")
    if not isinstance(data.get("attributes"), dict):
        raise WebhookPayloadError("The event has no `data.attributes`.")
    message = Message.from_resource(data)
    if not message.conversation_id or not message.customer_id:
        raise WebhookPayloadError(
            "The message has no `data.relationships.conversation` or `.customer` id."
        )
    return message
