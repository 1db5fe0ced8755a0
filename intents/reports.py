"""What the training UI shows of the model and the data: versions (their confusions as a heat
map, side by side, the history of what was live), the overview's figures, the dataset's pages
and the intents' table."""

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from django.core.cache import cache
from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from . import suggestions
from .metrics import TrainingMetrics
from .models import (
    Intent,
    IntentChange,
    IntentFeedback,
    LabeledExample,
    ModelVersion,
    ModelVersionDataset,
    ModelVersionEvent,
    Prediction,
    text_fingerprint,
)
from .review import (
    labelling_queue_count,
    suspected_mislabels_count,
)
from .selectors import training_examples
from .training import training_data_hash

# --- Versions ----------------------------------------------------------------------------------


class ConfusedPair(NamedTuple):
    true_intent: str
    predicted_intent: str
    count: int
    share: float  # of the true intent's messages


# A heat map's cells and rows are dicts with attribute access: the template reads 40,000 cells
# for 200 intents, and Django's templates try a key before an attribute, so a dataclass costs
# a caught exception per lookup.
class HeatCell(dict):
    def __init__(
        self, count: int, share: float, level: int, diagonal: bool, column: str = ""
    ) -> None:
        # share: of the row's messages; level: 0 to 5, the cell's colour; column: the intent
        # the model said
        super().__init__(count=count, share=share, level=level, diagonal=diagonal, column=column)

    count = property(lambda self: self["count"])
    share = property(lambda self: self["share"])
    level = property(lambda self: self["level"])
    diagonal = property(lambda self: self["diagonal"])
    column = property(lambda self: self["column"])


class HeatRow(dict):
    def __init__(self, label: str, cells: list[HeatCell], support: int) -> None:
        super().__init__(label=label, cells=cells, support=support)

    label = property(lambda self: self["label"])
    cells = property(lambda self: self["cells"])
    support = property(lambda self: self["support"])


def confused_pairs(metrics: TrainingMetrics, *, limit: int = 10) -> list[ConfusedPair]:
    """The (true, predicted) pairs the model mixes up most often, most first."""
    labels = metrics.confusion_matrix.labels
    pairs = []
    for i, row in enumerate(metrics.confusion_matrix.matrix):
        total = sum(row)
        for j, count in enumerate(row):
            if i != j and count:
                pairs.append(ConfusedPair(labels[i], labels[j], count, count / total))
    pairs.sort(key=lambda pair: (-pair.count, -pair.share, pair.true_intent))
    return pairs[:limit]


# A heat map wider than this is read by nobody (and 200 intents make 40,000 cells, a second of
# rendering): beyond it, the map keeps the intents most mixed up with others.
HEAT_MAP_MAX_INTENTS = 30


def confusion_heat_map(
    metrics: TrainingMetrics, *, limit: int = HEAT_MAP_MAX_INTENTS
) -> list[HeatRow]:
    """The confusion matrix as rows of cells coloured by their share of the row; with more than
    `limit` intents, only the `limit` with the most messages mistaken (as or for another), in
    the matrix's order."""
    labels, matrix = metrics.confusion_matrix.labels, metrics.confusion_matrix.matrix
    kept = range(len(labels))
    if len(labels) > limit:
        confused = [
            sum(matrix[i]) - matrix[i][i] + sum(row[i] for row in matrix) - matrix[i][i]
            for i in range(len(labels))
        ]
        kept = sorted(sorted(kept, key=lambda i: -confused[i])[:limit])
    rows = []
    for i in kept:
        counts = matrix[i]
        total = sum(counts)
        cells = []
        for j in kept:
            count = counts[j]
            share = count / total if total else 0.0
            level = 0 if not count else min(5, 1 + int(share * 5))
            cells.append(HeatCell(count, share, level, i == j, labels[j]))
        rows.append(HeatRow(labels[i], cells, total))
    return rows


def model_versions_listed(*, limit: int = 50) -> list[ModelVersion]:
    """The latest versions, newest first, without their artifacts."""
    return list(ModelVersion.objects.defer("artifact").select_related("created_by")[:limit])


def model_version_by_number(number: int) -> ModelVersion | None:
    return ModelVersion.objects.defer("artifact").filter(number=number).first()


@dataclass(frozen=True)
class ConfusedExample:
    text: str
    said: str  # the intent the model took it for
    probability: float
    example_id: int | None  # today's example of this text, if there still is one
    label_now: str  # its intent today ("" without an example)


def confused_examples(
    version: ModelVersion, *, true_intent: str, predicted_intent: str
) -> list[ConfusedExample] | None:
    """The examples of `true_intent` that the version's evaluation took for `predicted_intent`
    (any other intent when it is empty), most confidently wrong first; None when the version
    was trained before they were kept."""
    dataset = ModelVersionDataset.objects.filter(version=version).only("confusions").first()
    if dataset is None or dataset.confusions is None:
        return None
    rows = [
        (text, said, probability)
        for text, label, said, probability in dataset.confusions
        if label == true_intent and (not predicted_intent or said == predicted_intent)
    ]
    rows.sort(key=lambda row: -row[2])
    today = {
        fingerprint: (example_id, intent)
        for fingerprint, example_id, intent in LabeledExample.objects.filter(
            text_sha256__in=[text_fingerprint(text) for text, _, _ in rows]
        ).values_list("text_sha256", "id", "intent__name")
    }
    return [
        ConfusedExample(text, said, probability, *today.get(text_fingerprint(text), (None, "")))
        for text, said, probability in rows
    ]


def labeller_names(labelled_by: set[str]) -> dict[str, str]:
    """Agents' names for the Kustomer ids examples keep as who labelled them (labels given in
    the card); staff usernames and import names are not in it."""
    rows = (
        IntentFeedback.objects.filter(agent_id__in=labelled_by - {""})
        .exclude(agent_name="")
        .order_by()
        .values_list("agent_id", "agent_name")
        .distinct()
    )
    return dict(rows)


def model_version_active() -> ModelVersion | None:
    return ModelVersion.objects.defer("artifact").filter(status=ModelVersion.Status.ACTIVE).first()


def _running() -> QuerySet[ModelVersion]:
    return ModelVersion.objects.defer("artifact").filter(
        status__in=[ModelVersion.Status.QUEUED, ModelVersion.Status.TRAINING]
    )


def model_versions_running() -> list[ModelVersion]:
    return list(_running())


def _challengers() -> QuerySet[ModelVersion]:
    # The active version's number alone: its metrics are 100 KB of JSON with 200 intents.
    active_number = (
        ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE)
        .values_list("number", flat=True)
        .first()
    )
    versions = ModelVersion.objects.defer("artifact").filter(status=ModelVersion.Status.READY)
    if active_number is not None:
        versions = versions.filter(number__gt=active_number)
    return versions


def model_version_challengers() -> list[ModelVersion]:
    """Trained versions newer than the active one, waiting for someone to promote them."""
    return list(_challengers())


def model_version_events(*, limit: int = 50) -> list[ModelVersionEvent]:
    """Who made which version live, when and why, newest first."""
    return list(
        ModelVersionEvent.objects.select_related(
            "version", "previous_version", "performed_by"
        ).defer("version__artifact", "previous_version__artifact")[:limit]
    )


def model_version_to_roll_back_to() -> ModelVersion | None:
    """The version that was live before the active one: the one its last promotion replaced,
    else the most recently active retired version."""
    active = model_version_active()
    if active is None:
        return None
    event = (
        ModelVersionEvent.objects.filter(version=active, previous_version__isnull=False)
        .select_related("previous_version")
        .first()
    )
    if event is not None and event.previous_version.status == ModelVersion.Status.RETIRED:
        return event.previous_version
    return (
        ModelVersion.objects.defer("artifact")
        .filter(status=ModelVersion.Status.RETIRED, activated_at__isnull=False)
        .exclude(pk=active.pk)
        .order_by("-activated_at")
        .first()
    )


# --- Overview ----------------------------------------------------------------------------------


class TrendPoint(NamedTuple):
    day: date
    confirmed: int  # "Right"
    total: int  # every verdict

    @property
    def accuracy(self) -> float:
        return self.confirmed / self.total if self.total else 0.0


def agent_confirmed_accuracy_trend(*, days: int = 30) -> list[TrendPoint]:
    """Per day of the last `days` (today included), the share of agents' verdicts that
    confirmed the model's intent."""
    first_day = timezone.localdate() - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(first_day, datetime.min.time()))
    rows = (
        IntentFeedback.objects.filter(updated_at__gte=since)
        .annotate(day=TruncDate("updated_at"))
        .values("day")
        .annotate(
            total=Count("id"),
            confirmed=Count("id", filter=Q(verdict=IntentFeedback.Verdict.RIGHT)),
        )
        .order_by("day")
    )
    return [TrendPoint(row["day"], row["confirmed"], row["total"]) for row in rows]


@dataclass(frozen=True)
class NavigationCounts:
    queue: int
    challengers: int
    running: int
    examples: int
    intents: int
    mislabels: int  # the active version's suspected mislabels still waiting for a person


def navigation_counts(*, user_id: int) -> NavigationCounts:
    """What waits on each page of the training UI."""
    return NavigationCounts(
        queue=labelling_queue_count(user_id=user_id),
        challengers=_challengers().count(),
        running=_running().count(),
        examples=LabeledExample.objects.count(),
        intents=Intent.objects.filter(active=True).count(),
        mislabels=suspected_mislabels_count(user_id=user_id),
    )


# --- Dataset -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExampleFilters:
    """The dataset page's filters, as they appear in its URL."""

    text: str = ""
    intent: str = ""
    source: str = ""
    status: str = ""
    labelled_by: str = ""
    labelled_from: date | None = None  # days in the current time zone, both included
    labelled_to: date | None = None
    held_out: str = ""  # "evaluation": in the frozen evaluation set; "training": not in it

    @property
    def active(self) -> bool:
        return any(getattr(self, field.name) for field in fields(self))


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def examples_filtered(filters: ExampleFilters) -> QuerySet[LabeledExample]:
    """The examples the filters select, newest first."""
    examples = LabeledExample.objects.select_related("intent").order_by("-id")
    if filters.text:
        examples = examples.filter(text__icontains=filters.text)
    if filters.intent:
        examples = examples.filter(intent__name=filters.intent)
    if filters.source:
        examples = examples.filter(source=filters.source)
    if filters.status:
        examples = examples.filter(status=filters.status)
    if filters.labelled_by:
        examples = examples.filter(labelled_by=filters.labelled_by)
    # A range of times rather than `labelled_at__date`, which the index on it cannot serve.
    if filters.labelled_from:
        examples = examples.filter(labelled_at__gte=_day_start(filters.labelled_from))
    if filters.labelled_to:
        examples = examples.filter(
            labelled_at__lt=_day_start(filters.labelled_to + timedelta(days=1))
        )
    if filters.held_out:
        examples = examples.filter(held_out_at__isnull=filters.held_out != "evaluation")
    return examples


@dataclass(frozen=True)
class ExamplePage:
    examples: list[LabeledExample]
    total: int
    next_before: int | None  # the keyset of the next page, None on the last one


def examples_page(
    *, filters: ExampleFilters, before: int | None = None, size: int = 50
) -> ExamplePage:
    """One page of the filtered examples, by keyset (ids below `before`), so that a page deep
    in 100,000 examples costs what the first one does."""
    examples = examples_filtered(filters)
    total = examples.count()
    if before is not None:
        examples = examples.filter(id__lt=before)
    rows = list(examples[: size + 1])
    next_before = rows[size - 1].id if len(rows) > size else None
    return ExamplePage(rows[:size], total, next_before)


def examples_exported(filters: ExampleFilters) -> Iterator[tuple]:
    """Every example the filters select (all pages), newest first, as (text, intent, source,
    status, labelled_by, labelled_at), read in chunks so that a large export streams."""
    return (
        examples_filtered(filters)
        .values_list("text", "intent__name", "source", "status", "labelled_by", "labelled_at")
        .iterator(chunk_size=2000)
    )


def model_version_dataset(version: ModelVersion) -> list[tuple[str, str]] | None:
    """The (text, intent) pairs the version was trained on, in training order, or None when
    they are not known.

    Versions keep them since they were first kept (`ModelVersionDataset`); for an older one,
    today's training data is its dataset only while its hash is still the version's."""
    kept = (
        ModelVersionDataset.objects.filter(version=version)
        .values_list("examples", flat=True)
        .first()
    )
    if kept is not None:
        return [(text, intent) for text, intent in kept]
    if not version.training_data_sha256:
        return None
    examples = training_examples()
    texts, labels = [text for text, _ in examples], [label for _, label in examples]
    if training_data_hash(texts, labels) != version.training_data_sha256:
        return None
    return examples


# --- Intents -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntentRow:
    intent: Intent
    trusted: int
    pending: int
    f1: float | None  # the active model's, None when it does not know the intent


def intents_overview() -> list[IntentRow]:
    """Every intent, active first, with its example counts and the active model's F1."""
    active = model_version_active()
    metrics = active.training_metrics if active is not None else None
    # Grouped in the order of the (status, intent) index: read from the index alone, without
    # hashing 100,000 rows (a third of the time of counting through a join on the intents).
    counts = {
        (row["status"], row["intent_id"]): row["count"]
        for row in LabeledExample.objects.order_by("status", "intent_id")
        .values("status", "intent_id")
        .annotate(count=Count("*"))
    }
    return [
        IntentRow(
            intent,
            counts.get((LabeledExample.Status.TRUSTED, intent.pk), 0),
            counts.get((LabeledExample.Status.PENDING_REVIEW, intent.pk), 0),
            metrics.per_intent[intent.name].f1
            if metrics and intent.name in metrics.per_intent
            else None,
        )
        for intent in Intent.objects.order_by("-active", "name")
    ]


def intent_changes(*, limit: int = 20) -> list[IntentChange]:
    """Who created, described, merged or retired which intent, newest first."""
    return list(IntentChange.objects.select_related("intent", "target", "performed_by")[:limit])


# --- Comparing two versions --------------------------------------------------------------------


@dataclass(frozen=True)
class IntentComparison:
    name: str
    base_f1: float | None
    other_f1: float | None
    base_support: int
    other_support: int

    @property
    def delta(self) -> float | None:
        if self.base_f1 is None or self.other_f1 is None:
            return None
        return self.other_f1 - self.base_f1


def model_versions_compared(base: ModelVersion, other: ModelVersion) -> list[IntentComparison]:
    """Each intent's F1 in two trained versions, the largest drop first, then intents only
    one of them knows."""
    base_scores = base.training_metrics.per_intent if base.training_metrics else {}
    other_scores = other.training_metrics.per_intent if other.training_metrics else {}
    rows = []
    for name in sorted(set(base_scores) | set(other_scores)):
        before, after = base_scores.get(name), other_scores.get(name)
        rows.append(
            IntentComparison(
                name,
                before.f1 if before else None,
                after.f1 if after else None,
                before.support if before else 0,
                after.support if after else 0,
            )
        )
    rows.sort(key=lambda row: (row.delta is None, row.delta if row.delta is not None else 0))
    return rows


# --- Predictions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PredictionVolume:
    intent: str  # empty: abstained
    count: int
    share: float  # of all predictions in the window


def predictions_by_intent(
    days: list["DailyPredictions"], *, limit: int = 12
) -> tuple[list[PredictionVolume], int]:
    """The most predicted intents over `days` (abstentions as intent "", listed last), and the
    total number of predictions."""
    totals = predictions_over(days)
    total = sum(totals.values())
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    volumes = [
        PredictionVolume(intent, count, count / total if total else 0.0) for intent, count in ranked
    ]
    abstained = [volume for volume in volumes if not volume.intent]
    named = [volume for volume in volumes if volume.intent][:limit]
    return named + abstained, total


@dataclass(frozen=True)
class DailyPredictions:
    day: date
    counts: dict[str, int]  # intent name -> predictions; "" for the messages the model abstained on

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def abstain_rate(self) -> float:
        return self.counts.get("", 0) / self.total if self.total else 0.0


def predictions_over(days: list[DailyPredictions]) -> Counter[str]:
    """The predictions per intent of all `days` together ("" for abstentions)."""
    totals: Counter[str] = Counter()
    for day in days:
        totals.update(day.counts)
    return totals


def _predictions_per_day_query(first: date, last: date) -> dict[date, dict[str, int]]:
    zone = timezone.get_current_timezone()
    since = timezone.make_aware(datetime.combine(first, time.min), zone)
    until = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min), zone)
    counts: dict[date, dict[str, int]] = {}
    rows = (
        Prediction.objects.filter(created_at__gte=since, created_at__lt=until)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values_list("day", "intent")
        .annotate(count=Count("id"))
        .order_by()
    )
    for day, intent, count in rows:
        counts.setdefault(day, {})[intent] = count
    return counts


# A day that is over is kept longer than the overview looks back.
_CLOSED_DAY_SECONDS = 40 * 24 * 3600


def predictions_per_day(*, days: int = 30) -> list[DailyPredictions]:
    """Each of the last `days` days (today included) with its predictions per intent.

    A day that is over never changes (predictions are stamped when made), so it is counted
    once and kept in the cache; only today is counted on every request."""
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    all_days = [first + timedelta(days=offset) for offset in range(days)]
    keys = {day: f"intents:predictions-per-day:{day.isoformat()}" for day in all_days[:-1]}
    cached = cache.get_many(list(keys.values()))
    counts = {day: cached[key] for day, key in keys.items() if key in cached}
    missing = [day for day in all_days[:-1] if day not in counts]
    if missing:
        found = _predictions_per_day_query(missing[0], missing[-1])
        for day in missing:
            counts[day] = found.get(day, {})
        cache.set_many({keys[day]: counts[day] for day in missing}, _CLOSED_DAY_SECONDS)
    counts[today] = _predictions_per_day_query(today, today).get(today, {})
    return [DailyPredictions(day, counts[day]) for day in all_days]


# --- Training runs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingLogEntry:
    at: datetime
    progress: float
    step: str


def training_log(version: ModelVersion) -> list[TrainingLogEntry]:
    """The run's steps as they began, with their times parsed for the template."""
    return [
        TrainingLogEntry(datetime.fromisoformat(entry["at"]), entry["progress"], entry["step"])
        for entry in version.training_log
    ]


# --- Suggested intents -------------------------------------------------------------------------


@dataclass(frozen=True)
class AbstainedMessage:
    prediction_id: int
    text: str
    created_at: datetime


def abstained_messages_state(*, days: int = 30) -> str:
    """Changes whenever `abstained_messages` may: a newer abstention, an example added, changed
    or deleted, a new day (the window moves). Two cheap aggregates instead of the messages."""
    since = timezone.now() - timedelta(days=days)
    latest = Prediction.objects.filter(abstained=True, created_at__gte=since).aggregate(
        latest=Max("id")
    )["latest"]
    # Apart, each is read from an index; together they read the whole table.
    count = LabeledExample.objects.count()
    newest = LabeledExample.objects.aggregate(newest=Max("id"))["newest"]
    changed = LabeledExample.objects.aggregate(changed=Max("labelled_at"))["changed"]
    changed = changed.isoformat() if changed else ""
    return f"{timezone.now():%Y%m%d}:{latest}:{count}:{newest}:{changed}"


def abstained_messages(*, days: int = 30, limit: int = 2000) -> list[AbstainedMessage]:
    """The most recent messages of the last `days` that the model abstained on, one per text,
    leaving out texts that are examples already (labelled since, from the queue or a group)."""
    since = timezone.now() - timedelta(days=days)
    rows = (
        Prediction.objects.filter(abstained=True, created_at__gte=since)
        .order_by("-created_at", "-id")
        .values_list("id", "text", "created_at")[: limit * 3]
    )
    latest: dict[str, AbstainedMessage] = {}
    for prediction_id, text, created_at in rows:
        fingerprint = text_fingerprint(text)
        if text.strip() and fingerprint not in latest:
            latest[fingerprint] = AbstainedMessage(prediction_id, text, created_at)
    labelled = set(
        LabeledExample.objects.filter(text_sha256__in=list(latest)).values_list(
            "text_sha256", flat=True
        )
    )
    unlabelled = [message for key, message in latest.items() if key not in labelled]
    return unlabelled[:limit]


# Abstained messages of this many days are grouped, at most this many of them.
SUGGESTION_DAYS = 30
SUGGESTION_LIMIT = 2000
_SUGGESTION_CACHE_SECONDS = 10 * 60


def _suggested_groups_key() -> str:
    return f"intents:suggested-groups:{abstained_messages_state(days=SUGGESTION_DAYS)}"


def suggested_intent_groups() -> list[dict]:
    """The groups of the abstained messages, each with its messages; cached for as long as no
    message was abstained on and no example changed since, since reading and grouping 2,000
    messages takes a second."""
    cache_key = _suggested_groups_key()
    groups = cache.get(cache_key)
    if groups is None:
        abstained = abstained_messages(days=SUGGESTION_DAYS, limit=SUGGESTION_LIMIT)
        found = suggestions.suggest_groups([message.text for message in abstained])
        groups = [
            {
                "name": group.name,
                "keywords": group.keywords,
                "messages": [abstained[index] for index in group.members],
            }
            for group in found
        ]
        cache.set(cache_key, groups, _SUGGESTION_CACHE_SECONDS)
    return groups


def suggested_intent_groups_if_ready() -> list[dict] | None:
    """The groups if they were grouped since the last change, else None: the overview counts
    them without paying for the grouping."""
    return cache.get(_suggested_groups_key())
