"""Writes of the suggested replies: making a message's drafts, and recording what agents did.

    drafts_generate_for_message(message_id=...)   # the pipeline, right after classification
    drafts_regenerate_request(message_id=...)     # the card's "new drafts" button
    drafts_regenerate(message_id=..., generation=...)  # its task: the new set
    draft_feedback_record(draft_id=..., action="used" | "edited" | "dismissed" | "shown", ...)

Making drafts never fails for the model's sake: with no model configured, or when it times out,
is rate limited, fails or answers nonsense, the drafts come from the org's Kustomer shortcuts and
the reply templates, each saying why. Kustomer and Shopify are read best-effort too: a fact that
cannot be read now is left out (and named on the draft) rather than holding the pipeline, whose
write-back to Kustomer matters more than a richer draft.
"""

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, QuerySet
from django.utils import timezone

from copilot.commerce.selectors import customer_orders_for_card
from copilot.inbox.models import InboundMessage
from copilot.integrations.http import (
    IntegrationError,
    PermanentError,
    RateLimited,
    TransientError,
)
from copilot.integrations.kustomer import KustomerClient
from copilot.integrations.llm import (
    DraftsCompletion,
    LLMClient,
    LLMTimeout,
    MalformedOutput,
    Usage,
)
from intents.models import Intent

from . import defaults, fallback, grounding
from .facts import AGENT_PLACEHOLDER, Facts, OrderFacts, Policy, SavedReply
from .language import detect_language
from .models import Draft, ReplyTemplate, StorePolicy
from .prompts import HistoryLine, PromptInput, build_messages
from .selectors import regenerate_key, render

logger = logging.getLogger(__name__)

PROMPT_SHORTCUTS = 3
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


# --- gathering the facts ------------------------------------------------------------------------


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


def _earlier_messages(conversation_id, received_at, pk) -> QuerySet[InboundMessage]:
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
        _earlier_messages(message.conversation_id, message.received_at, message.pk)
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


# --- making drafts ------------------------------------------------------------------------------


@dataclass
class NewDraft:
    text: str
    source: str
    source_name: str = ""
    language: str = ""
    grounding_notes: list[str] = field(default_factory=list)


@dataclass
class ModelOutcome:
    drafts: list[NewDraft]
    fallback_reason: str = ""
    model_name: str = ""
    usage: Usage | None = None
    cost: Decimal = Decimal("0")
    latency_ms: float | None = None


def _fallback_drafts(context: Context, limit: int) -> list[NewDraft]:
    values = fallback.placeholder_values(
        context.facts, message=context.message_text, language=context.language
    )
    candidates = [
        fallback.Candidate(fallback.SHORTCUT, shortcut.name, shortcut.text)
        for shortcut in context.shortcuts
    ] + list(context.templates)
    ranked = fallback.rank(
        message=context.message_text,
        intent=context.intent,
        intent_words=context.intent_words,
        candidates=candidates,
        values=values,
        language=context.language,
        limit=limit,
        intent_catalog=context.intent_catalog,
    )
    if not ranked:
        # Every template was deleted in the admin: the built-in last resort still answers.
        built_in = [
            fallback.Candidate(fallback.TEMPLATE, name, text, intent=intent, language=language)
            for intent, language, name, text in defaults.TEMPLATES
            if intent == fallback.GENERAL_INTENT
        ]
        ranked = fallback.rank(
            message=context.message_text,
            intent=context.intent,
            intent_words=context.intent_words,
            candidates=built_in,
            values=values,
            language=context.language,
            limit=1,
            intent_catalog=context.intent_catalog,
        )
    return [NewDraft(item.text, item.source, item.name, item.language) for item in ranked[:limit]]


def _prompt_shortcuts(context: Context) -> list[SavedReply]:
    """The org's shortcuts that fit this message best, to show the model its house style."""
    if not context.shortcuts:
        return []
    ranked = fallback.rank(
        message=context.message_text,
        intent=context.intent,
        intent_words=context.intent_words,
        candidates=[
            fallback.Candidate(fallback.SHORTCUT, shortcut.name, shortcut.text)
            for shortcut in context.shortcuts
        ],
        values={},
        language=context.language,
        limit=PROMPT_SHORTCUTS,
        intent_catalog=context.intent_catalog,
    )
    by_name = {shortcut.name: shortcut for shortcut in context.shortcuts}
    return [by_name[item.name] for item in ranked if item.name in by_name]


_AGENT_NAME_GUESSES = (
    "[Your Name]", "[your name]", "[Agent Name]", "[agent name]", "[Name]", "{{user.firstName}}",
)  # fmt: skip


def _model_drafts(context: Context, limit: int) -> ModelOutcome:
    if not settings.OPENAI_BASE_URL:
        return ModelOutcome([], "No model is configured")
    facts = replace(context.facts, shortcuts=tuple(_prompt_shortcuts(context)))
    prompt = PromptInput(
        message=context.message_text,
        language=context.language,
        facts=facts,
        max_drafts=limit,
        intent=context.intent,
        intent_description=context.intent_description,
        confidence=context.confidence,
        history=tuple(context.history),
    )
    started = time.perf_counter()
    completion: DraftsCompletion | None = None
    try:
        completion = LLMClient.from_settings().draft_replies(
            build_messages(prompt), max_drafts=limit
        )
    except LLMTimeout:
        reason = f"The model did not answer within {settings.OPENAI_TIMEOUT_SECONDS:g} s"
    except RateLimited as error:
        reason = f"The model server is rate limiting (try again in {error.retry_after:.0f} s)"
    except MalformedOutput as error:
        # The tokens were spent all the same: they are recorded on the fallback drafts.
        return ModelOutcome(
            [],
            str(error)[:255],
            model_name=settings.OPENAI_MODEL,
            usage=error.usage,
            cost=LLMClient.from_settings().prices.cost(
                error.usage.prompt_tokens, error.usage.completion_tokens
            )
            if error.usage
            else Decimal("0"),
            latency_ms=(time.perf_counter() - started) * 1000,
        )
    except TransientError as error:
        reason = f"The model server failed: {error}"
    except PermanentError as error:
        reason = f"The model server refused the request: {error}"
    latency_ms = (time.perf_counter() - started) * 1000
    if completion is None:
        logger.warning("drafts fall back: %s", reason)
        return ModelOutcome([], reason[:255], latency_ms=latency_ms)

    allowed = grounding.allowed_from_facts(facts)
    drafts, dropped = [], []
    for draft in completion.drafts:
        text = draft.text
        for guess in _AGENT_NAME_GUESSES:
            text = text.replace(guess, AGENT_PLACEHOLDER)
        checked = grounding.check_draft(text, allowed)
        if checked.dropped:
            dropped.append(checked.notes)
            continue
        drafts.append(
            NewDraft(
                checked.text,
                Draft.Source.MODEL,
                language=detect_language(checked.text, default=context.language),
                grounding_notes=checked.notes,
            )
        )
    if dropped:
        logger.warning("dropped %d ungrounded model drafts: %s", len(dropped), dropped)
    return ModelOutcome(
        drafts,
        "" if drafts else "Every model draft stated facts it was not given",
        model_name=completion.model,
        usage=completion.usage,
        cost=completion.cost,
        latency_ms=completion.latency_ms,
    )


def _share(total: int, parts: int) -> list[int]:
    base, remainder = divmod(total, parts)
    return [base + (1 if index < remainder else 0) for index in range(parts)]


def _rows(
    message: InboundMessage,
    generation: int,
    context: Context,
    outcome: ModelOutcome,
    fallbacks: Sequence[NewDraft],
) -> list[Draft]:
    new = outcome.drafts + list(fallbacks)
    # Shortcuts and templates after model drafts fill the places the model left.
    reason = outcome.fallback_reason or (
        f"The model gave {len(outcome.drafts)} usable draft(s); this one fills a place"
    )
    rows = [
        Draft(
            message=message,
            generation=generation,
            rank=rank,
            text=draft.text,
            source=draft.source,
            source_name=draft.source_name[:200],
            language=draft.language or context.language,
            customer_language=context.language,
            intent=context.intent,
            fallback_reason="" if draft.source == Draft.Source.MODEL else reason,
            grounding_notes=draft.grounding_notes,
            missing_facts=context.missing,
            latency_ms=outcome.latency_ms,
        )
        for rank, draft in enumerate(new, start=1)
    ]
    if outcome.usage is not None and rows:
        # The call's usage is shared among the model's drafts (or put on the first draft when
        # none survived), so that summing drafts gives what the calls cost.
        payers = [row for row in rows if row.source == Draft.Source.MODEL] or rows[:1]
        prompt_shares = _share(outcome.usage.prompt_tokens, len(payers))
        completion_shares = _share(outcome.usage.completion_tokens, len(payers))
        cost_left = outcome.cost
        for index, row in enumerate(payers):
            row.model_name = outcome.model_name[:100]
            row.prompt_tokens = prompt_shares[index]
            row.completion_tokens = completion_shares[index]
            share = (outcome.cost / len(payers)).quantize(Decimal("0.000001"))
            row.cost = cost_left if index == len(payers) - 1 else share
            cost_left -= row.cost
    return rows


def drafts_generate_for_message(
    *,
    message_id: int,
    generation: int = 0,
    kustomer_factory: Callable[[], KustomerClient] = KustomerClient.from_settings,
) -> list[Draft]:
    """Makes and stores up to REPLIES_MAX_DRAFTS drafts for an inbound message, once.

    Returns the stored set, best first. Idempotent: when the set of this generation exists it is
    returned as is. Never raises for the model's, Kustomer's or Shopify's sake; an unexpected
    error is logged and gives no drafts, so that the pipeline's write-back still happens.
    """
    try:
        return _generate(message_id, generation, kustomer_factory)
    except Exception:
        logger.exception("could not make drafts for inbound message %s", message_id)
        return []


def _existing(message_id: int, generation: int) -> list[Draft]:
    return list(Draft.objects.filter(message_id=message_id, generation=generation).order_by("rank"))


def _generate(
    message_id: int, generation: int, kustomer_factory: Callable[[], KustomerClient]
) -> list[Draft]:
    # One query answers whether this set exists already and whether the conversation had
    # earlier messages, besides reading the message.
    message = (
        InboundMessage.objects.select_related("prediction")
        .annotate(
            has_drafts=Exists(Draft.objects.filter(message=OuterRef("pk"), generation=generation)),
            has_earlier=Exists(
                _earlier_messages(
                    OuterRef("conversation_id"), OuterRef("received_at"), OuterRef("pk")
                )
            ),
        )
        .get(pk=message_id)
    )
    if message.has_drafts:
        return _existing(message_id, generation)
    limit = settings.REPLIES_MAX_DRAFTS
    context = context_gather(message, kustomer_factory=kustomer_factory)
    outcome = _model_drafts(context, limit)
    fallbacks: list[NewDraft] = []
    if len(outcome.drafts) < limit:
        model_texts = {draft.text for draft in outcome.drafts}
        fallbacks = [
            draft for draft in _fallback_drafts(context, limit) if draft.text not in model_texts
        ][: limit - len(outcome.drafts)]
    rows = _rows(message, generation, context, outcome, fallbacks)
    try:
        with transaction.atomic():
            Draft.objects.bulk_create(rows)
    except IntegrityError:
        # Another worker stored this generation first: theirs stands.
        return _existing(message_id, generation)
    logger.info(
        "drafts for message %s gen %s: %s%s",
        message_id,
        generation,
        ", ".join(row.source for row in rows),
        f" (fallback: {outcome.fallback_reason})" if outcome.fallback_reason else "",
    )
    return rows


def drafts_regenerate(*, message_id: int, generation: int) -> list[Draft]:
    """Makes the set of drafts the card asked for (drafts_regenerate_request)."""
    try:
        return drafts_generate_for_message(message_id=message_id, generation=generation)
    finally:
        # Made or failed, the card may ask again. Never raises for the cache's sake.
        with contextlib.suppress(Exception):
            cache.delete(regenerate_key(message_id, generation))


def drafts_regenerate_request(*, message_id: int, requested_by: str = "") -> int:
    """Asks for a new set of drafts (the card's button); returns the generation to wait for.

    Clicking again before the new set exists asks for nothing more.
    """
    from .tasks import regenerate_drafts

    latest = Draft.objects.filter(message_id=message_id).aggregate(latest=Max("generation"))
    generation = 0 if latest["latest"] is None else latest["latest"] + 1
    if cache.add(regenerate_key(message_id, generation), requested_by or "card", timeout=300):
        transaction.on_commit(lambda: regenerate_drafts.delay(message_id, generation))
    return generation


# --- feedback -------------------------------------------------------------------------------


class FeedbackError(ValueError):
    """The feedback cannot be recorded as given (unknown action, missing text)."""


FEEDBACK_ACTIONS = ("shown", "used", "edited", "dismissed")


def _same_text(left: str, right: str) -> bool:
    return " ".join(left.split()) == " ".join(right.split())


def draft_feedback_record(
    *, draft_id: int, action: str, edited_text: str = "", agent: str = "", agent_name: str = ""
) -> Draft:
    """Records what the agent did with a draft: `shown`, `used` (as is), `edited` (with the text
    sent) or `dismissed`. The last of used/edited/dismissed wins; `shown` never undoes them.

    An "edited" text that only differs in spacing from the draft counts as used as is. Raises
    `FeedbackError` for an unknown action or an edit without text, `Draft.DoesNotExist`.
    """
    if action not in FEEDBACK_ACTIONS:
        raise FeedbackError(f"Unknown feedback {action!r}: use one of {FEEDBACK_ACTIONS}.")
    if action == "edited" and not edited_text.strip():
        raise FeedbackError("An edited draft needs the text that was sent.")
    now = timezone.now()
    with transaction.atomic():
        draft = Draft.objects.select_for_update().get(pk=draft_id)
        draft.shown_at = draft.shown_at or now
        if action == "shown":
            if draft.status == Draft.Status.NEW:
                draft.status = Draft.Status.SHOWN
        else:
            shown_text = render(draft.text, agent_name=agent_name)
            if action == "edited" and (
                _same_text(edited_text, shown_text) or _same_text(edited_text, draft.text)
            ):
                action = "used"
            draft.status = {
                "used": Draft.Status.USED,
                "edited": Draft.Status.EDITED,
                "dismissed": Draft.Status.DISMISSED,
            }[action]
            draft.edited_text = edited_text if action == "edited" else ""
            draft.feedback_by = agent[:255]
            draft.feedback_at = now
        draft.save(
            update_fields=["status", "edited_text", "feedback_by", "feedback_at", "shown_at"]
        )
    return draft


def drafts_shown_record(*, message_id: int, generation: int) -> int:
    """Marks a set of drafts as shown (the card displayed them); returns how many changed."""
    return Draft.objects.filter(
        message_id=message_id, generation=generation, status=Draft.Status.NEW
    ).update(status=Draft.Status.SHOWN, shown_at=timezone.now())


# --- defaults -------------------------------------------------------------------------------


def reply_defaults_seed() -> tuple[int, int]:
    """Adds the default policies and templates (defaults.py) that are missing; rows edited in
    the admin are left alone. Returns how many policies and templates were added."""
    known_policies = set(StorePolicy.objects.values_list("key", flat=True))
    known_templates = set(ReplyTemplate.objects.values_list("intent", "language", "name"))
    policies = [
        StorePolicy(key=key, title=title, text=text)
        for key, title, text in defaults.POLICIES
        if key not in known_policies
    ]
    templates = [
        ReplyTemplate(intent=intent, language=language, name=name, text=text)
        for intent, language, name, text in defaults.TEMPLATES
        if (intent, language, name) not in known_templates
    ]
    # ignore_conflicts: a concurrent seed (two deploys) adds each row once.
    StorePolicy.objects.bulk_create(policies, ignore_conflicts=True)
    ReplyTemplate.objects.bulk_create(templates, ignore_conflicts=True)
    reference_data_changed()
    return len(policies), len(templates)
