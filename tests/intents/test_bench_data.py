"""The benchmark data command: what it writes, and that it keeps off a database in use."""

import pytest
from django.core.management import CommandError, call_command

from intents.models import (
    IntentFeedback,
    LabeledExample,
    ModelVersion,
    ModelVersionDataset,
    Prediction,
)
from intents.review import labelling_queue
from intents.training import LABEL_ISSUES_LIMIT

pytestmark = pytest.mark.django_db

TINY = ["--examples", "400", "--predictions", "2000", "--intents", "20", "--feedback", "200"]


def test_the_command_writes_examples_predictions_feedback_and_three_versions(django_user_model):
    call_command("intents_bench_data", *TINY, "--pending", "30", "--decisions", "60")

    assert LabeledExample.objects.count() >= 400
    assert LabeledExample.objects.filter(labelled_by="lead-3").count() == 40
    assert Prediction.objects.count() == 2000
    assert 0 < Prediction.objects.filter(abstained=True, intent="").count() < 2000 * 0.3
    assert all(len(top) == 3 for top in Prediction.objects.values_list("top", flat=True)[:50])
    assert IntentFeedback.objects.count() == 200
    assert LabeledExample.objects.filter(status="pending_review").count() > 0
    active = ModelVersion.objects.get(status=ModelVersion.Status.ACTIVE)
    matrix = active.training_metrics.confusion_matrix
    assert len(matrix.labels) == len(matrix.matrix) == 20
    issues = ModelVersionDataset.objects.get(version=active).label_issues
    assert 0 < len(issues) <= LABEL_ISSUES_LIMIT
    assert ModelVersion.objects.count() == 3
    user = django_user_model.objects.create_user("reviewer", is_staff=True)
    assert labelling_queue(user_id=user.pk, limit=2)


def test_the_command_refuses_a_database_with_examples_unless_forced():
    call_command("intents_bench_data", *TINY)

    with pytest.raises(CommandError, match="--force"):
        call_command("intents_bench_data", *TINY)

    call_command("intents_bench_data", *TINY, "--force")
    assert Prediction.objects.count() == 4000
    assert ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).count() == 1
