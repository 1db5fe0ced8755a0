"""An example's history in the training UI: how it was added and every change since, whoever
made it and wherever (the dataset page, a merge, an agent in the card), deletions included."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from intents.models import LabelDecision, LabeledExample
from intents.services import intent_feedback_record
from tests.intents.test_feedback import LEAD, MESSAGE, classified_message, intents  # noqa: F401

pytestmark = pytest.mark.django_db


def _history(client, example_id: int) -> list[str]:
    """The page's changes, each as one line of text, oldest first."""
    page = client.get(reverse("intents:example-history", args=[example_id])).content.decode()
    changes = page[page.index('<ol class="example-history">') : page.index("</ol>")]
    items = re.findall(r"<li[^>]*>(.*?)</li>", changes, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


def test_the_history_keeps_every_change_on_the_dataset_page_and_by_merge(
    lead_client, labelled_examples
):
    example = LabeledExample.objects.filter(intent__name="track_order").first()
    lead_client.post(
        reverse("intents:example-relabel", args=[example.id]), {"intent": "cancel_order"}
    )
    lead_client.post(
        reverse("intents:example-change", args=[example.id]),
        {"action": "edit", "text": "Where has my parcel gone?"},
    )
    cancel_order = example.__class__.objects.get(pk=example.pk).intent
    lead_client.post(
        reverse("intents:intent-change", args=[cancel_order.id]),
        {"action": "merge", "target": "get_refund"},
    )

    history = _history(lead_client, example.id)

    assert len(history) == 4
    assert history[0].endswith("Added with the label track_order")
    assert history[1].endswith("lead Relabelled track_order → cancel_order")
    assert re.search(r"lead Corrected the text, which read “.+”$", history[2])
    assert history[3].endswith("lead Its intent cancel_order was merged into get_refund")


def test_a_deleted_example_keeps_its_history_and_undo_marks_the_deletion_undone(
    lead_client, labelled_examples
):
    example = LabeledExample.objects.filter(intent__name="get_refund").first()
    lead_client.post(reverse("intents:example-change", args=[example.id]), {"action": "delete"})

    page = lead_client.get(reverse("intents:example-history", args=[example.id]))
    assert "This example is deleted." in page.content.decode()
    assert example.text in page.content.decode()
    assert _history(lead_client, example.id)[-1].endswith(
        "lead Deleted the example (labelled get_refund)"
    )

    lead_client.post(reverse("intents:queue-undo"), HTTP_ACCEPT="application/json")
    restored = _history(lead_client, example.id)
    assert (
        "undone" in restored[-1]
        and "This example is deleted."
        not in lead_client.get(
            reverse("intents:example-history", args=[example.id])
        ).content.decode()
    )


def test_an_agents_change_of_mind_in_the_card_is_in_the_history(
    lead_client,
    classified_message,  # noqa: F811  (fixture)
    settings,
):
    settings.INTENT_TRUSTED_LABELLERS = ["role:org.admin"]
    intent_feedback_record(kustomer_message_id=MESSAGE, agent=LEAD, confirm=True)
    example = LabeledExample.objects.get()

    intent_feedback_record(kustomer_message_id=MESSAGE, agent=LEAD, intent_name="cancel_order")
    intent_feedback_record(kustomer_message_id=MESSAGE, agent=LEAD, intent_name=None)

    assert not LabeledExample.objects.exists()
    history = _history(lead_client, example.id)
    assert history[0].endswith("Lea Lead Added with the label track_order")
    assert history[1].endswith(
        "Lea Lead (agent, in the card) Changed the label in the card: track_order → cancel_order"
    )
    assert history[2].endswith(
        "Lea Lead (agent, in the card) Withdrew the label cancel_order in the card: "
        "the example was deleted"
    )
    # The agent's changes are history, not a reviewer's decisions to undo.
    assert not LabelDecision.objects.filter(decided_by__isnull=False).exists()


def test_an_example_never_recorded_is_not_found(lead_client, db):
    assert lead_client.get(reverse("intents:example-history", args=[999999])).status_code == 404


def test_the_dataset_links_each_example_to_its_history(lead_client, labelled_examples):
    page = lead_client.get(reverse("intents:dataset")).content.decode()

    example = LabeledExample.objects.order_by("-labelled_at", "-id").first()
    assert reverse("intents:example-history", args=[example.id]) in page


def test_the_admin_shows_examples_but_changes_them_only_through_the_training_ui(
    admin_client, labelled_examples
):
    example = LabeledExample.objects.first()
    change_url = reverse("admin:intents_labeledexample_change", args=[example.id])

    assert admin_client.get(change_url).status_code == 200
    admin_client.post(change_url, {"text": "changed", "intent": example.intent_id})
    delete_url = reverse("admin:intents_labeledexample_delete", args=[example.id])

    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    example.refresh_from_db()
    assert example.text != "changed"


def test_undo_never_throws_away_a_change_someone_else_made_since(
    client, lead_client, reviewer, django_user_model, labelled_examples
):
    example = LabeledExample.objects.filter(intent__name="track_order").first()
    lead_client.post(
        reverse("intents:example-relabel", args=[example.id]), {"intent": "cancel_order"}
    )
    other = django_user_model.objects.create_user("grace", password="pw", is_staff=True)
    other.user_permissions.set(reviewer.user_permissions.all())
    grace = Client()
    grace.force_login(other)
    grace.post(reverse("intents:example-relabel", args=[example.id]), {"intent": "get_refund"})

    refused = lead_client.post(reverse("intents:queue-undo"), HTTP_ACCEPT="application/json")

    assert refused.status_code == 409
    assert refused.json()["message"].startswith("grace changed this example since (labelled, ")
    example.refresh_from_db()
    assert (example.intent.name, example.labelled_by) == ("get_refund", "grace")
    assert not LabelDecision.objects.filter(undone_at__isnull=False).exists()


def test_the_dataset_names_the_agent_who_labelled_in_the_card(
    lead_client,
    classified_message,  # noqa: F811  (fixture)
    settings,
):
    settings.INTENT_TRUSTED_LABELLERS = ["role:org.admin"]
    intent_feedback_record(kustomer_message_id=MESSAGE, agent=LEAD, intent_name="cancel_order")

    page = lead_client.get(reverse("intents:dataset")).content.decode()

    assert '<span class="dataset__who" title="agent-lead">Lea Lead</span>' in page
