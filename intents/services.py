"""Writes of the intents app: examples, model versions, predictions, agents' feedback."""

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
from copilot.agents import Agent

from . import training
from .artifacts import ArtifactError, library_versions, serialize
from .importing import LabelledRow
from .label_issues import LabelIssue
from .models import (
    Intent,
    IntentFeedback,
    LabelDecision,
    LabeledExample,
    ModelVersion,
    ModelVersionDataset,
    Prediction,
    text_fingerprint,
)
from .params import TrainingParams
from .prediction import Classification, load_model_version
from .selectors import (
    latest_prediction_for_message,
    training_examples,
)

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


class TrainingRunBusy(Exception):
    """A run is already queued or training: one at a time, or the second would only wait."""


def training_run_start(*, created_by=None) -> ModelVersion:
    """Creates a version and queues its training on the training queue after commit. Raises
    `TrainingRunBusy` while another run is queued or training."""
    running = (
        ModelVersion.objects.filter(
            status__in=[ModelVersion.Status.QUEUED, ModelVersion.Status.TRAINING]
        )
        .defer("artifact")
        .order_by("number")
        .first()
    )
    if running is not None:
        raise TrainingRunBusy(
            f"v{running.number} is already {running.get_status_display().lower()}: wait for it "
            "to finish, or cancel it, before starting another run."
        )
    version = model_version_create(created_by=created_by)
    queueing.enqueue_on_commit(TRAINING_RUN, version.id)
    return version


class _ProgressWriter:
    """Writes training progress to the version row, at most a few times a second, and every
    new step to its log."""

    def __init__(self, version_id: int) -> None:
        self.version_id = version_id
        self.written_at = 0.0
        self.log: list[dict] = []

    def note(self, step: str, fraction: float = 0.0) -> None:
        self.log.append(
            {"at": timezone.now().isoformat(), "progress": round(fraction, 3), "step": step[:255]}
        )

    def __call__(self, fraction: float, message: str) -> None:
        new_step = not self.log or self.log[-1]["step"] != message[:255]
        if new_step:
            self.note(message, fraction)
        now = time.monotonic()
        if not new_step and now - self.written_at < 0.25 and fraction < 1.0:
            return
        self.written_at = now
        ModelVersion.objects.filter(pk=self.version_id, status=ModelVersion.Status.TRAINING).update(
            progress=round(fraction, 3), progress_message=message[:255], training_log=self.log
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
    progress = _ProgressWriter(version_id)
    progress.note(f"started on {len(texts)} examples of {len(set(labels))} intents")
    try:
        result = training.train(
            texts,
            labels,
            params=TrainingParams(min_examples_per_intent=settings.INTENT_MIN_EXAMPLES),
            seed=settings.INTENT_TRAINING_SEED,
            progress=progress,
            with_label_issues=True,
        )
        artifact, sha256 = serialize(result.classifier)
    except training.TrainingDataError as error:
        return _model_version_fail(version_id, str(error), progress)
    except Exception as error:
        logger.exception("training of model version %s failed", version_id)
        return _model_version_fail(
            version_id, f"Training failed: {type(error).__name__}: {error}", progress
        )
    progress.note(
        f"done: accuracy {result.metrics.accuracy:.1%}, macro-F1 {result.metrics.macro_f1:.1%}",
        1.0,
    )

    # Kept before the version is ready, so that every ready version has the examples it learnt
    # from (a run taken over after its worker died replaces what the dead run kept).
    ModelVersionDataset.objects.update_or_create(
        version_id=version_id,
        defaults={
            "examples": [list(example) for example in examples],
            "label_issues": _label_issues_stored(result.label_issues, texts),
            "confusions": [
                [texts[index], labels[index], said, probability]
                for index, said, probability in result.confusions
            ],
        },
    )
    ModelVersion.objects.filter(pk=version_id, status=ModelVersion.Status.TRAINING).update(
        status=ModelVersion.Status.READY,
        progress=1.0,
        progress_message="done",
        training_log=progress.log,
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


def _label_issues_stored(issues: Iterable[LabelIssue], texts: list[str]) -> list[dict]:
    """Suspected mislabels as JSON, each naming its example by the fingerprint of its text
    (one example per fingerprint), so that the queue finds the example without the training
    data's order."""
    return [
        {
            "text_sha256": text_fingerprint(texts[issue.index]),
            "label": issue.label,
            "label_probability": round(issue.label_probability, 4),
            "suggestion": issue.suggestion,
            "suggestion_probability": round(issue.suggestion_probability, 4),
            "top": [[name, round(probability, 4)] for name, probability in issue.top],
        }
        for issue in issues
    ]


def _model_version_fail(version_id: int, reason: str, progress: _ProgressWriter) -> ModelVersion:
    progress.note(f"failed: {reason}")
    ModelVersion.objects.filter(pk=version_id, status=ModelVersion.Status.TRAINING).update(
        status=ModelVersion.Status.FAILED,
        failure_reason=reason,
        progress_message="failed",
        training_log=progress.log,
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


class FeedbackError(ValueError):
    """Feedback that cannot be recorded; the message says why, in a sentence for the agent."""


@transaction.atomic
def intent_feedback_record(
    *,
    kustomer_message_id: str,
    agent: Agent,
    intent_name: str | None = None,
    confirm: bool = False,
) -> IntentFeedback:
    """Records an agent's verdict on the intent predicted for a message, replacing the
    message's earlier verdict (the last one wins, whoever gave it), and keeps the message's
    pending training example in step.

    ``confirm=True`` is "Right": the model's best guess, the intent the card shows (also when
    the model was not sure), is the right one. ``intent_name`` is the intent the agent picked:
    "Right" again when it is the best guess, "Corrected" otherwise. Neither is "None of these".

    The pending example (source agent feedback, awaiting review) carries the message's text,
    from its latest prediction, and the agent's intent; "None of these" removes it. A text that
    is already an example (a trusted one, or another message's pending one) keeps its label:
    there is one example per text, so none is added, and the feedback alone records the
    agent's view. An example a reviewer has already accepted is not changed either.

    Raises `FeedbackError` for a message without a prediction and for an unknown or retired
    intent.
    """
    prediction = latest_prediction_for_message(kustomer_message_id)
    if prediction is None:
        raise FeedbackError(
            f"Message {kustomer_message_id!r} has no intent prediction, so there is nothing "
            "to give feedback on."
        )
    best_guess = prediction.top[0][0] if prediction.top else prediction.intent
    if confirm:
        if not best_guess:
            raise FeedbackError("The model made no guess for this message; pick the intent.")
        if intent_name is not None and intent_name != best_guess:
            raise FeedbackError(
                f"Confirming means {best_guess!r}, but {intent_name!r} was picked; "
                "send one or the other."
            )
        intent_name = best_guess
    intent = None if intent_name is None else _intent_to_pick(intent_name)
    if intent is None:
        verdict = IntentFeedback.Verdict.NONE_OF_THESE
    elif intent.name == best_guess:
        verdict = IntentFeedback.Verdict.RIGHT
    else:
        verdict = IntentFeedback.Verdict.CORRECTED
    # Locks the message's row (or waits for a concurrent first verdict to commit and then
    # updates it), so verdicts on one message are applied one at a time.
    feedback, _ = IntentFeedback.objects.update_or_create(
        kustomer_message_id=kustomer_message_id,
        defaults={
            "kustomer_conversation_id": prediction.kustomer_conversation_id,
            "prediction": prediction,
            "predicted_intent": prediction.intent,
            "verdict": verdict,
            "intent": intent,
            "agent_id": agent.id,
            "agent_name": agent.name,
        },
    )
    _pending_example_keep_in_step(
        feedback=feedback, text=prediction.text, trusted=labeller_is_trusted(agent)
    )
    logger.info(
        "intent feedback on message %s: %s by agent %s",
        kustomer_message_id,
        verdict,
        agent.id,
    )
    return feedback


def _intent_to_pick(name: str) -> Intent:
    intent = Intent.objects.filter(name=name).first()
    if intent is None:
        raise FeedbackError(f"There is no intent named {name!r}; pick one from the list.")
    if not intent.active:
        raise FeedbackError(f"The intent {name!r} is retired; pick an active one from the list.")
    return intent


def labeller_is_trusted(agent: Agent) -> bool:
    """Whether `INTENT_TRUSTED_LABELLERS` names the agent ("user:<id>") or one of their roles
    ("role:<role>"), so that their labels skip the review queue."""
    return bool(agent.grants() & set(settings.INTENT_TRUSTED_LABELLERS))


def _agent_decision(
    feedback: IntentFeedback,
    example: LabeledExample,
    action: str,
    *,
    withdrawn: bool = False,
) -> LabelDecision:
    """The record of an agent's change in the card to the example their label made, kept in
    the example's history with what it replaced (all of it when the example goes)."""
    previous = example.whole_record() if withdrawn else example.label_snapshot()
    return LabelDecision(
        kind=LabelDecision.Kind.AGENT,
        item_id=example.pk,
        kustomer_message_id=feedback.kustomer_message_id,
        action=action,
        intent=feedback.intent,
        example=None if withdrawn else example,
        previous=previous,
        decided_by=None,
        decided_by_agent=feedback.agent_name or feedback.agent_id,
    )


def _pending_example_keep_in_step(*, feedback: IntentFeedback, text: str, trusted: bool) -> None:
    """A trusted labeller's label is a trusted example at once, and their change of mind
    replaces it even once accepted; anyone else's waits for review, and only what still waits
    follows their change of mind."""
    statuses = [LabeledExample.Status.PENDING_REVIEW]
    if trusted:
        statuses.append(LabeledExample.Status.TRUSTED)
    own = LabeledExample.objects.select_for_update().filter(
        kustomer_message_id=feedback.kustomer_message_id,
        source=LabeledExample.Source.AGENT_FEEDBACK,
        status__in=statuses,
    )
    if feedback.intent is None:
        withdrawn = list(own)
        LabelDecision.objects.bulk_create(
            _agent_decision(feedback, example, LabelDecision.Action.DELETE, withdrawn=True)
            for example in withdrawn
        )
        LabeledExample.objects.filter(pk__in=[example.pk for example in withdrawn]).delete()
        return
    status = LabeledExample.Status.TRUSTED if trusted else LabeledExample.Status.PENDING_REVIEW
    example = own.first()
    if example is not None:
        if (example.intent_id, example.status) == (feedback.intent.pk, status):
            return
        decision = _agent_decision(feedback, example, LabelDecision.Action.LABEL)
        example.intent = feedback.intent
        example.status = status
        example.labelled_by = feedback.agent_id
        example.labelled_at = timezone.now()
        example.save(update_fields=LabeledExample.LABEL_FIELDS)
        decision.save()
        return
    fingerprint = text_fingerprint(text)
    if LabeledExample.objects.filter(text_sha256=fingerprint).exists():
        return
    try:
        with transaction.atomic():
            LabeledExample.objects.create(
                text=text,
                text_sha256=fingerprint,
                intent=feedback.intent,
                source=LabeledExample.Source.AGENT_FEEDBACK,
                status=status,
                kustomer_conversation_id=feedback.kustomer_conversation_id,
                kustomer_message_id=feedback.kustomer_message_id,
                labelled_by=feedback.agent_id,
            )
    except IntegrityError:
        pass  # another message with the same text became an example a moment ago
