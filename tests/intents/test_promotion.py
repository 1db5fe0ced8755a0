"""The release loop without a person (intents.promotion): retraining when it is due, and
automatic promotion only when the new version is at least as good on the frozen evaluation set."""

from datetime import timedelta

import pytest
from django.utils import timezone

from intents import curation
from intents.evaluation import EvaluationComparison, promotion_verdict
from intents.metrics import IntentScores, TrainingMetrics
from intents.models import Intent, LabeledExample, ModelVersion, ModelVersionEvent
from intents.promotion import model_version_consider, retrain_when_due, retraining_trigger
from intents.reports import IntentComparison
from intents.services import model_version_activate, model_version_create, model_version_train
from intents.tasks import train_model_version

pytestmark = pytest.mark.django_db


def metrics(macro_f1: float) -> TrainingMetrics:
    return TrainingMetrics(
        accuracy=macro_f1,
        macro_f1=macro_f1,
        per_intent={"a": IntentScores(macro_f1, macro_f1, macro_f1, 10)},
        confusion_matrix=None,
        calibration_error=0.0,
        coverage=1.0,
        precision_at_threshold=macro_f1,
        threshold=0.5,
        n_train=10,
        n_test=10,
        n_labels=1,
    )


def comparison(before: float, after: float, rows=()) -> EvaluationComparison:
    return EvaluationComparison(
        size=40,
        left_out=0,
        base=metrics(before),
        other=metrics(after),
        rows=list(rows),
        seen=[],
        revision=3,
    )


@pytest.mark.parametrize(
    ("compared", "promote", "sentence"),
    [
        (None, False, "there is no frozen evaluation set"),
        (
            comparison(0.90, 0.895),
            True,
            "Promoted automatically: macro-F1 89.5% against 90.0% on 40 held-out messages "
            "(evaluation set, revision 3)",
        ),
        (comparison(0.90, 0.87), False, "Not promoted automatically: macro-F1 87.0% against"),
        (
            comparison(0.90, 0.92, [IntentComparison("refund", 0.9, 0.8, 10, 10)]),
            False,
            "but refund's F1 fell from 90% to 80%",
        ),
        (
            comparison(0.90, 0.92, [IntentComparison("refund", 0.9, 0.86, 10, 10)]),
            True,
            "Promoted automatically",
        ),
    ],
)
def test_a_challenger_goes_live_only_when_it_is_at_least_as_good(compared, promote, sentence):
    verdict = promotion_verdict(compared, macro_f1_tolerance=0.01, intent_f1_tolerance=0.05)

    assert verdict.promote is promote
    assert sentence in verdict.reason


def test_retraining_is_due_after_enough_new_labels_or_on_schedule(labelled_examples, settings):
    settings.INTENT_RETRAIN_AFTER_LABELS = 5
    settings.INTENT_RETRAIN_EVERY_HOURS = 0
    assert retraining_trigger() == ""  # the first model is trained on purpose
    version = model_version_train(version_id=model_version_create().id)
    assert retraining_trigger() == ""

    LabeledExample.objects.filter(pk__in=LabeledExample.objects.values("pk")[:5]).update(
        labelled_at=timezone.now() + timedelta(seconds=1)
    )
    assert retraining_trigger() == "5 new labels"

    settings.INTENT_RETRAIN_AFTER_LABELS = 0
    assert retraining_trigger() == ""
    settings.INTENT_RETRAIN_EVERY_HOURS = 24
    ModelVersion.objects.filter(pk=version.pk).update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    assert retraining_trigger() == "schedule"


def test_a_due_run_is_queued_once_with_its_reason(labelled_examples, settings, broker):
    settings.INTENT_RETRAIN_EVERY_HOURS = 1
    first = model_version_train(version_id=model_version_create().id)
    ModelVersion.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(hours=2))

    queued = retrain_when_due()

    assert (queued.status, queued.trigger, queued.created_by) == ("queued", "schedule", None)
    assert retrain_when_due() is None  # one run at a time


@pytest.fixture
def live_version_and_evaluation_set(labelled_examples, django_user_model):
    lead = django_user_model.objects.create_user("lead", is_staff=True)
    curation.evaluation_set_freeze(user=lead, share=0.25)
    live = model_version_train(version_id=model_version_create().id)
    return model_version_activate(version_id=live.id)


def test_a_version_as_good_as_the_live_one_is_promoted_by_itself(live_version_and_evaluation_set):
    live = live_version_and_evaluation_set
    challenger = model_version_create()

    assert train_model_version(challenger.id) == "active"

    challenger.refresh_from_db()
    assert challenger.promotion_note.startswith("Promoted automatically: macro-F1")
    assert challenger.evaluation["size"] == 16 and 0 < challenger.evaluation["macro_f1"] <= 1
    event = ModelVersionEvent.objects.get()
    assert (event.version, event.previous_version, event.performed_by) == (challenger, live, None)


def test_a_worse_version_waits_for_a_person_with_the_reason(live_version_and_evaluation_set):
    live = live_version_and_evaluation_set
    # Most trainable "track_order" and "get_refund" examples swap labels: a worse dataset.
    trainable = LabeledExample.objects.filter(held_out_at__isnull=True)
    track = list(trainable.filter(intent__name="track_order").values_list("pk", flat=True)[:9])
    refund = list(trainable.filter(intent__name="get_refund").values_list("pk", flat=True)[:9])
    LabeledExample.objects.filter(pk__in=track).update(intent=Intent.objects.get(name="get_refund"))
    LabeledExample.objects.filter(pk__in=refund).update(
        intent=Intent.objects.get(name="track_order")
    )
    challenger = model_version_create()

    assert train_model_version(challenger.id) == "ready"

    challenger.refresh_from_db()
    assert challenger.promotion_note.startswith("Not promoted automatically: macro-F1")
    assert ModelVersion.objects.get(status="active") == live
    assert not ModelVersionEvent.objects.exists()


def test_without_an_evaluation_set_or_with_auto_promotion_off_a_person_decides(
    labelled_examples, settings
):
    live = model_version_train(version_id=model_version_create().id)
    model_version_activate(version_id=live.id)
    challenger = model_version_train(version_id=model_version_create().id)

    considered = model_version_consider(version_id=challenger.id)

    assert considered.status == "ready" and considered.evaluation == {}
    assert "there is no frozen evaluation set" in considered.promotion_note
    settings.INTENT_AUTO_PROMOTE = False
    assert model_version_consider(version_id=challenger.id).promotion_note == ""


def test_a_version_that_lost_an_active_intent_waits_for_a_person(live_version_and_evaluation_set):
    live = live_version_and_evaluation_set
    # Every trainable cancel_order example goes: the new version cannot learn it, while the
    # intent stays active and the evaluation set still asks for it.
    LabeledExample.objects.filter(held_out_at__isnull=True, intent__name="cancel_order").delete()
    challenger = model_version_create()

    assert train_model_version(challenger.id) == "ready"

    challenger.refresh_from_db()
    assert "but it no longer knows cancel_order (" in challenger.promotion_note
    assert ModelVersion.objects.get(status="active") == live
