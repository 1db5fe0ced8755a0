"""Writes of the fake Kustomer, for its API, its control API, the seed command and tests.

Functions that take `org=None` act on the default sandbox org (created on first use). Creating
a customer, conversation or message emits Kustomer's `*.create` webhook events to the org's
enabled outbound webhooks, delivered in background threads once the transaction commits.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from . import ratelimit, representations, webhooks
from .auth import Role, token_sign
from .errors import Duplicate
from .models import (
    ApiKey,
    Conversation,
    Customer,
    Draft,
    FailureInjection,
    Klass,
    KObject,
    Message,
    Note,
    Org,
    OutboundWebhook,
    RequestLog,
    Shortcut,
    User,
    WebhookDelivery,
)

DEFAULT_ORG_NAME = "sandbox"
PREVIEW_LENGTH = 200
ALL_USER_ROLES = tuple(role.value for role in Role if not role.value.startswith("org.admin"))
# What the seeded people may do: an agent works conversations; a supervisor may also read the
# org's users, teams and reports (the role names the fake gives Kustomer's role groups).
AGENT_ROLES = (
    Role.USER.value,
    Role.CUSTOMER_READ.value,
    Role.CONVERSATION_READ.value,
    Role.CONVERSATION_WRITE.value,
    Role.MESSAGE_READ.value,
    Role.MESSAGE_WRITE.value,
    Role.NOTE_WRITE.value,
    Role.KOBJECT_READ.value,
    Role.SHORTCUT_READ.value,
    Role.DRAFT_READ.value,
)
SUPERVISOR_ROLES = (
    *AGENT_ROLES,
    "org.user.user.read",
    "org.user.team.read",
    "org.user.report.read",
)


def org_get_or_create(*, name: str = DEFAULT_ORG_NAME) -> Org:
    """The org called `name`, created (with a fresh signing secret) the first time."""
    org, _ = Org.objects.get_or_create(name=name)
    return org


def _org(org: Org | None) -> Org:
    return org if org is not None else org_get_or_create()


def support_address(org: Org) -> str:
    return f"support@{org.name}.example.com"


# --- API keys ---------------------------------------------------------------------------------


def api_key_create(
    *,
    roles: Iterable[str],
    name: str = "API key",
    user_name: str = "Sandbox API User",
    user_email: str = "",
    org: Org | None = None,
) -> ApiKey:
    """A new API key holding `roles` (e.g. `["org.admin"]`); its JWT is in `key.token`."""
    org = _org(org)
    key = ApiKey(
        org=org,
        name=name,
        roles=list(dict.fromkeys(roles)),
        user_name=user_name,
        user_email=user_email or f"api-user@{org.name}.example.com",
    )
    key.token = token_sign(org=org, key=key)
    key.save()
    return key


# --- people -------------------------------------------------------------------------------------


def user_create(
    *, name: str, email: str, roles: Iterable[str], role_name: str = "", org: Org | None = None
) -> User:
    """A person of the org who can sign in (OAuth); an email already taken raises `Duplicate`."""
    try:
        with transaction.atomic():
            return User.objects.create(
                org=_org(org),
                name=name,
                email=email.strip().lower(),
                roles=list(dict.fromkeys(roles)),
                role_name=role_name,
            )
    except IntegrityError:
        raise Duplicate(
            f"A user with email {email} already exists", pointer="/data/attributes/email"
        ) from None


def demo_users_ensure(*, org: Org | None = None) -> list[User]:
    """The org's demo people, created the first time: the agent Ada and the supervisor Sam."""
    org = _org(org)
    people = [
        ("Ada Agent", "ada.agent", "Agent", AGENT_ROLES),
        ("Sam Supervisor", "sam.supervisor", "Supervisor", SUPERVISOR_ROLES),
    ]
    return [
        User.objects.get_or_create(
            org=org,
            email=f"{local_part}@{org.name}.example.com",
            defaults={"name": name, "role_name": role_name, "roles": list(roles)},
        )[0]
        for name, local_part, role_name, roles in people
    ]


# --- webhook events ---------------------------------------------------------------------------


def _event_emit(
    *,
    org: Org,
    name: str,
    data: dict[str, Any],
    copies: int = 1,
    delay_seconds: float = 0.0,
) -> str | None:
    """Queues event `name` for every enabled webhook subscribed to it; returns the event id.

    `copies` > 1 delivers the same event (same id and body) several times and `delay_seconds`
    holds the delivery back, so tests can provoke Kustomer's duplicates and reordering.
    """
    subscribed = [
        webhook
        for webhook in OutboundWebhook.objects.filter(org=org, enabled=True)
        if name in webhook.events
    ]
    if not subscribed:
        return None
    data = {key: value for key, value in data.items() if key != "links"}
    event_id, payload = webhooks.event_payload(org=org, name=name, data=data)
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            org=org, webhook=webhook, event_id=event_id, event_name=name, payload=payload
        )
        for webhook in subscribed
        for _ in range(max(1, copies))
    )
    transaction.on_commit(
        partial(
            webhooks.dispatch,
            [delivery.id for delivery in deliveries],
            delay_seconds=delay_seconds,
        )
    )
    return event_id


def _message_event_data(message: Message) -> dict[str, Any]:
    return {
        "type": "message",
        "id": message.id,
        "attributes": representations.message_attributes(message),
        "relationships": representations.message_relationships(message),
    }


# --- customers, conversations, messages -------------------------------------------------------


@transaction.atomic
def customer_create(
    *, name: str, email: str = "", org: Org | None = None, emit_webhooks: bool = True
) -> Customer:
    """A customer with one (home) email; emits `kustomer.customer.create`."""
    org = _org(org)
    customer = Customer.objects.create(
        org=org,
        name=name,
        emails=[{"type": "home", "email": email}] if email else [],
        primary_email=email.strip().lower(),
    )
    if emit_webhooks:
        _event_emit(
            org=org, name="kustomer.customer.create", data=representations.customer(customer)
        )
    return customer


@transaction.atomic
def conversation_create(
    *,
    customer: Customer,
    name: str = "",
    channel: str = "email",
    status: str = Conversation.Status.OPEN,
    priority: int = 3,
    tags: Sequence[str] = (),
    custom: dict[str, Any] | None = None,
    imported_at: datetime | None = None,
    emit_webhooks: bool = True,
) -> Conversation:
    """A conversation of `customer`; emits `kustomer.conversation.create`."""
    conversation = Conversation.objects.create(
        org_id=customer.org_id,
        customer=customer,
        name=name,
        status=status,
        priority=priority,
        channels=[channel] if channel else [],
        tags=list(tags),
        custom=custom or {},
        imported_at=imported_at,
    )
    if emit_webhooks:
        _event_emit(
            org=customer.org,
            name="kustomer.conversation.create",
            data=representations.conversation(conversation),
        )
    return conversation


def _preview(text: str) -> str:
    return " ".join(text.split())[:PREVIEW_LENGTH]


@transaction.atomic
def message_create(
    *,
    conversation: Conversation,
    direction: str,
    body: str,
    channel: str = "",
    preview: str = "",
    subject: str = "",
    app: str = "",
    meta: dict[str, Any] | None = None,
    sent_at: datetime | None = None,
    auto: bool = False,
    sentiment: dict[str, Any] | None = None,
    imported_at: datetime | None = None,
    emit_webhooks: bool = True,
    webhook_copies: int = 1,
    webhook_delay_seconds: float = 0.0,
) -> Message:
    """A message on `conversation` (`direction` "in" from the customer, "out" from an agent).

    Emits `kustomer.message.create`. For email, `meta` defaults to subject/from/to built from the
    customer's address and the org's support address.
    """
    customer = conversation.customer
    org = customer.org
    channel = channel or (conversation.channels[0] if conversation.channels else "email")
    if meta is None:
        meta = {}
        if channel == "email":
            customer_email = customer.primary_email or f"customer-{customer.id}@example.com"
            sender, recipient = (
                (customer_email, support_address(org))
                if direction == Message.Direction.IN
                else (support_address(org), customer_email)
            )
            meta = {"subject": subject or conversation.name, "from": sender, "to": [recipient]}
    message = Message.objects.create(
        org=org,
        conversation=conversation,
        customer=customer,
        direction=direction,
        channel=channel,
        app=app or ("postmark" if channel == "email" else "sandbox"),
        preview=_preview(preview or body),
        body=body,
        meta=meta,
        sentiment=sentiment,
        auto=auto,
        sent_at=sent_at or timezone.now(),
        imported_at=imported_at,
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        message_count=F("message_count") + 1,
        preview=message.preview,
        last_message_at=message.sent_at,
        updated_at=timezone.now(),
    )
    if channel not in conversation.channels:
        conversation.channels = [*conversation.channels, channel]
        conversation.save(update_fields=["channels"])
    if emit_webhooks:
        _event_emit(
            org=org,
            name="kustomer.message.create",
            data=_message_event_data(message),
            copies=webhook_copies,
            delay_seconds=webhook_delay_seconds,
        )
    return message


@transaction.atomic
def message_send_from_customer(
    *,
    body: str,
    conversation: Conversation | None = None,
    customer: Customer | None = None,
    subject: str = "",
    channel: str = "email",
    sentiment: dict[str, Any] | None = None,
    webhook_copies: int = 1,
    webhook_delay_seconds: float = 0.0,
) -> Message:
    """The customer writes in: on `conversation`, or on a new conversation of `customer`."""
    if conversation is None:
        if customer is None:
            raise ValueError("Give a conversation or a customer.")
        conversation = conversation_create(customer=customer, name=subject, channel=channel)
    return message_create(
        conversation=conversation,
        direction=Message.Direction.IN,
        body=body,
        channel=channel,
        subject=subject,
        sentiment=sentiment,
        webhook_copies=webhook_copies,
        webhook_delay_seconds=webhook_delay_seconds,
    )


def message_send_from_agent(
    *,
    conversation: Conversation,
    body: str,
    channel: str = "",
    webhook_copies: int = 1,
    webhook_delay_seconds: float = 0.0,
) -> Message:
    """An agent replies on `conversation` (direction "out")."""
    return message_create(
        conversation=conversation,
        direction=Message.Direction.OUT,
        body=body,
        channel=channel,
        webhook_copies=webhook_copies,
        webhook_delay_seconds=webhook_delay_seconds,
    )


@transaction.atomic
def reply_box_send(*, conversation: Conversation, body: str) -> Message:
    """The agent presses Send in the reply box (the demo workspace): the reply goes out and the
    box empties, as Kustomer drops the conversation's draft once it is sent."""
    message = message_send_from_agent(conversation=conversation, body=body)
    Draft.objects.filter(conversation=conversation, channel=message.channel).delete()
    return message


def conversation_update(
    *, conversation: Conversation, fields: dict[str, Any], merge_custom: bool
) -> Conversation:
    """Sets the given attributes; `custom` is merged key by key (PATCH) or replaced (PUT)."""
    if "custom" in fields and merge_custom:
        fields = {**fields, "custom": {**conversation.custom, **fields["custom"]}}
    for name, value in fields.items():
        setattr(conversation, name, value)
    conversation.save()
    return conversation


def conversation_tags_add(*, conversation: Conversation, tags: Sequence[str]) -> Conversation:
    """Appends tag names the conversation does not have yet."""
    conversation.tags = list(dict.fromkeys([*conversation.tags, *tags]))
    conversation.save(update_fields=["tags", "updated_at"])
    return conversation


# --- notes, klasses, KObjects ----------------------------------------------------------------


def note_create(
    *,
    conversation: Conversation,
    body: str,
    external_id: str = "",
    user_mentions: Sequence[Any] = (),
    created_by: ApiKey | None = None,
    created_by_user_id: str = "",
    imported_at: datetime | None = None,
) -> Note:
    """An internal note. An `external_id` already used on the conversation raises `Duplicate`.

    Kustomer keeps `externalId` unique per conversation and answers a second create with a 400
    unique-key error; the fake does the same rather than returning the first note, so that a
    retried write-back must look the note up (or treat the duplicate as done) explicitly.
    """
    try:
        with transaction.atomic():
            note = Note.objects.create(
                org_id=conversation.org_id,
                conversation=conversation,
                customer_id=conversation.customer_id,
                body=body,
                external_id=external_id,
                user_mentions=list(user_mentions),
                created_by=created_by,
                created_by_user_id=created_by.user_id if created_by else created_by_user_id,
                imported_at=imported_at,
            )
            Conversation.objects.filter(pk=conversation.pk).update(note_count=F("note_count") + 1)
    except IntegrityError:
        raise Duplicate(
            f"A note with externalId {external_id} already exists on this conversation",
            pointer="/data/attributes/externalId",
        ) from None
    return note


def klass_create(
    *,
    name: str,
    display_name: str = "",
    icon: str = "",
    color: str = "",
    description: str = "",
    metadata: dict[str, Any] | None = None,
    org: Org | None = None,
) -> Klass:
    """A custom object type; a name already taken raises `Duplicate`."""
    try:
        with transaction.atomic():
            return Klass.objects.create(
                org=_org(org),
                name=name,
                display_name=display_name or name,
                icon=icon,
                color=color,
                description=description,
                metadata=metadata or {},
            )
    except IntegrityError:
        raise Duplicate(
            f"A klass named {name} already exists", pointer="/data/attributes/name"
        ) from None


def _duplicate_external_id(klass: Klass, external_id: str) -> Duplicate:
    return Duplicate(
        f"A {klass.name} KObject with externalId {external_id} already exists",
        pointer="/data/attributes/externalId",
    )


def kobject_create(*, klass: Klass, customer: Customer, fields: dict[str, Any]) -> KObject:
    """A KObject of `klass` on `customer`; an `external_id` taken in the klass: `Duplicate`."""
    try:
        with transaction.atomic():
            return KObject.objects.create(
                org_id=klass.org_id, klass=klass, customer=customer, **fields
            )
    except IntegrityError:
        raise _duplicate_external_id(klass, fields.get("external_id", "")) from None


def kobject_update(*, kobject: KObject, fields: dict[str, Any]) -> KObject:
    """Replaces the given fields (a given `custom` replaces the whole object, as PUT does)."""
    for name, value in fields.items():
        setattr(kobject, name, value)
    try:
        with transaction.atomic():
            kobject.save()
    except IntegrityError:
        raise _duplicate_external_id(kobject.klass, kobject.external_id) from None
    return kobject


# --- drafts -------------------------------------------------------------------------------------


def _duplicate_draft(conversation_id: str, channel: str) -> Duplicate:
    existing = Draft.objects.filter(conversation_id=conversation_id, channel=channel).first()
    return Duplicate(
        f"A draft for channel {channel} already exists on conversation {conversation_id}"
        + (f": {existing.id}, to be changed with PUT /v1/drafts/{existing.id}" if existing else ""),
        pointer="/data/attributes/conversation",
    )


def draft_create(
    *,
    customer: Customer,
    channel: str,
    body: str,
    conversation: Conversation | None = None,
    to: Sequence[str] | None = None,
    sender: str | None = None,
    cc: Sequence[str] = (),
    bcc: Sequence[str] = (),
    subject: str = "",
    send_at: datetime | None = None,
    created_by_user_id: str = "",
) -> Draft:
    """A draft to `customer`, in the reply box of `conversation` when given.

    A conversation holds one draft per channel: a second one raises `Duplicate` naming the first,
    which is to be updated instead. Email drafts are addressed from the org's support address to
    the customer unless `to`/`sender` say otherwise. With `send_at` the draft is scheduled.
    """
    if to is None:
        to = [customer.primary_email] if channel == "email" and customer.primary_email else []
    if sender is None:
        sender = support_address(customer.org) if channel == "email" else ""
    try:
        with transaction.atomic():
            return Draft.objects.create(
                org_id=customer.org_id,
                customer=customer,
                conversation=conversation,
                channel=channel,
                body=body,
                status=Draft.Status.SCHEDULED if send_at else Draft.Status.DRAFT,
                to=list(to),
                sender=sender,
                cc=list(cc),
                bcc=list(bcc),
                subject=subject,
                send_at=send_at,
                created_by_user_id=created_by_user_id,
            )
    except IntegrityError:
        raise _duplicate_draft(conversation.id if conversation else "", channel) from None


def draft_update(*, draft: Draft, fields: dict[str, Any]) -> Draft:
    """Replaces the given fields. `send_at` set schedules the draft, `None` unschedules it."""
    for name, value in fields.items():
        setattr(draft, name, value)
    if "send_at" in fields:
        draft.status = Draft.Status.SCHEDULED if draft.send_at else Draft.Status.DRAFT
    draft.save()
    return draft


# --- shortcuts and outbound webhooks ----------------------------------------------------------


def shortcut_upsert(*, name: str, text: str, org: Org | None = None) -> Shortcut:
    """The saved reply called `name`, with `text` as its draft (created or updated)."""
    shortcut, _ = Shortcut.objects.update_or_create(
        org=_org(org), name=name, defaults={"text": text}
    )
    return shortcut


def outbound_webhook_create(
    *,
    name: str,
    url: str,
    events: Sequence[str],
    headers: Sequence[dict[str, str]] = (),
    description: str = "",
    enabled: bool = True,
    org: Org | None = None,
) -> OutboundWebhook:
    """A webhook subscription; its `token` signs every delivery."""
    return OutboundWebhook.objects.create(
        org=_org(org),
        name=name,
        url=url,
        events=list(events),
        headers=list(headers),
        description=description,
        enabled=enabled,
    )


def outbound_webhooks_repoint(
    *, webhook_ids: Iterable[str], url: str, org: Org | None = None
) -> int:
    """Points these webhooks at `url`, as an admin editing them in Kustomer's settings would;
    their tokens are kept. Returns how many pointed elsewhere."""
    return (
        OutboundWebhook.objects.filter(org=_org(org), id__in=list(webhook_ids))
        .exclude(url=url)
        .update(url=url, updated_at=timezone.now())
    )


def webhook_deliveries_wait(*, timeout: float = 10.0) -> bool:
    """Waits for every delivery in flight in this process (retries included) to finish."""
    return webhooks.wait_idle(timeout=timeout)


# --- the request log, failure injection, reset ------------------------------------------------


def request_log_record(
    *,
    org: Org | None,
    api_key_id: str,
    user_id: str = "",
    method: str,
    path: str,
    query: str,
    status: int,
    body: str,
    duration_ms: float,
) -> RequestLog:
    return RequestLog.objects.create(
        org=org,
        api_key_id=api_key_id,
        user_id=user_id,
        method=method,
        path=path,
        query=query,
        status=status,
        body=body,
        duration_ms=duration_ms,
    )


def failure_inject(
    *, path_prefix: str, mode: str, count: int = 1, seconds: float | None = None
) -> FailureInjection:
    """The next `count` API requests under `path_prefix` (e.g. "/v1/conversations") fail.

    `mode` "500" answers a 500; "429" a rate-limit refusal whose `x-ratelimit-reset` is `seconds`
    (default 1); "timeout" hangs `seconds` (default 30) and then answers 504.
    """
    if mode not in FailureInjection.Mode.values:
        raise ValueError(f"mode must be one of {', '.join(FailureInjection.Mode.values)}")
    if count < 1:
        raise ValueError("count must be at least 1")
    if seconds is None:
        seconds = 30.0 if mode == FailureInjection.Mode.TIMEOUT else 1.0
    if seconds < 0:
        raise ValueError("seconds cannot be negative")
    return FailureInjection.objects.create(
        path_prefix=path_prefix, mode=mode, remaining=count, seconds=seconds
    )


def failure_claim(*, path: str) -> FailureInjection | None:
    """Takes one pending failure for `path`, atomically (two processes never take the same)."""
    candidates = FailureInjection.objects.filter(remaining__gt=0).order_by("created_at", "id")
    for injection in candidates:
        if not path.startswith(injection.path_prefix):
            continue
        claimed = FailureInjection.objects.filter(pk=injection.pk, remaining__gt=0).update(
            remaining=F("remaining") - 1
        )
        if claimed:
            return injection
    return None


@transaction.atomic
def sandbox_reset() -> None:
    """Deletes every org (and with it every object), failure and logged request; forgets counts."""
    FailureInjection.objects.all().delete()
    RequestLog.objects.all().delete()
    WebhookDelivery.objects.all().delete()
    Org.objects.all().delete()
    transaction.on_commit(ratelimit.reset_all)
