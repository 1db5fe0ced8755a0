"""Two versions scored on the same messages: the frozen evaluation set.

A version's own figures come from the examples it held out while training, which differ from
one version to the next as the dataset grows, so they cannot settle which version is better.
The evaluation set (examples with `held_out_at`, never trained on once frozen) can: both
versions predict its messages, and the figures are computed the same way as training's
(`intents.metrics.evaluate`). The set only grows, on purpose, one numbered revision at a time
(`EvaluationSetRevision`): a comparison names the revision it used and can use an earlier one.
Results are cached per version and set, since a version's predictions on a given set never
change.
"""

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db.models import Count, Max, Min

from .artifacts import ArtifactError
from .metrics import TrainingMetrics, evaluate
from .models import EvaluationSetRevision, Intent, LabeledExample, ModelVersion
from .prediction import load_model_version
from .reports import IntentComparison

_CACHE_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class EvaluationSet:
    size: int
    intents: int
    first_frozen_at: datetime | None
    last_frozen_at: datetime | None
    revisions: list[EvaluationSetRevision]  # newest first

    @property
    def revision(self) -> int | None:
        """The current revision's number."""
        return self.revisions[0].number if self.revisions else None


@dataclass(frozen=True)
class EvaluationComparison:
    size: int  # messages both versions were scored on
    left_out: int  # messages of intents one of the two versions does not know
    base: TrainingMetrics
    other: TrainingMetrics
    rows: list[IntentComparison]
    seen: list[int]  # versions trained after some of the set was already in their data
    revision: int | None  # the evaluation set's revision both were scored on
    # Active intents of the set that the base version answers and the other no longer knows,
    # with their messages in the set: what the other would lose.
    dropped: tuple[tuple[str, int], ...] = ()


def evaluation_set() -> EvaluationSet:
    summary = LabeledExample.objects.filter(held_out_at__isnull=False).aggregate(
        size=Count("id"),
        intents=Count("intent", distinct=True),
        first=Min("held_out_at"),
        last=Max("held_out_at"),
    )
    return EvaluationSet(
        summary["size"],
        summary["intents"],
        summary["first"],
        summary["last"],
        evaluation_set_revisions(),
    )


def evaluation_set_revisions() -> list[EvaluationSetRevision]:
    """Every revision of the set, newest first."""
    return list(EvaluationSetRevision.objects.select_related("created_by"))


def evaluation_set_revision_current() -> int | None:
    return (
        EvaluationSetRevision.objects.order_by("-number").values_list("number", flat=True).first()
    )


def _evaluation_examples(revision: int | None) -> list[tuple[int, str, str, datetime]]:
    """The frozen set as (id, text, intent name, frozen at), in a stable order: as it is, or
    as it was with revision `revision`."""
    examples = LabeledExample.objects.filter(held_out_at__isnull=False)
    if revision is not None:
        examples = examples.filter(held_out_in__number__lte=revision)
    return list(examples.order_by("id").values_list("id", "text", "intent__name", "held_out_at"))


def _scores(version: ModelVersion, classifier, texts: list[str], labels: list[str], key: str):
    cache_key = f"intents:evaluation:{version.pk}:{version.artifact_sha256}:{key}"
    metrics = cache.get(cache_key)
    if metrics is None:
        metrics = evaluate(classifier, texts, labels)
        cache.set(cache_key, metrics, _CACHE_SECONDS)
    return metrics


def versions_compared_on_evaluation_set(
    base: ModelVersion, other: ModelVersion, *, revision: int | None = None
) -> EvaluationComparison | None:
    """Both versions on the frozen set's messages whose intent both know (of revision
    `revision`, the current one when None), or None when there is no set, a version has no
    artifact, or no message is left to score."""
    revision = revision or evaluation_set_revision_current()
    examples = _evaluation_examples(revision)
    if not examples:
        return None
    try:
        loaded = [load_model_version(version.pk).classifier for version in (base, other)]
    except (ArtifactError, ModelVersion.DoesNotExist):
        return None
    known = set(loaded[0].labels) & set(loaded[1].labels)
    scored = [row for row in examples if row[2] in known]
    if not scored:
        return None
    texts = [text for _, text, _, _ in scored]
    labels = [label for _, _, label, _ in scored]
    key = hashlib.sha256(
        "\n".join(f"{example_id}:{label}" for example_id, _, label, _ in scored).encode()
    ).hexdigest()
    base_metrics, other_metrics = (
        _scores(version, classifier, texts, labels, key)
        for version, classifier in zip((base, other), loaded, strict=True)
    )
    first_frozen = min(held_out_at for *_, held_out_at in scored)
    # A version trained after some examples were frozen never saw those, but one trained
    # before the freeze may have trained on any of them.
    seen = [
        version.number
        for version in (base, other)
        if version.trained_at is not None and version.trained_at < first_frozen
    ]
    rows = []
    for name in sorted(known & set(labels)):
        before, after = base_metrics.per_intent.get(name), other_metrics.per_intent.get(name)
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
    lost = set(loaded[0].labels) - set(loaded[1].labels)
    active = set(Intent.objects.filter(name__in=lost, active=True).values_list("name", flat=True))
    in_set = Counter(label for _, _, label, _ in examples)
    dropped = tuple((name, in_set[name]) for name in sorted(active) if in_set[name])
    return EvaluationComparison(
        dropped=dropped,
        size=len(scored),
        left_out=len(examples) - len(scored),
        base=base_metrics,
        other=other_metrics,
        rows=rows,
        seen=seen,
        revision=revision,
    )


def version_on_evaluation_set(version: ModelVersion) -> dict:
    """One version's figures on the frozen set's messages of the intents it knows, as stored
    in `ModelVersion.evaluation` with the set's revision; empty when there is no set or no
    artifact."""
    revision = evaluation_set_revision_current()
    examples = _evaluation_examples(revision)
    if not examples:
        return {}
    try:
        classifier = load_model_version(version.pk).classifier
    except ArtifactError:
        return {}
    known = set(classifier.labels)
    scored = [(text, label) for _, text, label, _ in examples if label in known]
    if not scored:
        return {}
    metrics = evaluate(classifier, [text for text, _ in scored], [label for _, label in scored])
    return {
        "revision": revision,
        "size": len(scored),
        "set_size": len(examples),
        "accuracy": metrics.accuracy,
        "macro_f1": metrics.macro_f1,
    }


@dataclass(frozen=True)
class PromotionVerdict:
    promote: bool
    reason: str  # a sentence, shown on the version's page either way


def promotion_verdict(
    comparison: EvaluationComparison | None,
    *,
    macro_f1_tolerance: float,
    intent_f1_tolerance: float,
) -> PromotionVerdict:
    """Whether the challenger (`comparison.other`) is at least as good as the live version
    (`comparison.base`) on the frozen evaluation set: its macro-F1 no more than
    `macro_f1_tolerance` below, and no intent's F1 falling by more than `intent_f1_tolerance`."""
    if comparison is None:
        return PromotionVerdict(
            False,
            "Not promoted automatically: there is no frozen evaluation set to compare it with "
            "the live version on. Freeze one on the Versions page.",
        )
    before, after = comparison.base.macro_f1, comparison.other.macro_f1
    figures = (
        f"macro-F1 {after:.1%} against {before:.1%} on {comparison.size} held-out messages "
        f"(evaluation set, revision {comparison.revision})"
    )
    if after < before - macro_f1_tolerance:
        return PromotionVerdict(False, f"Not promoted automatically: {figures}.")
    if comparison.dropped:
        lost = ", ".join(f"{name} ({count} messages)" for name, count in comparison.dropped)
        return PromotionVerdict(
            False,
            f"Not promoted automatically: {figures}, but it no longer knows {lost}, which the "
            "live version answers and which is still an active intent.",
        )
    drops = [row for row in comparison.rows if row.delta is not None]
    worst = min(drops, key=lambda row: row.delta, default=None)
    if worst is not None and worst.delta < -intent_f1_tolerance:
        return PromotionVerdict(
            False,
            f"Not promoted automatically: {figures}, but {worst.name}'s F1 fell from "
            f"{worst.base_f1:.0%} to {worst.other_f1:.0%}.",
        )
    return PromotionVerdict(True, f"Promoted automatically: {figures}.")
