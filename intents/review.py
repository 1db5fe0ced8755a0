"""What the labelling queue of the training UI reads: what most needs a person first (agents'
feedback to review, agents and the model disagreeing, examples the model suspects are
mislabelled, the model least sure), one item at a time."""

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Exists, FloatField, OuterRef, Q, QuerySet, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce

from copilot.inbox.models import InboundMessage

from .models import (
    Intent,
    IntentFeedback,
    LabelDecision,
    LabeledExample,
    ModelVersion,
    ModelVersionDataset,
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
# A trusted example the active model, trained without it, says is mislabelled (the label_issues
# of the version's dataset, see intents.label_issues). It is a kind of queue item but not of
# decision: a decision on it is one on its example (LabelDecision.Kind.EXAMPLE), with the
# history and undo every change of an example has.
MISLABEL = "mislabel"
QUEUE_KINDS = (*LabelDecision.Kind.values, MISLABEL)
# A version's large fields (a 200-intent confusion matrix is 100 KB of JSON), which a queue item
# never reads: it names the version by its number.
_VERSION_HEAVY = (
    "model_version__metrics",
    "model_version__artifact",
    "model_version__training_log",
)


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
    current_label: str | None = None  # a suspected mislabel's label, which a person may keep

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.item_id}"

    @property
    def conversation(self) -> list["ContextMessage"]:
        """The customer's other messages around this one, read when the template shows them."""
        return conversation_context(
            conversation_id=self.kustomer_conversation_id, message_id=self.kustomer_message_id
        )


@dataclass(frozen=True)
class ContextMessage:
    text: str
    when: datetime | None
    is_this: bool  # the message being labelled


def conversation_context(
    *, conversation_id: str, message_id: str, limit: int = 6
) -> list[ContextMessage]:
    """The customer's messages in the conversation, oldest first, the last `limit` up to and
    just after the one being labelled; empty when it is the only one, since the message alone
    is shown already. A message often makes sense only after the one before it ("yes, that
    one")."""
    if not conversation_id:
        return []
    rows = list(
        InboundMessage.objects.filter(conversation_id=conversation_id)
        .order_by("received_at", "id")
        .values_list("kustomer_message_id", "text", "sent_at", "received_at")
    )
    if len(rows) < 2:
        return []
    at = next((i for i, row in enumerate(rows) if row[0] == message_id), len(rows) - 1)
    window = rows[max(0, at + 2 - limit) : at + 2]
    return [
        ContextMessage(text, sent_at or received_at, kustomer_id == message_id)
        for kustomer_id, text, sent_at, received_at in window
    ]


def queue_key_parse(key: str) -> tuple[str, int] | None:
    """ "example:12" → ("example", 12); None for anything else."""
    kind, _, item_id = key.partition(":")
    if kind not in QUEUE_KINDS or not item_id.isdigit():
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
        .defer(*(f"prediction__{name}" for name in _VERSION_HEAVY))
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
        .defer(*_VERSION_HEAVY)
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
    disagreements with the model, then the examples the active model suspects are mislabelled
    (least self-confident first), then its least sure predictions (smallest margin between its
    top two intents). Items in `exclude` ("kind:id") are left out.

    Suspected mislabels come after what agents said, which is fresh and about live traffic,
    and before unsure predictions, which never run out."""
    items: list[QueueItem] = []
    excluded: dict[str, set[int]] = {kind: set() for kind in QUEUE_KINDS}
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
    for suspect in _suspected_mislabels(
        user_id, limit=limit - len(items), exclude=excluded[MISLABEL]
    ):
        items.append(_mislabel_item(suspect))
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
    if kind in (LabelDecision.Kind.EXAMPLE, MISLABEL):
        example = LabeledExample.objects.select_related("intent").filter(pk=item_id).first()
        if example is None:
            return None
        if example.status == LabeledExample.Status.PENDING_REVIEW:
            return _example_item(example)
        # A trusted example is in the queue only as a suspected mislabel (an undone decision
        # on it is an "example" decision, hence both kinds); one changed on the dataset page
        # is not a queue item at all.
        suspect = _suspected_mislabel(example)
        return _mislabel_item(suspect) if suspect is not None else None
    if kind == LabelDecision.Kind.FEEDBACK:
        row = (
            IntentFeedback.objects.select_related("intent", "prediction__model_version")
            .defer(*(f"prediction__{name}" for name in _VERSION_HEAVY))
            .filter(pk=item_id)
            .first()
        )
        text = _feedback_text(row) if row is not None else ""
        if not text:
            return None
        return _feedback_item(row, text, _known_fingerprints([text]).get(text_fingerprint(text)))
    row = (
        Prediction.objects.select_related("model_version")
        .defer(*_VERSION_HEAVY)
        .filter(pk=item_id)
        .first()
    )
    return _prediction_item(row) if row is not None else None


def labelling_queue_count(*, user_id: int) -> int:
    """How many items wait for a review: pending examples and open disagreements (the
    model's unsure predictions are not counted: there are always some)."""
    return _pending_examples(user_id).count() + _open_disagreements_count(user_id)


def suspected_mislabels_count(*, user_id: int) -> int:
    """How many examples the active model suspects are mislabelled still wait for a person."""
    found = _active_label_issues()
    return len(_suspected_mislabel_ids(user_id, found)) if found else 0


@dataclass(frozen=True)
class _SuspectedMislabel:
    example: LabeledExample
    issue: dict  # an entry of the version's dataset's label_issues
    version_number: int
    trained_at: datetime | None


def _active_label_issues() -> tuple[int, datetime | None, list[dict]] | None:
    """The active version's number, when it was trained and its suspected mislabels."""
    row = (
        ModelVersionDataset.objects.filter(version__status=ModelVersion.Status.ACTIVE)
        .values_list("version__number", "version__trained_at", "label_issues")
        .first()
    )
    if row is None or not row[2]:
        return None
    return row


def _suspected_mislabel_ids(user_id: int, found: tuple) -> list[tuple[int, dict]]:
    """The ids of the active version's suspected mislabels that still need a person, each with
    its issue, in the version's order: the example is still trusted, of an active intent, and
    unchanged since the version was trained (same label, not relabelled since), no one has
    decided on it (a label given or kept by anyone, or this user's skip, not undone; a decision
    on an example, such as a review or a relabel on the dataset page, means a person chose its
    label), and the suggested intent is still active. Ids only: every page counts them."""
    _, trained_at, issues = found
    by_fingerprint = {issue["text_sha256"]: issue for issue in issues}
    decided = LabelDecision.objects.filter(
        _decided(user_id=user_id), kind=LabelDecision.Kind.EXAMPLE, item_id=OuterRef("pk")
    )
    # A label a person gave from any queue item (an unsure prediction, a disagreement) is
    # linked to the example it made or changed: that person chose the label too.
    labelled = LabelDecision.objects.filter(example=OuterRef("pk"), undone_at__isnull=True).exclude(
        action=LabelDecision.Action.SKIP
    )
    examples = (
        LabeledExample.objects.filter(
            text_sha256__in=list(by_fingerprint),
            status=LabeledExample.Status.TRUSTED,
            intent__active=True,
        )
        .exclude(Exists(decided))
        .exclude(Exists(labelled))
    )
    if trained_at is not None:
        examples = examples.filter(labelled_at__lte=trained_at)
    active = set(Intent.objects.filter(active=True).values_list("name", flat=True))
    rank = {fingerprint: position for position, fingerprint in enumerate(by_fingerprint)}
    suspects = [
        (rank[fingerprint], example_id, by_fingerprint[fingerprint])
        for example_id, fingerprint, label in examples.values_list(
            "id", "text_sha256", "intent__name"
        )
        if label == by_fingerprint[fingerprint]["label"]
        and by_fingerprint[fingerprint]["suggestion"] in active
    ]
    return [(example_id, issue) for _, example_id, issue in sorted(suspects, key=lambda s: s[0])]


def _suspected_mislabels(
    user_id: int, *, limit: int, exclude: Collection[int] = ()
) -> list[_SuspectedMislabel]:
    """The first `limit` suspected mislabels that need a person (`_suspected_mislabel_ids`),
    leaving out the examples in `exclude`."""
    found = _active_label_issues()
    if found is None:
        return []
    number, trained_at, _ = found
    wanted = [pair for pair in _suspected_mislabel_ids(user_id, found) if pair[0] not in exclude]
    wanted = wanted[:limit]
    examples = LabeledExample.objects.select_related("intent").in_bulk([pk for pk, _ in wanted])
    return [
        _SuspectedMislabel(examples[pk], issue, number, trained_at)
        for pk, issue in wanted
        if pk in examples
    ]


def _suspected_mislabel(example: LabeledExample) -> _SuspectedMislabel | None:
    """The example as the active version's suspected mislabel, if it is one with its label."""
    found = _active_label_issues()
    if found is None:
        return None
    number, trained_at, issues = found
    for issue in issues:
        if issue["text_sha256"] == example.text_sha256 and issue["label"] == example.intent.name:
            return _SuspectedMislabel(example, issue, number, trained_at)
    return None


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
        prediction = (
            Prediction.objects.select_related("model_version")
            .defer(*_VERSION_HEAVY)
            .get(pk=prediction.pk)
        )
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


def _mislabel_item(suspect: _SuspectedMislabel) -> QueueItem:
    example, issue = suspect.example, suspect.issue
    label = example.intent.name
    top = [(name, intent_display_name(name), float(p)) for name, p in issue["top"]]
    suggestion = issue["suggestion"]
    said = f"{intent_display_name(suggestion)} ({issue['suggestion_probability']:.0%})"
    # The label is always a choice, with its probability, so that keeping it is one key away.
    choices = list(top)
    if label not in {name for name, _, _ in top}:
        choices.append((label, intent_display_name(label), float(issue["label_probability"])))
    return QueueItem(
        kind=MISLABEL,
        item_id=example.id,
        text=example.text,
        reason=f"Labelled {intent_display_name(label)}, but the model, trained without it, "
        f"says {said}",
        suggestion=suggestion,
        choices=_choices(choices),
        statements=[
            Statement(
                example.labelled_by or f"Dataset ({example.get_source_display().lower()})",
                intent_display_name(label),
                example.labelled_at,
            ),
            Statement(
                f"Model v{suspect.version_number}, trained without it",
                f"{said}; {intent_display_name(label)} {issue['label_probability']:.0%}",
                suspect.trained_at,
            ),
        ],
        kustomer_message_id=example.kustomer_message_id,
        kustomer_conversation_id=example.kustomer_conversation_id,
        top=top,
        current_label=label,
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
