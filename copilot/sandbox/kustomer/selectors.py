"""Reads of the fake Kustomer, always scoped to one org."""

from django.db.models import Q, QuerySet

from .errors import NotFound
from .models import (
    Conversation,
    Customer,
    Draft,
    Klass,
    KObject,
    Message,
    Note,
    Org,
    OutboundWebhook,
    RequestLog,
    Shortcut,
    WebhookDelivery,
)


def customer_get(*, org: Org, customer_id: str) -> Customer:
    customer = Customer.objects.filter(org=org, pk=customer_id).first()
    if customer is None:
        raise NotFound(f"Customer {customer_id} not found")
    return customer


def customer_find_by_email(*, org: Org, email: str) -> Customer:
    """The oldest customer with this email (compared without case), as Kustomer's lookup."""
    customer = (
        Customer.objects.filter(org=org, primary_email=email.strip().lower())
        .order_by("created_at", "id")
        .first()
    )
    if customer is not None:
        return customer
    raise NotFound(f"No customer with email {email}")


def conversation_get(*, org: Org, conversation_id: str) -> Conversation:
    conversation = Conversation.objects.filter(org=org, pk=conversation_id).first()
    if conversation is None:
        raise NotFound(f"Conversation {conversation_id} not found")
    return conversation


def conversations_search(*, org: Org, condition: Q, order_by: tuple[str, ...]) -> QuerySet:
    """The org's conversations matching a search (see search.py), in the order asked."""
    return Conversation.objects.filter(org=org).filter(condition).order_by(*order_by)


def conversation_messages(*, conversation: Conversation) -> QuerySet[Message]:
    """Oldest first."""
    return Message.objects.filter(conversation=conversation).order_by("sent_at", "created_at", "id")


def klass_get_by_name(*, org: Org, name: str) -> Klass:
    klass = Klass.objects.filter(org=org, name=name).first()
    if klass is None:
        raise NotFound(f"Klass {name} not found")
    return klass


def klasses(*, org: Org) -> QuerySet[Klass]:
    return Klass.objects.filter(org=org).order_by("created_at", "id")


def kobject_get(*, klass: Klass, kobject_id: str) -> KObject:
    kobject = KObject.objects.select_related("klass").filter(klass=klass, pk=kobject_id).first()
    if kobject is None:
        raise NotFound(f"KObject {kobject_id} of klass {klass.name} not found")
    return kobject


def kobject_find_by_external_id(*, klass: Klass, external_id: str) -> KObject:
    kobject = (
        KObject.objects.select_related("klass")
        .filter(klass=klass, external_id=external_id)
        .exclude(external_id="")
        .first()
    )
    if kobject is None:
        raise NotFound(f"No {klass.name} KObject with externalId {external_id}")
    return kobject


def draft_get(*, org: Org, draft_id: str) -> Draft:
    draft = Draft.objects.filter(org=org, pk=draft_id).first()
    if draft is None:
        raise NotFound(f"Draft {draft_id} not found")
    return draft


def customer_drafts(*, customer: Customer) -> QuerySet[Draft]:
    """Oldest first."""
    return Draft.objects.filter(customer=customer).order_by("created_at", "id")


def shortcuts(*, org: Org) -> QuerySet[Shortcut]:
    return Shortcut.objects.filter(org=org).order_by("name", "id")


def outbound_webhooks(*, org: Org) -> QuerySet[OutboundWebhook]:
    return OutboundWebhook.objects.filter(org=org).order_by("created_at", "id")


# --- for the control API and tests ----------------------------------------------------------


def notes(*, org: Org) -> QuerySet[Note]:
    return Note.objects.filter(org=org).order_by("created_at", "id")


def kobjects(*, org: Org) -> QuerySet[KObject]:
    return KObject.objects.filter(org=org).select_related("klass").order_by("created_at", "id")


def messages(*, org: Org) -> QuerySet[Message]:
    return Message.objects.filter(org=org).order_by("created_at", "id")


def request_log(*, org: Org | None = None) -> QuerySet[RequestLog]:
    """Every API call, oldest first; with `org`, that org's calls (401s belong to none)."""
    rows = RequestLog.objects.order_by("created_at", "id")
    return rows.filter(org=org) if org is not None else rows


def drafts(
    *, org: Org, conversation_id: str | None = None, customer_id: str | None = None
) -> QuerySet[Draft]:
    """The org's drafts (what each reply box holds), oldest first."""
    rows = Draft.objects.filter(org=org).order_by("created_at", "id")
    if conversation_id:
        rows = rows.filter(conversation_id=conversation_id)
    if customer_id:
        rows = rows.filter(customer_id=customer_id)
    return rows


def webhook_deliveries(*, org: Org) -> QuerySet[WebhookDelivery]:
    return (
        WebhookDelivery.objects.filter(org=org)
        .select_related("webhook")
        .order_by("created_at", "id")
    )
