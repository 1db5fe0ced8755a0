"""Training runs go through the project's one way to queue work (copilot.queueing)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django.utils.html import escape

from copilot import queueing
from intents import training
from intents.metrics import TrainingMetrics
from intents.models import ModelVersion
from intents.services import model_version_create, model_version_train, training_run_start
from intents.tasks import train_model_version

pytestmark = pytest.mark.django_db

TASK = "intents.tasks.train_model_version"


@pytest.fixture
def counted_training(monkeypatch):
    """Counts the trainings that actually run."""
    calls = []
    real_train = training.train

    def train(*args, **kwargs):
        calls.append(1)
        return real_train(*args, **kwargs)

    monkeypatch.setattr(training, "train", train)
    return calls


def test_a_refused_publish_leaves_the_version_queued_for_the_sweep(
    broker, django_capture_on_commit_callbacks
):
    broker.down = True
    with django_capture_on_commit_callbacks(execute=True):
        version = training_run_start()

    version.refresh_from_db()
    assert version.status == ModelVersion.Status.QUEUED
    assert version.needs_queueing is True

    broker.down = False
    queued = queueing.work_sweep()

    assert queued["training run"] == 1
    assert [sent for sent in broker.published if sent[0] == TASK] == [(TASK, (version.id,))]
    version.refresh_from_db()
    assert version.needs_queueing is False
    assert "training run" not in queueing.work_sweep()  # queued once, not at every sweep


def test_a_published_run_is_queued_again_only_after_the_task_time_limit(
    broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        version = training_run_start()
    assert broker.published == [(TASK, (version.id,))]

    # Waiting behind a long training run on the training queue is not a lost task.
    waiting = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    ModelVersion.objects.filter(pk=version.pk).update(task_at=waiting)
    assert "training run" not in queueing.work_sweep()

    lost = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 61)
    ModelVersion.objects.filter(pk=version.pk).update(task_at=lost)
    assert queueing.work_sweep()["training run"] == 1
    assert broker.published == [(TASK, (version.id,)), (TASK, (version.id,))]


def test_a_training_task_delivered_twice_trains_once(labelled_examples, counted_training):
    version = model_version_create()

    assert train_model_version.apply(args=(version.id,)).get() == ModelVersion.Status.READY
    trained = ModelVersion.objects.get(pk=version.pk)
    assert train_model_version.apply(args=(version.id,)).get() == ModelVersion.Status.READY

    again = ModelVersion.objects.get(pk=version.pk)
    assert len(counted_training) == 1
    assert (again.artifact_sha256, again.trained_at, again.metrics) == (
        trained.artifact_sha256,
        trained.trained_at,
        trained.metrics,
    )


def test_a_version_another_run_is_training_is_left_to_it(labelled_examples, counted_training):
    version = model_version_create()
    ModelVersion.objects.filter(pk=version.pk).update(status=ModelVersion.Status.TRAINING)

    assert train_model_version.apply(args=(version.id,)).get() == ModelVersion.Status.TRAINING

    assert counted_training == []
    assert ModelVersion.objects.get(pk=version.pk).artifact is None


def test_stored_metrics_read_back_as_the_metrics_training_computed(labelled_examples):
    version = model_version_train(version_id=model_version_create().id)

    metrics = version.training_metrics
    assert isinstance(metrics, TrainingMetrics)
    assert metrics.to_dict() == version.metrics
    assert set(metrics.per_intent) == {
        "track_order",
        "get_refund",
        "cancel_order",
        "change_shipping_address",
    }
    assert model_version_create().training_metrics is None  # not trained yet


def test_metrics_stored_in_the_json_format_of_earlier_versions_still_load():
    stored = {
        "accuracy": 0.9,
        "macro_f1": 0.88,
        "per_intent": {
            "get_refund": {"precision": 1.0, "recall": 0.8, "f1": 0.888889, "support": 5},
            "track_order": {"precision": 0.833333, "recall": 1.0, "f1": 0.909091, "support": 5},
        },
        "confusion_matrix": {"labels": ["get_refund", "track_order"], "matrix": [[4, 1], [0, 5]]},
        "calibration_error": 0.05,
        "threshold": 0.4,
        "coverage": 0.9,
        "precision_at_threshold": 0.95,
        "n_train": 8,
        "n_test": 10,
        "n_labels": 2,
        "protocol": "5-fold cross-validation",
        "temperature": 0.31,
    }

    metrics = TrainingMetrics.from_dict(stored)

    assert metrics.per_intent["get_refund"].recall == 0.8
    assert metrics.confusion_matrix.matrix == [[4, 1], [0, 5]]
    assert metrics.oos_recall is None
    assert metrics.to_dict() == stored


def test_the_admin_lists_trained_and_queued_versions(labelled_examples, admin_client):
    model_version_train(version_id=model_version_create().id)
    model_version_create()

    response = admin_client.get("/admin/intents/modelversion/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Queued" in page and "Ready" in page


@pytest.mark.django_db
def test_a_run_whose_worker_died_mid_training_is_queued_again_and_trained(broker):
    from datetime import timedelta

    from django.utils import timezone

    from copilot.queueing import work_sweep
    from intents.models import ModelVersion
    from intents.services import examples_import, model_version_create, model_version_train
    from tests.factories import labelled_rows

    examples_import(rows=labelled_rows())
    version = model_version_create()
    # Its run claimed it, then the worker was killed: "training" for longer than any run lasts.
    ModelVersion.objects.filter(pk=version.pk).update(
        status=ModelVersion.Status.TRAINING, task_at=timezone.now() - timedelta(hours=2)
    )

    assert work_sweep() == {"training run": 1}
    assert broker.tasks("intents.tasks.train_model_version") == [(version.pk,)]
    assert model_version_train(version_id=version.pk).status == ModelVersion.Status.READY


def test_a_run_keeps_a_log_of_its_steps_and_how_it_ended(labelled_examples):
    version = model_version_train(version_id=model_version_create().id)

    log = version.training_log
    assert log[0]["step"] == "started on 72 examples of 4 intents"
    assert log[-1]["step"].startswith("done: accuracy ")
    assert len(log) > 3  # the steps training reported in between
    times = [entry["at"] for entry in log]
    assert times == sorted(times)
    assert [entry["progress"] for entry in log] == sorted(entry["progress"] for entry in log)


def test_a_failed_run_ends_its_log_with_the_reason_and_the_page_shows_it(db, admin_client):
    from intents.services import examples_import
    from tests.factories import labelled_rows

    examples_import(rows=labelled_rows(["track_order"]))

    version = model_version_train(version_id=model_version_create().id)

    assert version.training_log[-1]["step"] == f"failed: {version.failure_reason}"
    page = admin_client.get(f"/training/versions/{version.number}/").content.decode()
    assert "Training log" in page and escape(f"failed: {version.failure_reason}") in page
