"""Writes of the suggested replies: making a message's drafts, and recording what agents did.

    drafts_generate_for_message(message_id=...)   # the pipeline, right after classification
    drafts_regenerate_request(message_id=..., requested_by=...)  # the card's "new drafts" button
    drafts_regenerate(message_id=..., generation=...)  # its task: the new set
    draft_feedback_record(draft_id=..., action="used" | "edited" | "dismissed" | "shown", agent=...)

Making drafts never fails for the model's sake: with no model configured, or when it times out,
is rate limited, fails or answers nonsense, the drafts come from the org's Kustomer shortcuts and
the reply templates, each saying why. Kustomer and Shopify are read best-effort too (see
`context`). What agents did with the drafts is recorded by `feedback`; both are importable from
here.
"""

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from copilot import queueing
from copilot.inbox.models import InboundMessage
from copilot.integrations.http import PermanentError, RateLimited, TransientError
from copilot.integrations.kustomer import KustomerClient
from copilot.integrations.llm import (
    DraftsCompletion,
    LLMClient,
    LLMTimeout,
    MalformedOutput,
    Usage,
)

from . import defaults, fallback, grounding
from .context import Context, context_gather, earlier_messages, reference_data_changed
from .facts import AGENT_PLACEHOLDER, SavedReply
from .feedback import FEEDBACK_ACTIONS, FeedbackError, draft_feedback_record, drafts_shown_record
from .language import detect_language
from .models import Draft, DraftRegeneration, ReplyTemplate, StorePolicy
from .prompts import PromptInput, build_messages
from .selectors import regenerate_key

# The app's writes, wherever they are defined: callers import them from here.
__all__ = [
    "DRAFT_REGENERATION",
    "FEEDBACK_ACTIONS",
    "FeedbackError",
    "draft_feedback_record",
    "drafts_generate_for_message",
    "drafts_regenerate",
    "drafts_regenerate_request",
    "drafts_shown_record",
    "reference_data_changed",
    "reply_defaults_seed",
]

logger = logging.getLogger(__name__)

PROMPT_SHORTCUTS = 3

DRAFT_REGENERATION = queueing.Work(
    name="draft regeneration",
    task="copilot.replies.tasks.regenerate_drafts",
    model=DraftRegeneration,
    unfinished=Q(status=DraftRegeneration.Status.PENDING),
    extra_args=("generation",),
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
                earlier_messages(
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


# --- new drafts the card asked for -------------------------------------------------------------


def drafts_regenerate(*, message_id: int, generation: int) -> list[Draft]:
    """Makes the set of drafts the card asked for (drafts_regenerate_request) and answers the
    request. Safe to run twice: the second run returns the set the first one stored."""
    try:
        drafts = drafts_generate_for_message(message_id=message_id, generation=generation)
        # Answered even when no drafts could be made: a new try would meet the same error, and
        # the card may ask again.
        DraftRegeneration.objects.filter(
            message_id=message_id,
            generation=generation,
            status=DraftRegeneration.Status.PENDING,
        ).update(status=DraftRegeneration.Status.DONE, finished_at=timezone.now())
        return drafts
    finally:
        # Made or failed, the card may ask again. Never raises for the cache's sake.
        with contextlib.suppress(Exception):
            cache.delete(regenerate_key(message_id, generation))


def drafts_regenerate_request(*, message_id: int, requested_by: str = "") -> int:
    """Asks for a new set of drafts (the card's button); returns the generation to wait for.

    Clicking again before the new set exists asks for nothing more. The request is stored before
    its task is queued, so a broker that refuses it delays the new set (until the sweep queues
    it) but never loses it.
    """
    latest = Draft.objects.filter(message_id=message_id).aggregate(latest=Max("generation"))
    generation = 0 if latest["latest"] is None else latest["latest"] + 1
    if cache.add(regenerate_key(message_id, generation), requested_by or "card", timeout=300):
        now = timezone.now()
        DraftRegeneration.objects.update_or_create(
            message_id=message_id,
            defaults={
                "generation": generation,
                "requested_by": requested_by[:255],
                "status": DraftRegeneration.Status.PENDING,
                "requested_at": now,
                "finished_at": None,
                "needs_queueing": False,
                "task_at": now,
            },
        )
        queueing.enqueue_on_commit(DRAFT_REGENERATION, message_id, generation)
    return generation


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
