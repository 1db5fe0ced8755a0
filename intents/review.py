"""What the labelling queue of the training UI reads: what most needs a person first (agents'
feedback to review, agents and the model disagreeing, the model least sure), one item at a time."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Exists, FloatField, OuterRef, Q, QuerySet, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce

from .models import (
    IntentFeedback,
    LabelDecision,
    LabeledExample,
    Prediction,
    intent_display_name,
    text_fingerprint,
)
from .selectors import (
    active_model_version_id,
    intent_feedback_for_message,
    latest_prediction_for_message,
)

# --- The training UI ---------------------------------------------------------------------------

# The labelling queue shows a prediction only when the model's top two intents are this close.
UNSURE_MARGIN = 0.5
_DISAGREEMENTS = [IntentFeedback.Verdict.CORRECTED, IntentFeedback.Verdict.NONE_OF_THESE]


@dataclass(frozen=True)
class QueueChoice:
    """An intent offered on a queue item, with the key that picks it."""

    key: int
    name: str
    display_name: str
    probability: float | None
    note: str  # "model", "agent", "label": where the choice comes from


@dataclass(frozen=True)
class Statement:
    """Who said what about a message: an agent, the model, the dataset."""

    who: str
    said: str
    when: datetime | None


@dataclass(frozen=True)
class QueueItem:
    """One message that waits for a person, with everything needed to label it."""

    kind: str
    item_id: int
    text: str
    reason: str
    suggestion: str | None  # what Enter accepts
    choices: list[QueueChoice]
    statements: list[Statement]
    kustomer_message_id: str = ""
    kustomer_conversation_id: str = ""
    margin: float | None = None
    top: list[tuple[str, str, float]] = field(default_factory=list)  # name, display, probability

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.item_id}"


def queue_key_parse(key: str) -> tuple[str, int] | None:
    """ "example:12" → ("example", 12); None for anything else."""
    kind, _, item_id = key.partition(":")
    if kind not in LabelDecision.Kind.values or not item_id.isdigit():
        return None
    return kind, int(item_id)


def _decided(*, user_id: int) -> Q:
    """Decisions that take an item out of this user's queue: labels by anyone, own skips."""
    return Q(undone_at__isnull=True) & (
        ~Q(action=LabelDecision.Action.SKIP) | Q(decided_by=user_id)
    )


def _decided_message_ids(user_id: int) -> QuerySet:
    return (
        LabelDecision.objects.filter(_decided(user_id=user_id))
        .exclude(kustomer_message_id="")
        .values("kustomer_message_id")
    )


def _pending_examples(user_id: int) -> QuerySet[LabeledExample]:
    skipped = LabelDecision.objects.filter(
        kind=LabelDecision.Kind.EXAMPLE,
        item_id=OuterRef("pk"),
        action=LabelDecision.Action.SKIP,
        decided_by=user_id,
        undone_at__isnull=True,
    )
    return (
        LabeledExample.objects.filter(status=LabeledExample.Status.PENDING_REVIEW)
        .exclude(Exists(skipped))
        .order_by("labelled_at", "id")
    )


def _disagreements(user_id: int) -> QuerySet[IntentFeedback]:
    """Agents' corrections and "none of these" that no pending example carries and no one has
    decided on yet."""
    pending = LabeledExample.objects.filter(
        status=LabeledExample.Status.PENDING_REVIEW,
        kustomer_message_id=OuterRef("kustomer_message_id"),
    )
    return (
        IntentFeedback.objects.filter(verdict__in=_DISAGREEMENTS)
        .exclude(Exists(pending))
        .exclude(kustomer_message_id__in=_decided_message_ids(user_id))
        .select_related("intent", "prediction__model_version")
        .order_by("updated_at", "id")
    )


def _unsure_predictions(user_id: int, version_id: int) -> QuerySet[Prediction]:
    """The active model's predictions on messages no agent gave feedback on, least sure first."""
    feedback = IntentFeedback.objects.filter(kustomer_message_id=OuterRef("kustomer_message_id"))
    return (
        Prediction.objects.filter(model_version_id=version_id)
        .exclude(kustomer_message_id="")
        .exclude(Exists(feedback))
        .exclude(kustomer_message_id__in=_decided_message_ids(user_id))
        .annotate(
            margin=Cast(KT("top__0__1"), FloatField())
            - Coalesce(Cast(KT("top__1__1"), FloatField()), Value(0.0))
        )
        .filter(margin__lt=UNSURE_MARGIN)
        .select_related("model_version")
        .order_by("margin", "id")
    )


def _known_fingerprints(texts: list[str]) -> dict[str, str]:
    """Fingerprint → intent name of the texts already in the dataset."""
    fingerprints = [text_fingerprint(text) for text in texts]
    return dict(
        LabeledExample.objects.filter(text_sha256__in=fingerprints).values_list(
            "text_sha256", "intent__name"
        )
    )


def labelling_queue(
    *, user_id: int, limit: int = 2, exclude: frozenset[str] = frozenset()
) -> list[QueueItem]:
    """What most needs a person, first first: agent feedback awaiting review, then agents'
    disagreements with the model, then the active model's least sure predictions (smallest
    margin between its top two intents). Items in `exclude` ("kind:id") are left out."""
    items: list[QueueItem] = []
    excluded: dict[str, set[int]] = {kind: set() for kind in LabelDecision.Kind.values}
    for parsed in filter(None, map(queue_key_parse, exclude)):
        excluded[parsed[0]].add(parsed[1])
    examples = _pending_examples(user_id).select_related("intent")
    excluded_ids = excluded[LabelDecision.Kind.EXAMPLE]
    for example in examples.exclude(id__in=excluded_ids)[:limit]:
        items.append(_example_item(example))
    if len(items) >= limit:
        return items
    excluded_ids = excluded[LabelDecision.Kind.FEEDBACK]
    feedback_rows = list(_disagreements(user_id).exclude(id__in=excluded_ids)[: limit * 5])
    texts = {row.id: _feedback_text(row) for row in feedback_rows}
    known = _known_fingerprints([text for text in texts.values() if text])
    for row in feedback_rows:
        text = texts[row.id]
        if not text:
            continue
        # The dataset already says what the agent says: nothing left to decide.
        if row.intent is not None and known.get(text_fingerprint(text)) == row.intent.name:
            continue
        items.append(_feedback_item(row, text, known.get(text_fingerprint(text))))
        if len(items) >= limit:
            return items
    version_id = active_model_version_id()
    if version_id is None:
        return items
    excluded_ids = excluded[LabelDecision.Kind.PREDICTION]
    predictions = _unsure_predictions(user_id, version_id).exclude(id__in=excluded_ids)
    seen: set[str] = set()
    # Predictions whose text is already labelled are passed over, a chunk at a time.
    for start in range(0, 2000, 100):
        chunk = list(predictions[start : start + 100])
        known = _known_fingerprints([row.text for row in chunk])
        for row in chunk:
            fingerprint = text_fingerprint(row.text)
            if fingerprint in known or fingerprint in seen:
                continue
            seen.add(fingerprint)
            items.append(_prediction_item(row))
            if len(items) >= limit:
                return items
        if len(chunk) < 100:
            break
    return items


def labelling_queue_item(*, key: str) -> QueueItem | None:
    """One queue item by its key, whatever its place in the queue (after an undo, say)."""
    parsed = queue_key_parse(key)
    if parsed is None:
        return None
    kind, item_id = parsed
    if kind == LabelDecision.Kind.EXAMPLE:
        example = LabeledExample.objects.select_related("intent").filter(pk=item_id).first()
        return _example_item(example) if example is not None else None
    if kind == LabelDecision.Kind.FEEDBACK:
        row = (
            IntentFeedback.objects.select_related("intent", "prediction__model_version")
            .filter(pk=item_id)
            .first()
        )
        text = _feedback_text(row) if row is not None else ""
        if not text:
            return None
        return _feedback_item(row, text, _known_fingerprints([text]).get(text_fingerprint(text)))
    row = Prediction.objects.select_related("model_version").filter(pk=item_id).first()
    return _prediction_item(row) if row is not None else None


def labelling_queue_count(*, user_id: int) -> int:
    """How many items wait for a review: pending examples and open disagreements (the
    model's unsure predictions are not counted: there are always some)."""
    return _pending_examples(user_id).count() + _open_disagreements_count(user_id)


def _open_disagreements_count(user_id: int) -> int:
    """Disagreements the dataset does not already settle (the agent's intent is the label its
    text has), counted as the queue shows them."""
    rows = list(_disagreements(user_id).values_list("prediction__text", "intent__name"))
    count = 0
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        known = _known_fingerprints([text for text, _ in chunk if text])
        count += sum(
            1
            for text, intent in chunk
            if text and not (intent is not None and known.get(text_fingerprint(text)) == intent)
        )
    return count


def _feedback_text(feedback: IntentFeedback) -> str:
    prediction = feedback.prediction or latest_prediction_for_message(feedback.kustomer_message_id)
    return prediction.text if prediction is not None else ""


def _top(prediction: Prediction | None) -> list[tuple[str, str, float]]:
    if prediction is None:
        return []
    return [(name, intent_display_name(name), float(p)) for name, p in prediction.top[:3]]


def _choices(top: list[tuple[str, str, float]], *others: tuple[str, str]) -> list[QueueChoice]:
    """The model's top 3 with their probabilities, then the other intents people gave."""
    choices: list[QueueChoice] = []
    names: set[str] = set()
    for name, display_name, probability in top:
        choices.append(QueueChoice(len(choices) + 1, name, display_name, probability, "model"))
        names.add(name)
    for name, note in others:
        if name and name not in names and len(choices) < 9:
            choices.append(
                QueueChoice(len(choices) + 1, name, intent_display_name(name), None, note)
            )
            names.add(name)
    return choices


def _model_statement(prediction: Prediction | None) -> list[Statement]:
    if prediction is None:
        return []
    version = f"Model v{prediction.model_version.number}"
    if prediction.abstained or not prediction.intent:
        said = "was not sure enough to name an intent"
        if prediction.top:
            said += f" (best guess {intent_display_name(prediction.top[0][0])}, "
            said += f"{prediction.top[0][1]:.0%})"
    else:
        said = f"{intent_display_name(prediction.intent)} ({prediction.confidence:.0%})"
    return [Statement(version, said, prediction.created_at)]


def _feedback_statement(feedback: IntentFeedback | None) -> list[Statement]:
    if feedback is None:
        return []
    who = f"Agent {feedback.agent_name or feedback.agent_id}"
    if feedback.verdict == IntentFeedback.Verdict.NONE_OF_THESE:
        said = "None of these intents"
    elif feedback.verdict == IntentFeedback.Verdict.RIGHT:
        said = f"{feedback.intent.display_name} (confirmed the model)"
    else:
        said = f"{feedback.intent.display_name} (corrected the model)"
    return [Statement(who, said, feedback.updated_at)]


def _example_item(example: LabeledExample) -> QueueItem:
    prediction = (
        latest_prediction_for_message(example.kustomer_message_id)
        if example.kustomer_message_id
        else None
    )
    if prediction is not None:
        prediction = Prediction.objects.select_related("model_version").get(pk=prediction.pk)
    feedback = (
        intent_feedback_for_message(example.kustomer_message_id)
        if example.kustomer_message_id
        else None
    )
    top = _top(prediction)
    statements = _feedback_statement(feedback) + _model_statement(prediction)
    if feedback is None:
        statements.append(
            Statement(
                example.labelled_by or example.get_source_display(),
                example.intent.display_name,
                example.labelled_at,
            )
        )
    return QueueItem(
        kind=LabelDecision.Kind.EXAMPLE,
        item_id=example.id,
        text=example.text,
        reason="Agent feedback awaiting review"
        if example.source == LabeledExample.Source.AGENT_FEEDBACK
        else "Label awaiting review",
        suggestion=example.intent.name,
        choices=_choices(top, (example.intent.name, "agent")),
        statements=statements,
        kustomer_message_id=example.kustomer_message_id,
        kustomer_conversation_id=example.kustomer_conversation_id,
        top=top,
    )


def _feedback_item(feedback: IntentFeedback, text: str, dataset_intent: str | None) -> QueueItem:
    prediction = feedback.prediction
    top = _top(prediction)
    statements = _feedback_statement(feedback) + _model_statement(prediction)
    if dataset_intent:
        statements.append(Statement("Dataset", intent_display_name(dataset_intent), None))
    agent_intent = feedback.intent.name if feedback.intent is not None else ""
    suggestion = agent_intent or (top[0][0] if top else None)
    return QueueItem(
        kind=LabelDecision.Kind.FEEDBACK,
        item_id=feedback.id,
        text=text,
        reason="Agent and model disagree",
        suggestion=suggestion,
        choices=_choices(top, (agent_intent, "agent"), (dataset_intent or "", "dataset")),
        statements=statements,
        kustomer_message_id=feedback.kustomer_message_id,
        kustomer_conversation_id=feedback.kustomer_conversation_id,
        top=top,
    )


def _prediction_item(prediction: Prediction) -> QueueItem:
    top = _top(prediction)
    margin = top[0][2] - (top[1][2] if len(top) > 1 else 0.0) if top else None
    return QueueItem(
        kind=LabelDecision.Kind.PREDICTION,
        item_id=prediction.id,
        text=prediction.text,
        reason="The model was unsure"
        + (f" ({margin:.0%} between its top two)" if margin is not None else ""),
        suggestion=top[0][0] if top else None,
        choices=_choices(top),
        statements=_model_statement(prediction),
        kustomer_message_id=prediction.kustomer_message_id,
        kustomer_conversation_id=prediction.kustomer_conversation_id,
        margin=margin,
        top=top,
    )


def label_decision_last(*, user_id: int) -> LabelDecision | None:
    """The user's latest decision that can still be undone."""
    return (
        LabelDecision.objects.filter(decided_by=user_id, undone_at__isnull=True)
        .order_by("-decided_at", "-id")
        .first()
    )


def label_decisions_count_since(*, user_id: int, since: datetime) -> int:
    return LabelDecision.objects.filter(
        decided_by=user_id, decided_at__gte=since, undone_at__isnull=True
    ).count()
