"""Which model version is live: promoted or rolled back by a person (with who, when and why),
training runs cancelled, and the release loop without a person: retraining when it is due,
and promoting a new version only when it is at least as good as the live one on the frozen
evaluation set.

Retraining is due every `INTENT_RETRAIN_EVERY_HOURS` (0: never on a schedule) or once
`INTENT_RETRAIN_AFTER_LABELS` trusted labels were given since the last run started (0: never
on labels). A trained version is measured on the evaluation set; with `INTENT_AUTO_PROMOTE` it
goes live when `intents.evaluation.promotion_verdict` says so, and otherwise waits for a person
with the reason on its page. Rolling back stays one action (Versions page).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import evaluation
from .models import LabeledExample, ModelVersion, ModelVersionEvent
from .reports import model_version_active, model_version_to_roll_back_to
from .services import ActivationError, model_version_activate, training_run_start

logger = logging.getLogger(__name__)


def retraining_trigger() -> str:
    """Why a training run is due now, or "" when none is (or one is queued or running)."""
    if ModelVersion.objects.filter(
        status__in=[ModelVersion.Status.QUEUED, ModelVersion.Status.TRAINING]
    ).exists():
        return ""
    latest = ModelVersion.objects.order_by("-created_at").values_list("created_at", flat=True)
    since = latest.first()
    if since is None:
        return ""  # the first model is trained on purpose (intents_train, demo_setup, the UI)
    hours = settings.INTENT_RETRAIN_EVERY_HOURS
    if hours and timezone.now() - since >= timedelta(hours=hours):
        return "schedule"
    wanted = settings.INTENT_RETRAIN_AFTER_LABELS
    if wanted:
        labelled = LabeledExample.objects.filter(
            status=LabeledExample.Status.TRUSTED, labelled_at__gt=since
        ).count()
        if labelled >= wanted:
            return f"{labelled} new labels"
    return ""


def retrain_when_due() -> ModelVersion | None:
    """Queues a training run when one is due; beat asks every few minutes."""
    with transaction.atomic():
        trigger = retraining_trigger()
        if not trigger:
            return None
        version = training_run_start()
        version.trigger = trigger
        version.save(update_fields=["trigger"])
    logger.info("training v%s queued: %s", version.number, trigger)
    return version


def model_version_consider(*, version_id: int) -> ModelVersion:
    """After training: measures the version on the evaluation set, and promotes it when
    `INTENT_AUTO_PROMOTE` is on and it is at least as good as the live one."""
    version = ModelVersion.objects.defer("artifact").get(pk=version_id)
    if version.status != ModelVersion.Status.READY:
        return version
    version.evaluation = evaluation.version_on_evaluation_set(version)
    live = ModelVersion.objects.defer("artifact").filter(status=ModelVersion.Status.ACTIVE).first()
    if not settings.INTENT_AUTO_PROMOTE:
        version.promotion_note = ""
    elif live is None:
        version.promotion_note = "Not promoted automatically: no version is live yet."
    else:
        verdict = evaluation.promotion_verdict(
            evaluation.versions_compared_on_evaluation_set(live, version),
            macro_f1_tolerance=settings.INTENT_PROMOTE_MACRO_F1_TOLERANCE,
            intent_f1_tolerance=settings.INTENT_PROMOTE_INTENT_F1_TOLERANCE,
        )
        version.promotion_note = verdict.reason
        if verdict.promote:
            try:
                with transaction.atomic():
                    model_version_activate(version_id=version.pk)
                    ModelVersionEvent.objects.create(
                        action=ModelVersionEvent.Action.PROMOTE,
                        version=version,
                        previous_version=live,
                        reason=verdict.reason,
                        performed_by=None,
                    )
            except ActivationError as error:
                version.promotion_note = f"Not promoted automatically: {error}"
    version.save(update_fields=["evaluation", "promotion_note"])
    logger.info("v%s considered: %s", version.number, version.promotion_note or "measured")
    return ModelVersion.objects.defer("artifact").get(pk=version_id)


# --- By a person -------------------------------------------------------------------------------


def _reason_required(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise ActivationError("Say why, in a few words: the history keeps it.")
    return reason


@transaction.atomic
def model_version_promote(*, version_id: int, user, reason: str) -> ModelVersionEvent:
    """Makes a trained version the live model (:func:`model_version_activate`) and records who
    promoted it, when, why and which version it replaced. Raises `ActivationError`."""
    reason = _reason_required(reason)
    previous = model_version_active()
    version = model_version_activate(version_id=version_id)
    if previous is not None and previous.pk == version.pk:
        raise ActivationError(f"v{version.number} is already the active model.")
    return ModelVersionEvent.objects.create(
        action=ModelVersionEvent.Action.PROMOTE,
        version=version,
        previous_version=previous,
        reason=reason,
        performed_by=user,
    )


@transaction.atomic
def model_version_roll_back(*, user, reason: str) -> ModelVersionEvent:
    """Makes the version that was live before the active one live again, and records it.
    Raises `ActivationError` when there is no earlier version to go back to."""
    reason = _reason_required(reason)
    previous = model_version_active()
    target = model_version_to_roll_back_to()
    if previous is None or target is None:
        raise ActivationError("There is no earlier live version to roll back to.")
    version = model_version_activate(version_id=target.pk)
    return ModelVersionEvent.objects.create(
        action=ModelVersionEvent.Action.ROLL_BACK,
        version=version,
        previous_version=previous,
        reason=reason,
        performed_by=user,
    )


def training_run_cancel(*, version_id: int, user) -> bool:
    """Stops waiting for a queued or running training: the version ends `failed` with who
    cancelled it. A queued run's task then finds nothing to claim; a running one finishes its
    computation but may no longer write its result (every write of a run requires `training`).
    False when the run had already ended."""
    reason = f"Cancelled by {user.get_username()} at {timezone.now():%Y-%m-%d %H:%M} UTC."
    cancelled = ModelVersion.objects.filter(
        pk=version_id,
        status__in=[ModelVersion.Status.QUEUED, ModelVersion.Status.TRAINING],
    ).update(
        status=ModelVersion.Status.FAILED,
        failure_reason=reason,
        progress_message="cancelled",
    )
    return bool(cancelled)
