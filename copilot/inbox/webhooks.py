"""Kustomer's outbound webhooks, as the shared intake sees them (`copilot.webhooks`).

Kustomer signs the raw body (lowercase hex HMAC-SHA256 keyed with the webhook's token). Only the
signed body is trusted: the event's id and name, and the message, come from it, never from the
`X-Kustomer-Webhook-Event` header. A `kustomer.message.create` from the customer becomes an
`InboundMessage` in the same transaction as the event, and its pipeline is queued after commit.
An agent's reply is compared with the draft they used in that conversation ("edited" when it
differs).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from copilot.webhooks import intake
from copilot.webhooks.intake import Delivery, PayloadError, Receipt, Vendor

MESSAGE_CREATE = "kustomer.message.create"
# Kept whole up to here: a longer message is cut, not refused.
MESSAGE_MAX_CHARACTERS = 20000


@dataclass(frozen=True)
class WebhookMessage:
    """The parts of a customer's message the pipeline needs, cleaned for storage."""

    id: str
    conversation_id: str
    customer_id: str
    channel: str
    text: str
    sent_at: datetime | None


def _relationship_id(resource: dict, name: str) -> str:
    related = intake.mapping(intake.mapping(resource.get("relationships")).get(name))
    return intake.identifier(
        intake.mapping(related.get("data")).get("id"),
        what=f"{name} id (`data.relationships.{name}.data.id`)",
        max_length=64,
    )


@dataclass(frozen=True)
class AgentReply:
    """What an agent sent in a conversation (compared with the draft they used there)."""

    conversation_id: str
    text: str
    sent_at: datetime | None


def message_from_data(data: dict) -> WebhookMessage | AgentReply | str:
    """The message of a `kustomer.message.create` event's `data` (the message resource, in the
    REST API's shape), or why it is not one to classify. `PayloadError` when it is unusable."""
    message_id = intake.identifier(data.get("id"), what="message id (`data.id`)", max_length=64)
    attributes = data.get("attributes")
    if not isinstance(attributes, dict):
        raise PayloadError("The event has no `data.attributes`.")
    direction = attributes.get("direction")
    if direction == "out":
        return _agent_reply(data, attributes)
    if direction != "in":
        return "not from the customer (direction is not 'in')"
    meta = intake.mapping(attributes.get("meta"))
    subject = intake.text_field(meta.get("subject")).strip()
    # Kustomer always sends `preview`; a full `body` is not documented, so it is used when there.
    content = intake.text_field(attributes.get("body")) or intake.text_field(
        attributes.get("preview")
    )
    # An email's subject goes in front, since it often says the most.
    text = f"{subject}\n{content}" if subject and subject not in content else content
    if not text.strip():
        return "the message has no text"
    return WebhookMessage(
        id=message_id,
        conversation_id=_relationship_id(data, "conversation"),
        customer_id=_relationship_id(data, "customer"),
        channel=intake.text_field(attributes.get("channel"))[:40],
        text=text[:MESSAGE_MAX_CHARACTERS],
        sent_at=intake.parse_time(attributes.get("sentAt")),
    )


def _agent_reply(data: dict, attributes: dict) -> AgentReply | str:
    if attributes.get("auto"):
        return "an automatic message, not an agent's reply"
    text = intake.text_field(attributes.get("body")) or intake.text_field(attributes.get("preview"))
    if not text.strip():
        return "the agent's message has no text"
    return AgentReply(
        conversation_id=_relationship_id(data, "conversation"),
        text=text[:MESSAGE_MAX_CHARACTERS],
        sent_at=intake.parse_time(attributes.get("sentAt")),
    )


class KustomerWebhooks(Vendor):
    source = "kustomer"
    signature_header = "X-Kustomer-Webhook-Signature"
    processes_in_background = False

    def max_bytes(self) -> int:
        return settings.KUSTOMER_WEBHOOK_MAX_BYTES

    def secrets(self) -> list[str]:
        from .setup import webhook_secrets

        return webhook_secrets()

    def expected_signature(self, secret: bytes, body: bytes) -> bytes:
        return intake.hmac_sha256(secret, body).hex().encode()

    def normalize_signature(self, signature: str) -> bytes:
        return signature.strip().lower().encode()

    def parse(self, body: bytes, headers: Mapping[str, str]) -> Delivery:
        payload = intake.json_object(body)
        event_id = intake.identifier(payload.get("id"), what="event `id`", max_length=255)
        name = intake.identifier(payload.get("name"), what="event `name`", max_length=100)
        delivery = {
            "external_id": event_id,
            "topic": name,
            "body_sha256": intake.body_fingerprint(name, body),
        }
        if name != MESSAGE_CREATE:
            return Delivery(**delivery, ignore_reason=f"{name} events are not used")
        data = payload.get("data")
        if not isinstance(data, dict):
            raise PayloadError("The event has no `data` (the message).")
        message = message_from_data(data)
        if isinstance(message, str):
            return Delivery(**delivery, ignore_reason=message)
        message_id = data.get("id") if isinstance(message, AgentReply) else message.id
        return Delivery(**delivery, data={"message_id": message_id}, content=message)

    def accept(self, event_id: int, delivery: Delivery) -> Receipt:
        from .services import inbound_message_receive

        if isinstance(delivery.content, AgentReply):
            from copilot.replies.feedback import sent_reply_compare

            reply = delivery.content
            compared = sent_reply_compare(
                conversation_id=reply.conversation_id, text=reply.text, sent_at=reply.sent_at
            )
            return Receipt("accepted", "compared with a used draft" if compared else "agent reply")
        return inbound_message_receive(event_id=event_id, message=delivery.content)


KUSTOMER = KustomerWebhooks()
