"""Suspected mislabels: the finder on out-of-fold probabilities (pure), what a training run
stores, and the labelling queue serving them until a person decides."""

import random

import numpy as np
import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from intents.label_issues import find_label_issues
from intents.models import Intent, LabelDecision, LabeledExample, ModelVersion, text_fingerprint
from intents.params import TrainingParams
from intents.review import labelling_queue, suspected_mislabels_count
from intents.services import model_version_activate, model_version_create, model_version_train
from intents.training import train
from tests.factories import labelled_rows

# --- The finder (pure) -------------------------------------------------------------------------


def flipped_data(per_intent: int, flips: int, seed: int = 0):
    """Texts and labels with `flips` labels deliberately changed to another intent, and the
    positions of those."""
    rows = labelled_rows(per_intent=per_intent)
    texts = [row.text for row in rows]
    labels = [row.intent for row in rows]
    intents = sorted(set(labels))
    rng = random.Random(seed)
    flipped = set(rng.sample(range(len(labels)), flips))
    for position in flipped:
        labels[position] = rng.choice([name for name in intents if name != labels[position]])
    return texts, labels, flipped


def precision_and_recall(found: set[int], flipped: set[int]) -> tuple[float, float]:
    right = len(found & flipped)
    return right / max(len(found), 1), right / len(flipped)


@pytest.mark.parametrize(
    "params",
    [
        pytest.param(TrainingParams(word_vectors=None), id="cross-validation"),
        pytest.param(TrainingParams(word_vectors=None, cv_max_examples=50), id="hold-out"),
    ],
)
def test_training_finds_most_flipped_labels_and_few_right_ones(params):
    texts, labels, flipped = flipped_data(per_intent=40, flips=8)

    result = train(texts, labels, params=params, with_label_issues=True)

    found = {issue.index for issue in result.label_issues}
    precision, recall = precision_and_recall(found, flipped)
    assert recall >= 0.75
    assert precision >= 0.6
    for issue in result.label_issues:
        assert issue.label == labels[issue.index]
        assert issue.suggestion != issue.label
        assert issue.suggestion_probability > issue.label_probability
    assert [issue.label_probability for issue in result.label_issues] == sorted(
        issue.label_probability for issue in result.label_issues
    )


def test_training_looks_for_label_issues_only_when_asked():
    texts, labels, _ = flipped_data(per_intent=10, flips=2)

    assert train(texts, labels, params=TrainingParams(word_vectors=None)).label_issues == ()


def test_an_unsure_example_is_not_suspected_when_its_label_is_still_the_most_probable():
    classes = ["a", "b"]
    y_idx = np.array([0, 0, 0, 1, 1, 1])
    proba = np.array([[0.9, 0.1], [0.9, 0.1], [0.55, 0.45], [0.1, 0.9], [0.1, 0.9], [0.9, 0.1]])

    issues = find_label_issues(y_idx, proba, classes)

    # The third example is below its intent's mean self-confidence but still most likely "a".
    assert [(issue.index, issue.label, issue.suggestion) for issue in issues] == [(5, "b", "a")]
    assert issues[0].top == [("a", 0.9), ("b", 0.1)]


def test_issues_are_ranked_least_self_confident_first_and_capped():
    classes = ["a", "b", "c"]
    y_idx = np.array([0] * 6 + [1] * 6 + [2] * 6)
    proba = np.full((18, 3), 0.05)
    proba[np.arange(18), y_idx] = 0.9
    proba[0] = [0.08, 0.87, 0.05]  # labelled "a", confidently "b"
    proba[6] = [0.05, 0.05, 0.90]  # labelled "b", confidently "c"
    proba[12] = [0.80, 0.10, 0.10]  # labelled "c", confidently "a"

    issues = find_label_issues(y_idx, proba, classes)
    capped = find_label_issues(y_idx, proba, classes, limit=2)

    assert [issue.index for issue in issues] == [6, 0, 12]
    assert [issue.index for issue in capped] == [6, 0]


# --- A training run and the labelling queue ----------------------------------------------------


@pytest.fixture
def reviewer(django_user_model):
    user = django_user_model.objects.create_user("lead", password="pw", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_labeledexample", "change_labeledexample"])
    )
    return user


@pytest.fixture
def lead_client(client, reviewer):
    client.force_login(reviewer)
    return client


@pytest.fixture
def mislabelled(labelled_examples, settings):
    """The test dataset with three labels deliberately wrong, and an active version trained on
    it; returns the ids of the mislabelled examples."""
    settings.INTENT_TRAINING_SEED = 0
    wrong = {"where is my order 1000": "get_refund", "please refund order #1007": "track_order"}
    wrong["please stop order 1014 before it ships"] = "get_refund"
    ids = []
    for text, intent_name in wrong.items():
        example = LabeledExample.objects.get(text_sha256=text_fingerprint(text))
        # A queryset update, as an import would: labelled_at stays before the training run.
        LabeledExample.objects.filter(pk=example.pk).update(
            intent=Intent.objects.get(name=intent_name)
        )
        ids.append(example.pk)
    version = model_version_train(version_id=model_version_create().id)
    model_version_activate(version_id=version.id)
    return ids


def mislabel_items(user):
    return [item for item in labelling_queue(user_id=user.pk, limit=20) if item.kind == "mislabel"]


def decide(client, key: str, choice: str):
    return client.post(
        reverse("intents:queue-decide"),
        {"key": key, "choice": choice},
        HTTP_ACCEPT="application/json",
    )


@pytest.mark.django_db
def test_a_training_run_stores_the_suspected_mislabels_and_the_queue_serves_them(
    mislabelled, reviewer, lead_client
):
    stored = ModelVersion.objects.get(status=ModelVersion.Status.ACTIVE).dataset.label_issues
    assert {issue["text_sha256"] for issue in stored} >= {
        LabeledExample.objects.get(pk=pk).text_sha256 for pk in mislabelled
    }

    items = mislabel_items(reviewer)

    by_id = {item.item_id: item for item in items}
    assert set(mislabelled) <= set(by_id)
    item = by_id[mislabelled[0]]  # "where is my order 1000", labelled get_refund
    assert item.key == f"mislabel:{mislabelled[0]}"
    assert item.current_label == "get_refund"
    assert item.suggestion == "track_order"
    assert item.reason.startswith("Labelled Get refund, but the model, trained without it, says ")
    assert item.reason.endswith("%)")
    assert "Track order (" in item.reason
    assert "get_refund" in [choice.name for choice in item.choices]
    page = lead_client.get(reverse("intents:queue"))
    assert "suspected mislabels" in page.content.decode()


@pytest.mark.django_db
def test_accepting_a_suspected_mislabel_relabels_it_and_it_does_not_come_back(
    mislabelled, reviewer, lead_client
):
    example_id = mislabelled[0]
    before = suspected_mislabels_count(user_id=reviewer.pk)

    response = decide(lead_client, f"mislabel:{example_id}", "accept:track_order")

    assert response.json()["ok"] is True
    assert response.json()["mislabels"] == before - 1
    example = LabeledExample.objects.select_related("intent").get(pk=example_id)
    assert example.intent.name == "track_order"
    assert example.labelled_by == "lead"
    decision = LabelDecision.objects.get(example=example)
    assert (decision.kind, decision.action) == ("example", "accept")
    assert example_id not in {item.item_id for item in mislabel_items(reviewer)}


@pytest.mark.django_db
def test_keeping_the_label_changes_nothing_and_undo_brings_the_item_back(
    mislabelled, reviewer, lead_client
):
    example_id = mislabelled[1]  # "please refund order #1007", labelled track_order
    labelled_at = LabeledExample.objects.get(pk=example_id).labelled_at

    decide(lead_client, f"mislabel:{example_id}", "label:track_order")

    example = LabeledExample.objects.select_related("intent").get(pk=example_id)
    assert (example.intent.name, example.labelled_at) == ("track_order", labelled_at)
    assert example_id not in {item.item_id for item in mislabel_items(reviewer)}

    undone = lead_client.post(reverse("intents:queue-undo"), HTTP_ACCEPT="application/json")

    assert f'data-key="mislabel:{example_id}"' in undone.json()["html"]
    assert example_id in {item.item_id for item in mislabel_items(reviewer)}


@pytest.mark.django_db
def test_an_example_changed_since_the_version_was_trained_is_not_suspected(mislabelled, reviewer):
    LabeledExample.objects.filter(pk=mislabelled[2]).update(labelled_at=timezone.now())

    assert mislabelled[2] not in {item.item_id for item in mislabel_items(reviewer)}


@pytest.mark.django_db
def test_an_example_a_person_labelled_from_another_queue_item_is_not_suspected(
    mislabelled, reviewer
):
    # A label given on an unsure prediction made or changed this example: a person chose it.
    # (labelled_at is left as it was, so only the decision can keep it out.)
    example = LabeledExample.objects.get(pk=mislabelled[1])
    LabelDecision.objects.create(
        kind=LabelDecision.Kind.PREDICTION,
        item_id=1,
        action=LabelDecision.Action.LABEL,
        intent=example.intent,
        example=example,
        decided_by=reviewer,
    )

    suspected = {item.item_id for item in mislabel_items(reviewer)}

    assert mislabelled[1] not in suspected and mislabelled[0] in suspected


@pytest.mark.django_db
def test_the_overview_counts_the_suspected_mislabels(mislabelled, reviewer, lead_client):
    response = lead_client.get(reverse("intents:overview"))

    assert response.context["counts"].mislabels == suspected_mislabels_count(user_id=reviewer.pk)
    assert response.context["counts"].mislabels >= len(mislabelled)
    assert "Suspected mislabels" in response.content.decode()
