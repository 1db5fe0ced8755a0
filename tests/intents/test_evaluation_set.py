"""The frozen evaluation set: examples held out of training for good, so that two versions are
compared on the same messages (intents.curation.evaluation_set_freeze, intents.evaluation)."""

from collections import Counter

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from intents import curation, evaluation
from intents.metrics import evaluate
from intents.models import EvaluationSetRevision, LabeledExample
from intents.prediction import load_model_version
from intents.selectors import training_examples
from intents.services import model_version_activate, model_version_create, model_version_train

pytestmark = pytest.mark.django_db

INTENTS = {"track_order", "get_refund", "cancel_order", "change_shipping_address"}


@pytest.fixture
def lead(django_user_model):
    user = django_user_model.objects.create_user("lead", password="pw", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_labeledexample", "change_modelversion"])
    )
    return user


def held_out() -> Counter:
    return Counter(
        LabeledExample.objects.filter(held_out_at__isnull=False).values_list(
            "intent__name", flat=True
        )
    )


def test_freezing_holds_a_share_of_each_intent_out_of_training(lead, labelled_examples):
    frozen = curation.evaluation_set_freeze(user=lead, share=0.2)

    # 18 examples per intent: 20 % is 4 each, and 14 stay to train on.
    assert held_out() == {name: 4 for name in INTENTS}
    assert frozen.added == 16 and frozen.skipped == []
    training = Counter(intent for _, intent in training_examples())
    assert training == {name: 14 for name in INTENTS}
    held_texts = set(
        LabeledExample.objects.filter(held_out_at__isnull=False).values_list("text", flat=True)
    )
    assert not held_texts & {text for text, _ in training_examples()}


def test_freezing_again_adds_from_what_is_left_and_keeps_enough_to_train_on(
    lead, labelled_examples, settings
):
    settings.INTENT_MIN_EXAMPLES = 12
    curation.evaluation_set_freeze(user=lead, share=0.2)  # 4 each, 14 left

    again = curation.evaluation_set_freeze(user=lead, share=0.5)  # 7 asked, only 2 spare

    assert again.per_intent == {name: 2 for name in INTENTS}
    assert held_out() == {name: 6 for name in INTENTS}
    nothing = curation.evaluation_set_freeze(user=lead, share=0.5)
    assert nothing.added == 0 and sorted(nothing.skipped) == sorted(INTENTS)


@pytest.mark.parametrize("share", [0, 0.75])
def test_a_share_out_of_range_is_refused_with_a_sentence(lead, labelled_examples, share):
    with pytest.raises(curation.LabellingError, match="between 1 % and 50 %"):
        curation.evaluation_set_freeze(user=lead, share=share)
    assert not held_out()


def train() -> object:
    return model_version_train(version_id=model_version_create().id)


def test_two_versions_are_scored_on_the_same_frozen_messages(lead, labelled_examples):
    before = train()  # trained on everything, the future evaluation set included
    model_version_activate(version_id=before.id)
    curation.evaluation_set_freeze(user=lead, share=0.25)
    after = train()

    compared = evaluation.versions_compared_on_evaluation_set(before, after)

    frozen = LabeledExample.objects.filter(held_out_at__isnull=False).order_by("id")
    texts = [example.text for example in frozen]
    labels = [example.intent.name for example in frozen]
    assert compared.size == len(texts) == 16 and compared.left_out == 0  # 4.5 rounds to 4
    expected = evaluate(load_model_version(after.id).classifier, texts, labels)
    assert compared.other.accuracy == pytest.approx(expected.accuracy)
    assert {row.name for row in compared.rows} == INTENTS
    assert all(row.base_support == row.other_support == 4 for row in compared.rows)
    # Only the version trained before the freeze can have learned the set's messages.
    assert compared.seen == [before.number]


def test_without_an_evaluation_set_the_comparison_uses_each_versions_own_figures(
    client, lead, labelled_examples
):
    first, second = train(), train()
    client.force_login(lead)

    response = client.get(
        reverse("intents:versions-compare"), {"base": first.number, "other": second.number}
    )

    assert response.context["evaluation"] is None
    assert "Freeze an evaluation set on the Versions page" in response.content.decode()


def test_the_versions_page_freezes_the_set_and_the_comparison_says_what_it_used(
    client, lead, labelled_examples
):
    first = train()
    client.force_login(lead)

    response = client.post(reverse("intents:evaluation-set-freeze"), {"share": "15"}, follow=True)

    page = response.content.decode()
    assert "Revision 1 of the evaluation set: 12 examples of 4 intents added, 12 in all." in page
    assert "Revision 1: 12 examples of 4 intents, frozen since" in page
    second = train()
    compare = client.get(
        reverse("intents:versions-compare"), {"base": first.number, "other": second.number}
    ).content.decode()
    assert "the same 12 messages of the frozen evaluation set, revision 1" in compare
    assert "v1 was trained before the set was frozen" in compare


def test_freezing_needs_the_permission_to_change_model_versions(client, django_user_model):
    viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_labeledexample"))
    client.force_login(viewer)

    response = client.post(reverse("intents:evaluation-set-freeze"), {"share": "15"})

    assert response.status_code == 403


def test_each_freeze_is_a_numbered_revision_with_who_and_why(client, lead, labelled_examples):
    client.force_login(lead)
    client.post(
        reverse("intents:evaluation-set-freeze"), {"share": "10", "reason": "  first   cut "}
    )

    response = client.post(
        reverse("intents:evaluation-set-freeze"),
        {"share": "20", "reason": "New intents since"},
        follow=True,
    )

    first, second = EvaluationSetRevision.objects.order_by("number")
    assert (first.number, first.added, first.size, first.reason) == (1, 8, 8, "first cut")
    assert (second.number, second.size, second.intents) == (2, 8 + second.added, 4)
    assert second.created_by == lead and second.reason == "New intents since"
    assert LabeledExample.objects.filter(held_out_in=second).count() == second.added
    page = response.content.decode()
    assert f"Revision 2 of the evaluation set: {second.added} examples" in page
    assert "New intents since" in page and "first cut" in page


def test_versions_are_compared_on_the_revision_asked_for_and_measured_on_the_current_one(
    client, lead, labelled_examples
):
    curation.evaluation_set_freeze(user=lead, share=0.1)  # 2 of each intent
    first = train()
    curation.evaluation_set_freeze(user=lead, share=0.2)
    second = train()

    on_first = evaluation.versions_compared_on_evaluation_set(first, second, revision=1)
    on_current = evaluation.versions_compared_on_evaluation_set(first, second)

    assert (on_first.revision, on_first.size) == (1, 8)
    assert on_current.revision == 2 and on_current.size == held_out().total() > 8
    assert evaluation.version_on_evaluation_set(second)["revision"] == 2
    client.force_login(lead)
    page = client.get(
        reverse("intents:versions-compare"),
        {"base": first.number, "other": second.number, "revision": "1"},
    ).content.decode()
    assert "same 8 messages of the frozen evaluation set, revision 1" in page
