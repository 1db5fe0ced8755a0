"""Writes of the intents app: examples, model versions, predictions."""

import logging
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from copilot import queueing

from . import training
from .artifacts import ArtifactError, library_versions, serialize
from .importing import LabelledRow
from .models import Intent, LabeledExample, ModelVersion, Prediction, text_fingerprint
from .params import TrainingParams
from .prediction import Classification, load_model_version
from .selectors import training_examples

logger = logging.getLogger(__name__)

TRAINING_RUN = queueing.Work(
    name="training run",
    task="intents.tasks.train_model_version",
    model=ModelVersion,
    # A version still "training" after the task time limit lost its run (its worker was killed):
    # the sweep queues it again and the new run takes it over.
    unfinished=Q(status__in=[ModelVersion.Status.QUEUED, ModelVersion.Status.TRAINING]),
    # A run may wait behind another on the training queue, and a run may take the whole task
    # time limit: only after that long without a task is a queued version's task lost.
    lost_after=timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60),
    requeue_changes={"status": ModelVersion.Status.QUEUED},
)


@dataclass(frozen=True)
class ImportSummary:
    created: int
    duplicates: int
    conflicts: int  # same text already labelled with another intent: the first label is kept
    intents_created: list[str]


def intents_ensure(*, definitions: Iterable[tuple[str, str]]) -> list[Intent]:
    """Creates the named intents that are missing; fills in empty descriptions."""
    intents = []
    for name, description in definitions:
        intent, created = Intent.objects.get_or_create(
            name=name, defaults={"description": description}
        )
        if not created and description and not intent.description:
            intent.description = description
            intent.save(update_fields=["description"])
        intents.append(intent)
    return intents


@transaction.atomic
def examples_import(
    *,
    rows: Iterable[LabelledRow],
    source: str = LabeledExample.Source.IMPORT,
    status: str = LabeledExample.Status.TRUSTED,
    labelled_by: str = "",
) -> ImportSummary:
    """Adds labelled examples, creating their intents; a text already known is skipped."""
    rows = list(rows)
    fingerprints = {row: text_fingerprint(row.text) for row in rows}
    known = dict(
        LabeledExample.objects.filter(text_sha256__in=set(fingerprints.values())).values_list(
            "text_sha256", "intent__name"
        )
    )
    new_rows, duplicates, conflicts = [], 0, 0
    for row in rows:
        fingerprint = fingerprints[row]
        if fingerprint in known:
            if known[fingerprint] == row.intent:
                duplicates += 1
            else:
                conflicts += 1
            continue
        known[fingerprint] = row.intent
        new_rows.append(row)

    intents = {intent.name: intent for intent in Intent.objects.all()}
    intents_created = []
    for name in dict.fromkeys(row.intent for row in new_rows):
        if name not in intents:
            intents[name] = Intent.objects.create(name=name)
            intents_created.append(name)
    new_examples = [
        LabeledExample(
            text=row.text,
            text_sha256=fingerprints[row],
            intent=intents[row.intent],
            source=source,
            status=status,
            labelled_by=labelled_by,
        )
        for row in new_rows
    ]
    LabeledExample.objects.bulk_create(new_examples, batch_size=500)
    return ImportSummary(len(new_examples), duplicates, conflicts, intents_created)


def model_version_create(*, created_by=None) -> ModelVersion:
    """A new version in `queued` state, numbered after the last one (safe under concurrency)."""
    for _ in range(5):
        number = (ModelVersion.objects.aggregate(last=Max("number"))["last"] or 0) + 1
        try:
            with transaction.atomic():
                return ModelVersion.objects.create(number=number, created_by=created_by)
        except IntegrityError:
            continue  # another process took this number: take the next one
    raise RuntimeError("Could not allocate a model version number; try again.")


def training_run_start(*, created_by=None) -> ModelVersion:
    """Creates a version and queues its training on the training queue after commit."""
    version = model_version_create(created_by=created_by)
    queueing.enqueue_on_commit(TRAINING_RUN, version.id)
    return version


class _ProgressWriter:
    """Writes training progress to the version row, at most a few times a second."""

    def __init__(self, version_id: int) -> None:
        self.version_id = version_id
        self.written_at = 0.0

    def __call__(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - self.written_at < 0.25 and fraction < 1.0:
            return
        self.written_at = now
        ModelVersion.objects.filter(pk=self.version_id, status=ModelVersion.Status.TRAINING).update(
            progress=round(fraction, 3), progress_message=message[:255]
        )


def model_version_train(*, version_id: int) -> ModelVersion:
    """Trains a queued version from the trusted examples; ends `ready`, or `failed` with the
    reason.

    The version is claimed first (queued → training): a version another run has claimed or
    finished is left as it is, so a task queued twice trains once. A run that died (still
    "training" after the task time limit) is queued again by the sweep.
    """
    claimed = ModelVersion.objects.filter(pk=version_id, status=ModelVersion.Status.QUEUED).update(
        status=ModelVersion.Status.TRAINING
    )
    if not claimed:
        return ModelVersion.objects.get(pk=version_id)
    examples = training_examples()
    texts = [text for text, _ in examples]
    labels = [label for _, label in examples]
    try:
        result = training.train(
            texts,
            labels,
            params=TrainingParams(min_examples_per_intent=settings.INTENT_MIN_EXAMPLES),
            seed=settings.INTENT_TRAINING_SEED,
            progress=_ProgressWriter(version_id),
        )
        artifact, sha256 = serialize(result.classifier)
    except training.TrainingDataError as error:
        return _model_version_fail(version_id, str(error))
    except Exception as error:
        logger.exception("training of model version %s failed", version_id)
        return _model_version_fail(version_id, f"Training failed: {type(error).__name__}: {error}")

    ModelVersion.objects.filter(pk=version_id, status=ModelVersion.Status.TRAINING).update(
        status=ModelVersion.Status.READY,
        progress=1.0,
        progress_message="done",
        training_data_sha256=training.training_data_hash(texts, labels),
        training_size=len(texts),
        library_versions=library_versions(),
        parameters={**asdict(result.classifier.params), "seed": settings.INTENT_TRAINING_SEED},
        metrics=result.metrics.to_dict(),
        artifact=artifact,
        artifact_sha256=sha256,
        trained_at=timezone.now(),
    )
    return ModelVersion.objects.get(pk=version_id)


def _model_version_fail(version_id: int, reason: str) -> ModelVersion:
    ModelVersion.objects.filter(pk=version_id, status=ModelVersion.Status.TRAINING).update(
        status=ModelVersion.Status.FAILED, failure_reason=reason, progress_message="failed"
    )
    return ModelVersion.objects.get(pk=version_id)


class ActivationError(ValueError):
    pass


@transaction.atomic
def model_version_activate(*, version_id: int) -> ModelVersion:
    """Makes a trained version the one active model, retiring the previous one.

    The artifact is loaded and verified first, so a corrupt model never becomes active.
    """
    version = ModelVersion.objects.select_for_update().get(pk=version_id)
    if version.status == ModelVersion.Status.ACTIVE:
        return version
    if version.status not in (ModelVersion.Status.READY, ModelVersion.Status.RETIRED):
        raise ActivationError(
            f"Model version v{version.number} is {version.get_status_display().lower()}; "
            "only a trained version can be activated."
        )
    try:
        load_model_version(version.id)
    except ArtifactError as error:
        raise ActivationError(
            f"Model version v{version.number} cannot be activated: {error}"
        ) from None
    ModelVersion.objects.select_for_update().filter(status=ModelVersion.Status.ACTIVE).update(
        status=ModelVersion.Status.RETIRED
    )
    version.status = ModelVersion.Status.ACTIVE
    version.activated_at = timezone.now()
    version.save(update_fields=["status", "activated_at"])
    return version


def prediction_record(
    *,
    text: str,
    classification: Classification,
    kustomer_message_id: str = "",
    kustomer_conversation_id: str = "",
) -> Prediction:
    """Stores a classification; for a Kustomer message, once per message and model version."""
    prediction = classification.prediction
    values = {
        "text": text,
        "kustomer_conversation_id": kustomer_conversation_id,
        "intent": prediction.intent or "",
        "confidence": prediction.confidence,
        "top": [[label, probability] for label, probability in prediction.top],
        "abstained": prediction.abstained,
        "latency_ms": classification.latency_ms,
    }
    if not kustomer_message_id:
        return Prediction.objects.create(model_version_id=classification.version_id, **values)
    record, _ = Prediction.objects.get_or_create(
        kustomer_message_id=kustomer_message_id,
        model_version_id=classification.version_id,
        defaults=values,
    )
    return record
