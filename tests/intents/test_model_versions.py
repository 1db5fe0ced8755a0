import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from intents.models import LabeledExample, ModelVersion, Prediction
from intents.prediction import NoActiveModel, classify
from intents.services import (
    ActivationError,
    model_version_activate,
    model_version_create,
    model_version_train,
    training_run_start,
)
from intents.tasks import classify_message

pytestmark = pytest.mark.django_db


def _trained_version() -> ModelVersion:
    version = model_version_train(version_id=model_version_create().id)
    assert version.status == ModelVersion.Status.READY, version.failure_reason
    return version


def test_train_command_stores_a_ready_version_with_its_metrics(labelled_examples, capsys):
    call_command("intents_train")

    version = ModelVersion.objects.get()
    assert version.status == ModelVersion.Status.READY
    assert version.training_size == LabeledExample.objects.count()
    assert version.metrics["n_labels"] == 4
    assert 0.0 <= version.metrics["accuracy"] <= 1.0
    assert set(version.metrics["per_intent"]) == {
        "track_order",
        "get_refund",
        "cancel_order",
        "change_shipping_address",
    }
    assert version.artifact_sha256 and version.training_data_sha256
    assert "scikit-learn" in version.library_versions or "sklearn" in version.library_versions
    assert version.progress == 1.0
    output = capsys.readouterr().out
    assert f"v{version.number}: {version.training_size} examples, 4 intents" in output


def test_train_with_activate_then_predict_prints_top_three(labelled_examples, capsys):
    call_command("intents_train", "--activate")
    call_command("intents_predict", "please refund order 5555, I want my money back")

    output = capsys.readouterr().out
    assert "is now the active model" in output
    lines = output.strip().splitlines()
    assert lines[-4] == "Model v1: get_refund"
    assert len(lines[-3:]) == 3 and "get_refund" in lines[-3]


def test_predict_a_file_classifies_every_message_in_one_batch(labelled_examples, tmp_path):
    import csv

    model_version_activate(version_id=_trained_version().id)
    messages = tmp_path / "export.csv"
    messages.write_text(
        "message,id\n"
        '"please refund order 5555, I want my money back",a\n'
        '"Where is my parcel 1042? Tracking has not moved",b\n'
        '"I need to cancel order 77 before it ships",c\n'
    )
    out = tmp_path / "predictions.csv"

    call_command(
        "intents_predict", "--file", str(messages), "--text-column", "message", "--out", str(out)
    )

    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["row"] for row in rows] == ["1", "2", "3"]
    assert [row["intent"] for row in rows] == ["get_refund", "track_order", "cancel_order"]
    assert all(0 < float(row["confidence"]) <= 1 for row in rows)
    assert rows[0]["second"] and rows[0]["second"] != "get_refund"


def test_predict_a_file_names_the_missing_column(labelled_examples, tmp_path):
    model_version_activate(version_id=_trained_version().id)
    messages = tmp_path / "export.csv"
    messages.write_text("body\nwhere is my order\n")

    with pytest.raises(CommandError, match=r"export\.csv: the header must name the column 'text'"):
        call_command("intents_predict", "--file", str(messages))
    with pytest.raises(CommandError, match="either a message to classify or --file"):
        call_command("intents_predict", "where is my order", "--file", str(messages))


def test_predict_without_an_active_model_says_so(db):
    with pytest.raises(CommandError, match="No intent model is active yet"):
        call_command("intents_predict", "where is my order")


def test_too_little_data_fails_the_version_with_the_reason_and_keeps_the_active_one(
    labelled_examples,
):
    active = model_version_activate(version_id=_trained_version().id)
    LabeledExample.objects.filter(intent__name="cancel_order").exclude(
        id__in=LabeledExample.objects.filter(intent__name="cancel_order").values("id")[:2]
    ).delete()

    with pytest.raises(CommandError, match="cancel_order"):
        call_command("intents_train", "--activate")

    failed = ModelVersion.objects.get(status=ModelVersion.Status.FAILED)
    assert "cancel_order" in failed.failure_reason
    assert failed.artifact is None
    assert ModelVersion.objects.get(status=ModelVersion.Status.ACTIVE) == active


def test_training_needs_two_intents(db):
    from intents.services import examples_import
    from tests.factories import labelled_rows

    examples_import(rows=labelled_rows(["track_order"]))

    version = model_version_train(version_id=model_version_create().id)

    assert version.status == ModelVersion.Status.FAILED
    assert "intents" in version.failure_reason


def test_activating_a_version_retires_the_previous_one(labelled_examples):
    first, second = _trained_version(), _trained_version()

    model_version_activate(version_id=first.id)
    model_version_activate(version_id=second.id)

    statuses = dict(ModelVersion.objects.values_list("number", "status"))
    assert statuses == {first.number: "retired", second.number: "active"}
    assert classify("where is my order 1234").version_number == second.number


def test_the_database_refuses_a_second_active_version(labelled_examples):
    first, second = _trained_version(), _trained_version()
    model_version_activate(version_id=first.id)

    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.filter(pk=second.pk).update(status=ModelVersion.Status.ACTIVE)


def test_a_failed_or_training_version_cannot_be_activated(db):
    version = model_version_create()

    with pytest.raises(ActivationError, match="only a trained version can be activated"):
        model_version_activate(version_id=version.id)


def test_a_corrupt_artifact_is_never_activated(labelled_examples):
    good = model_version_activate(version_id=_trained_version().id)
    corrupt = _trained_version()
    ModelVersion.objects.filter(pk=corrupt.pk).update(artifact=b"not a model")

    with pytest.raises(ActivationError, match=f"v{corrupt.number} cannot be activated: The"):
        model_version_activate(version_id=corrupt.id)

    assert ModelVersion.objects.get(status=ModelVersion.Status.ACTIVE) == good


def test_readyz_reports_an_active_model_that_cannot_be_loaded(labelled_examples, admin_client):
    client = admin_client  # staff see why a dependency is down
    version = model_version_activate(version_id=_trained_version().id)
    assert client.get("/readyz").json()["checks"]["intent_model"]["detail"] == "v1"

    ModelVersion.objects.filter(pk=version.pk).update(artifact_sha256="0" * 64)
    from intents.prediction import active_model

    active_model.clear()
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["intent_model"]["ok"] is False


def test_training_task_reports_progress_and_finishes_ready(
    labelled_examples, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        version = training_run_start()

    version.refresh_from_db()
    assert version.status == ModelVersion.Status.READY
    assert version.progress == 1.0
    assert version.progress_message == "done"


def test_classify_task_stores_one_prediction_per_message(labelled_examples):
    model_version_activate(version_id=_trained_version().id)

    first = classify_message.delay("cancel order 7777 please", "msg-1", "conv-1").get()
    again = classify_message.delay("cancel order 7777 please", "msg-1", "conv-1").get()

    assert first == again
    prediction = Prediction.objects.get()
    assert prediction.intent == "cancel_order"
    assert prediction.kustomer_conversation_id == "conv-1"
    assert len(prediction.top) == 3
    assert prediction.latency_ms > 0


def test_classify_without_a_model_raises_a_clear_error(db):
    with pytest.raises(NoActiveModel):
        classify("hello")


def test_admin_says_why_a_corrupt_version_cannot_be_activated(labelled_examples, client):
    from django.contrib.auth import get_user_model

    good = model_version_activate(version_id=_trained_version().id)
    corrupt = _trained_version()
    ModelVersion.objects.filter(pk=corrupt.pk).update(artifact=b"not a model")
    admin_user = get_user_model().objects.create_superuser("lead", "lead@example.com", "pw")
    client.force_login(admin_user)

    response = client.post(
        "/admin/intents/modelversion/",
        {"action": "activate", "_selected_action": [corrupt.pk]},
        follow=True,
    )

    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert any(f"v{corrupt.number} cannot be activated" in m for m in shown), shown
    assert ModelVersion.objects.get(status=ModelVersion.Status.ACTIVE) == good


def test_warm_up_loads_the_active_model_before_the_first_message(
    labelled_examples, settings, django_assert_num_queries
):
    from intents.prediction import active_model, warm_up

    version = model_version_activate(version_id=_trained_version().id)
    active_model.clear()
    settings.INTENT_MODEL_REFRESH_SECONDS = 60

    warm_up()

    with django_assert_num_queries(0):
        assert classify("where is my order 1042").version_id == version.id


def test_warm_up_does_not_stop_the_process_when_the_database_is_down(monkeypatch, caplog):
    from django.db import OperationalError

    from intents.prediction import active_model, warm_up

    def database_down():
        raise OperationalError("connection refused")

    monkeypatch.setattr(active_model, "get", database_down)
    warm_up()

    assert "could not load the active intent model at start-up" in caplog.text
