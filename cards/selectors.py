"""What the card shows about a conversation: the latest customer message's intent and drafts.

`insight_version` is what the card polls: a few indexed reads that change whenever anything
shown would (a new message, its prediction, the agent's verdict, a new set of drafts, feedback on
them), so an unchanged conversation costs a 304 and no rendering.
"""

import hashlib
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, Max, OuterRef, Subquery

from copilot.inbox.models import InboundMessage
from copilot.replies.models import Draft
from copilot.replies.selectors import MessageDrafts, drafts_for_message, regenerate_key
from intents import prediction as intent_prediction
from intents.models import IntentFeedback, Prediction, intent_display_name
from intents.selectors import IntentChoice, intent_choices

HIGH_CONFIDENCE = 0.8
MEDIUM_CONFIDENCE = 0.5
EXPLANATION_SECONDS = 24 * 3600
WHY_MAX_CHARS = 320
# Marked: the words weighing at least this much (the strongest weighs 1.0), at most this many.
WHY_MIN_WEIGHT = 0.35
WHY_MAX_SPANS = 4


def latest_message(conversation_id: str) -> InboundMessage | None:
    """The conversation's latest customer message, with what `insight_version` needs read in
    the same query (its drafts' latest generation, count and feedback; the agent's verdict)."""
    drafts = Draft.objects.filter(message_id=OuterRef("pk")).order_by().values("message_id")
    return (
        InboundMessage.objects.filter(conversation_id=conversation_id)
        .order_by("-received_at", "-id")
        .only(
            "id",
            "kustomer_message_id",
            "conversation_id",
            "customer_id",
            "channel",
            "text",
            "status",
            "prediction_id",
            "updated_at",
            "received_at",
        )
        .annotate(
            draft_generation=Subquery(drafts.annotate(v=Max("generation")).values("v")),
            draft_count=Subquery(drafts.annotate(v=Count("id")).values("v")),
            draft_feedback_at=Subquery(drafts.annotate(v=Max("feedback_at")).values("v")),
            verdict_at=Subquery(
                IntentFeedback.objects.filter(
                    kustomer_message_id=OuterRef("kustomer_message_id")
                ).values("updated_at")[:1]
            ),
        )
        .first()
    )


def insight_version(message: InboundMessage | None) -> str:
    """Changes whenever the intent or drafts the card shows for this message would. Takes a
    message read by `latest_message`: one query, and one cache read for a pending new set."""
    if message is None:
        return "none"
    generation = message.draft_generation
    next_generation = 0 if generation is None else generation + 1
    regenerating = cache.get(regenerate_key(message.id, next_generation)) is not None
    parts = (
        message.id,
        message.updated_at.isoformat(),
        message.prediction_id,
        generation,
        message.draft_count or 0,
        message.draft_feedback_at.isoformat() if message.draft_feedback_at else "",
        message.verdict_at.isoformat() if message.verdict_at else "",
        regenerating,
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Alternative:
    name: str
    display_name: str
    percent: int

    @property
    def percent_text(self) -> str:
        return f"{self.percent}%" if self.percent >= 1 else "<1%"


@dataclass(frozen=True)
class WhyPart:
    text: str
    marked: bool


@dataclass(frozen=True)
class IntentView:
    message: InboundMessage
    prediction: Prediction | None
    best: Alternative | None  # the model's best guess, also when it was not sure
    level: str  # "High", "Medium", "Low" or "Not sure"
    alternatives: tuple[Alternative, ...]
    why: tuple[WhyPart, ...]
    verdict: IntentFeedback | None
    choices: list[IntentChoice] = field(default_factory=list)

    @property
    def verdict_text(self) -> str:
        if self.verdict is None:
            return ""
        if self.verdict.intent is None:
            return "None of these intents"
        return self.verdict.intent.display_name


def _confidence_level(prediction: Prediction) -> str:
    if prediction.abstained or not prediction.intent:
        return "Not sure"
    if prediction.confidence >= HIGH_CONFIDENCE:
        return "High"
    if prediction.confidence >= MEDIUM_CONFIDENCE:
        return "Medium"
    return "Low"


def _alternative(name: str, probability: float) -> Alternative:
    return Alternative(name, intent_display_name(name), round(float(probability) * 100))


def _why(prediction: Prediction, intent: str) -> tuple[WhyPart, ...]:
    """The message with the words that weighed most for `intent` marked, cut around them."""
    key = f"card:why:{prediction.pk}:{intent}"
    spans = cache.get(key)
    if spans is None:
        try:
            found = intent_prediction.explain(prediction.text, intent).spans
            strongest = sorted(found, key=lambda span: -span.weight)[:WHY_MAX_SPANS]
            spans = [(s.start, s.end) for s in strongest if s.weight >= WHY_MIN_WEIGHT]
        except (ValueError, intent_prediction.NoActiveModel):
            spans = []  # the active model no longer knows it: show the text unmarked
        cache.set(key, spans, timeout=EXPLANATION_SECONDS)
    return _marked(prediction.text, spans)


def _marked(text: str, spans: list[tuple[int, int]]) -> tuple[WhyPart, ...]:
    start, end = 0, len(text)
    if len(text) > WHY_MAX_CHARS:
        first = min((s for s, _ in spans), default=0)
        start = max(0, min(first - 40, len(text) - WHY_MAX_CHARS))
        end = start + WHY_MAX_CHARS
    parts: list[WhyPart] = [WhyPart("…", False)] if start else []
    cursor = start
    for span_start, span_end in sorted(spans):
        span_start, span_end = max(span_start, cursor), min(span_end, end)
        if span_start >= span_end:
            continue
        if span_start > cursor:
            parts.append(WhyPart(text[cursor:span_start], False))
        parts.append(WhyPart(text[span_start:span_end], True))
        cursor = span_end
    if cursor < end:
        parts.append(WhyPart(text[cursor:end], False))
    if end < len(text):
        parts.append(WhyPart("…", False))
    return tuple(parts)


def intent_view(message: InboundMessage) -> IntentView:
    prediction = (
        Prediction.objects.filter(pk=message.prediction_id).first()
        if message.prediction_id
        else None
    )
    verdict = (
        IntentFeedback.objects.select_related("intent")
        .filter(kustomer_message_id=message.kustomer_message_id)
        .first()
    )
    if prediction is None:
        return IntentView(message, None, None, "", (), (), verdict)
    ranked = [_alternative(name, p) for name, p in prediction.top]
    best = ranked[0] if ranked else None
    return IntentView(
        message=message,
        prediction=prediction,
        best=best,
        level=_confidence_level(prediction),
        alternatives=tuple(ranked[1:3]),
        why=_why(prediction, best.name) if best else (),
        verdict=verdict,
        choices=intent_choices(),
    )


@dataclass(frozen=True)
class Insight:
    message: InboundMessage | None
    intent: IntentView | None
    drafts: MessageDrafts | None


def conversation_insight(message: InboundMessage | None, *, agent_name: str) -> Insight:
    """What the card shows of a message read by `latest_message`."""
    if message is None:
        return Insight(None, None, None)
    return Insight(
        message=message,
        intent=intent_view(message),
        drafts=drafts_for_message(message_id=message.id, agent_name=agent_name),
    )
