"""What a message's drafts are made from: the customer, the conversation, their orders, the
org's shortcuts, and the intents, policies and templates.

Kustomer and Shopify are read best-effort: a fact that cannot be read now is left out (and named
on the draft) rather than holding the pipeline, whose write-back to Kustomer matters more than a
richer draft.
"""

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone

from copilot.commerce.orders import customer_orders_for_card
from copilot.inbox.models import InboundMessage
from copilot.integrations.http import IntegrationError, TransientError
from copilot.integrations.kustomer import KustomerClient
from intents.models import Intent

from . import fallback, grounding
from .facts import Facts, OrderFacts, Policy, SavedReply
from .language import detect_language
from .models import ReplyTemplate, StorePolicy
from .prompts import HistoryLine

logger = logging.getLogger(__name__)

# The customer's latest orders the prompt holds (across stores).
PROMPT_ORDERS = 5
# Threads for the Kustomer reads that run beside the others; kept for the life of the process so
# that their connections (Redis, Kustomer) are reused.
_READS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="replies-reads")
_SHORTCUTS_KEY = "replies:kustomer:shortcuts:v1"
_SHORTCUTS_STALE_KEY = "replies:kustomer:shortcuts:stale:v1"
_STALE_SECONDS = 24 * 3600


def _customer_key(customer_id: str) -> str:
    return f"replies:kustomer:customer:v1:{customer_id}"


@dataclass
class Context:
    """Everything a set of drafts is made from, already masked."""

    message_text: str
    language: str
    intent: str
    intent_words: str
    confidence: float | None
    intent_description: str = ""
    intent_catalog: dict[str, str] = field(default_factory=dict)
    history: list[HistoryLine] = field(default_factory=list)
    facts: Facts = field(default_factory=Facts)
    shortcuts: list[SavedReply] = field(default_factory=list)  # every shortcut of the org
    templates: tuple[fallback.Candidate, ...] = ()  # every active reply template
    missing: list[str] = field(default_factory=list)


class _Kustomer:
    """Best-effort reads: after the first transient failure the rest are skipped (Kustomer is
    down or slow, and each try would cost a timeout and rate-limit budget). Reads may run in
    several threads at once (the client is thread-safe). The client is made on the first read:
    with everything cached there is none, and Kustomer needs no configuration then."""

    def __init__(self, factory: Callable[[], KustomerClient], missing: list[str]) -> None:
        self.factory = factory
        self.missing = missing
        self.client: KustomerClient | None = None
        self.unavailable = False
        self._lock = threading.Lock()

    def _client(self) -> KustomerClient | None:
        with self._lock:
            if self.client is None and not self.unavailable:
                try:
                    self.client = self.factory()
                except IntegrationError as error:  # not configured
                    self.unavailable = True
                    self.missing.append(f"Kustomer: {error}")
            return self.client

    def read(self, what: str, call: Callable[[KustomerClient], object]) -> object | None:
        client = self._client()
        if self.unavailable or client is None:
            self.missing.append(f"{what}: skipped, Kustomer did not answer")
            return None
        try:
            return call(client)
        except TransientError as error:
            self.unavailable = True
            self.missing.append(f"{what}: {error}")
        except IntegrationError as error:
            self.missing.append(f"{what}: {error}")
        return None

    def close(self) -> None:
        if self.client is not None:
            self.client.close()


def _customer(kustomer: _Kustomer, customer_id: str, cached: dict | None) -> dict | None:
    if cached is not None:
        return cached
    found = kustomer.read("customer", lambda client: client.get_customer(customer_id))
    if found is None:
        return None
    value = {"name": found.name, "first_name": found.first_name, "emails": found.emails}
    cache.set(_customer_key(customer_id), value, settings.REPLIES_KUSTOMER_CACHE_SECONDS)
    return value


def _shortcuts(kustomer: _Kustomer, cached: list | None = None) -> list[SavedReply]:
    if cached is None:
        listed = kustomer.read("shortcuts", lambda client: client.list_shortcuts())
        if listed is not None:
            cached = [[shortcut.name, shortcut.text] for shortcut in listed if shortcut.text]
            cache.set(_SHORTCUTS_KEY, cached, settings.REPLIES_KUSTOMER_CACHE_SECONDS)
            # A day-old copy beats no shortcuts while Kustomer is unreachable.
            cache.set(_SHORTCUTS_STALE_KEY, cached, _STALE_SECONDS)
        else:
            cached = cache.get(_SHORTCUTS_STALE_KEY) or []
    return [SavedReply(name, text) for name, text in cached]


def earlier_messages(conversation_id, received_at, pk) -> QuerySet[InboundMessage]:
    """The messages of a conversation we received before message `pk` (values or OuterRefs).

    Kustomer is asked for the history only when there are some: a conversation's first message
    has no replies before it, and skipping the read saves a request per new conversation
    (outbound-first conversations lose their opening message). Every later message costs one
    read of the org's rate limit; REPLIES_HISTORY_FROM_KUSTOMER=false uses the customer's
    messages stored here instead.
    """
    return InboundMessage.objects.filter(
        conversation_id=conversation_id, received_at__lte=received_at
    ).exclude(pk=pk)


def _history(kustomer: _Kustomer, message: InboundMessage) -> list[HistoryLine] | None:
    """The conversation's latest messages before this one, oldest first, agents' replies
    included; None when Kustomer could not say. No database access: it runs beside the other
    reads."""
    messages = kustomer.read(
        "conversation history",
        lambda client: list(client.iter_messages(message.conversation_id)),
    )
    if messages is None:
        return None
    messages = [
        item for item in messages if item.id != message.kustomer_message_id and item.text.strip()
    ]
    messages.sort(key=lambda item: item.sent_at or timezone.now())
    recent = messages[-max(settings.REPLIES_RECENT_MESSAGES - 1, 0) :] if messages else []
    return [
        HistoryLine(
            "customer" if item.direction == "in" else "agent",
            grounding.mask_secrets(item.text).text,
        )
        for item in recent
    ]


def _stored_history(message: InboundMessage) -> list[HistoryLine]:
    """The customer's earlier messages in the conversation as we received them: no agent
    replies, but no Kustomer request either."""
    earlier = (
        earlier_messages(message.conversation_id, message.received_at, message.pk)
        .order_by("-received_at", "-id")
        .values_list("text", flat=True)[: max(settings.REPLIES_RECENT_MESSAGES - 1, 0)]
    )
    return [HistoryLine("customer", grounding.mask_secrets(text).text) for text in earlier][::-1]


def _orders(email: str, missing: list[str]) -> tuple[list[OrderFacts], list[str]]:
    if not email:
        return [], []
    found = customer_orders_for_card(email)
    orders = [OrderFacts.from_order(order, store=store.store_name) for store, order in found.orders]
    notes = found.messages
    missing += [f"orders: {note}" for note in notes if not orders]
    return orders[:PROMPT_ORDERS], notes


# --- reference data: intents, policies, templates ----------------------------------------------


@dataclass(frozen=True)
class _Reference:
    descriptions: dict[str, str]  # intent name → description, active intents
    policies: tuple[Policy, ...]
    templates: tuple[fallback.Candidate, ...]


_REFERENCE_VERSION_KEY = "replies:reference:version"
# Intents edited elsewhere (the intents app) are seen within this many seconds; policies and
# templates edited in the admin at once (the admin changes the version).
_REFERENCE_SECONDS = 60.0
_reference: tuple[str, float, _Reference] | None = None


def reference_data_changed() -> None:
    """Policies or templates changed: every process reads them again for its next drafts."""
    cache.delete(_REFERENCE_VERSION_KEY)


def _reference_data(version: str | None) -> _Reference:
    """Intents, policies and templates, kept in the process (three queries fewer per message)
    until another process says they changed, or for _REFERENCE_SECONDS. ``version`` is the
    shared version as read from the cache with the message's other keys (None: not set yet)."""
    global _reference
    if version is None:
        version = cache.get_or_set(_REFERENCE_VERSION_KEY, lambda: uuid.uuid4().hex, timeout=None)
    kept = _reference
    if kept is not None and kept[0] == version and time.monotonic() < kept[1]:
        return kept[2]
    data = _Reference(
        descriptions=dict(Intent.objects.filter(active=True).values_list("name", "description")),
        policies=tuple(
            Policy(policy.key, policy.title, policy.text)
            for policy in StorePolicy.objects.filter(active=True).order_by("key")
        ),
        templates=tuple(
            fallback.Candidate(fallback.TEMPLATE, name, text, intent=intent, language=language)
            for intent, language, name, text in ReplyTemplate.objects.filter(active=True)
            .order_by("intent", "language", "name")
            .values_list("intent", "language", "name", "text")
        ),
    )
    _reference = (version, time.monotonic() + _REFERENCE_SECONDS, data)
    return data


def context_gather(
    message: InboundMessage, *, kustomer_factory: Callable[[], KustomerClient]
) -> Context:
    """The facts for `message`'s drafts: customer and conversation (Kustomer), orders (Shopify),
    policies and shortcuts. Never raises for a vendor's sake; what is missing is listed."""
    prediction = message.prediction
    intent = prediction.intent if prediction else ""
    best_guess = prediction.top[0][0] if prediction and prediction.top else ""
    customer_key = _customer_key(message.customer_id)
    # One round trip when warm.
    cached = cache.get_many([_SHORTCUTS_KEY, customer_key, _REFERENCE_VERSION_KEY])
    reference = _reference_data(cached.get(_REFERENCE_VERSION_KEY))
    descriptions = reference.descriptions
    catalog = {
        name: f"{name.replace('_', ' ')} {description}"
        for name, description in descriptions.items()
    }
    guess = intent or best_guess
    missing: list[str] = []
    earlier = message.has_earlier  # annotated by _generate, with the message's own query
    kustomer = _Kustomer(kustomer_factory, missing)
    try:
        # The shortcuts and the history are read beside the customer and then their orders
        # (which need the customer's email), so a cold start waits for the slowest chain only.
        shortcuts_read = None if _SHORTCUTS_KEY in cached else _READS.submit(_shortcuts, kustomer)
        from_kustomer = earlier and settings.REPLIES_HISTORY_FROM_KUSTOMER
        history_read = _READS.submit(_history, kustomer, message) if from_kustomer else None
        customer = (
            _customer(kustomer, message.customer_id, cached.get(customer_key))
            if message.customer_id
            else None
        )
        read_failed = any(item.startswith(("customer", "Kustomer")) for item in missing)
        if message.customer_id and customer is None and not read_failed:
            missing.append("customer: not found in Kustomer")
        customer = customer or {}
        email = next(iter(customer.get("emails") or []), "")
        orders, notes = _orders(email, missing)
        shortcuts = (
            shortcuts_read.result()
            if shortcuts_read
            else _shortcuts(kustomer, cached[_SHORTCUTS_KEY])
        )
        history = history_read.result() if history_read else None
    finally:
        kustomer.close()
    if history is None:
        history = _stored_history(message) if earlier else []

    masked = grounding.mask_secrets(message.text)
    if masked.removed:
        logger.info("masked %s in message %s", ", ".join(masked.removed), message.pk)
    customer_text = " ".join(
        [masked.text] + [line.text for line in history if line.author == "customer"]
    )
    return Context(
        message_text=masked.text,
        language=detect_language(customer_text, default=settings.REPLIES_DEFAULT_LANGUAGE),
        intent=intent,
        intent_words=catalog.get(guess) or guess.replace("_", " "),
        intent_description=descriptions.get(intent, ""),
        intent_catalog=catalog,
        confidence=prediction.confidence if prediction and intent else None,
        history=history,
        facts=Facts(
            customer_first_name=customer.get("first_name", ""),
            customer_name=customer.get("name", ""),
            customer_email=email,
            orders=tuple(orders),
            orders_notes=tuple(notes),
            policies=reference.policies,
        ),
        shortcuts=shortcuts,
        templates=reference.templates,
        missing=missing,
    )
