"""Suggested intents: abstained messages grouped by meaning (intents.suggestions), and the
training UI's page that turns a group into a new intent or files it under an existing one."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from intents import curation
from intents.classifier import IntentPrediction
from intents.models import Intent, LabelDecision, LabeledExample, ModelVersion, Prediction
from intents.prediction import Classification
from intents.services import intents_ensure, prediction_record
from intents.suggestions import suggest_groups

GIFT_CARDS = [
    "How do I check the balance on my gift card?",
    "what's left on my gift card balance",
    "Can you tell me my gift card balance please",
    "gift card balance check",
    "I want to know how much money is on my gift card",
]
WARRANTY = [
    "Is this kettle still under warranty?",
    "how long is the warranty on the blender",
    "Does the warranty cover a broken handle?",
    "warranty claim for my toaster",
]
OTHERS = ["Do you ship to Iceland?", "My cat loves your website", "Are you hiring?"]


def test_messages_that_mean_the_same_are_grouped_and_named_by_their_words():
    texts = GIFT_CARDS + OTHERS + WARRANTY

    groups = suggest_groups(texts, min_size=3)

    found = [{texts[index] for index in group.members} for group in groups]
    assert set(GIFT_CARDS) in found and set(WARRANTY) in found
    assert not any(set(OTHERS) & members for members in found)  # one-offs join no group
    gift = next(group for group in groups if set(GIFT_CARDS) == {texts[i] for i in group.members})
    assert "gift" in gift.name and "card" in gift.name
    assert groups[0].size == len(GIFT_CARDS)  # the largest first


def test_too_few_or_empty_messages_make_no_group():
    assert suggest_groups(["hello", "", "   "], min_size=3) == []
    assert suggest_groups(GIFT_CARDS[:2], min_size=3) == []


# --- the page -----------------------------------------------------------------------------------


@pytest.fixture
def lead(django_user_model):
    user = django_user_model.objects.create_user("lead", password="pw", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_labeledexample", "change_labeledexample", "change_intent"]
        )
    )
    return user


@pytest.fixture
def abstained(db) -> list[Prediction]:
    intents_ensure(definitions=[("track_order", ""), ("get_refund", "")])
    version = ModelVersion.objects.create(number=1, status=ModelVersion.Status.ACTIVE)
    predictions = []
    for number, text in enumerate(GIFT_CARDS + OTHERS):
        guess = IntentPrediction(
            intent=None, confidence=0.3, top=[("track_order", 0.3)], abstained=True
        )
        predictions.append(
            prediction_record(
                text=text,
                classification=Classification(guess, version.id, version.number, 0.4),
                kustomer_message_id=f"msg-{number}",
                kustomer_conversation_id="conv-1",
            )
        )
    return predictions


def test_the_page_shows_the_groups_of_abstained_messages(client, lead, abstained):
    client.force_login(lead)

    response = client.get(reverse("intents:suggestions"))

    page = response.content.decode()
    assert response.status_code == 200
    [group] = response.context["groups"]
    assert {message.text for message in group["messages"]} == set(GIFT_CARDS)
    assert "Create intent from the group" in page and "File the group" in page
    assert "<title>Suggested intents · Copilot training</title>" in page


def test_a_group_becomes_a_new_intent_with_its_ticked_messages_and_undo_takes_them_back(
    client, lead, abstained
):
    client.force_login(lead)
    ticked = [p.pk for p in abstained[:4]]  # the fifth gift card message was unticked

    response = client.post(
        reverse("intents:suggestion-apply"),
        {"action": "create", "name": "Gift card balance", "prediction": ticked},
        follow=True,
    )

    assert "Intent gift_card_balance created with 4 examples." in response.content.decode()
    examples = LabeledExample.objects.filter(intent__name="gift_card_balance")
    assert {e.text for e in examples} == set(GIFT_CARDS[:4])
    assert {(e.status, e.source, e.labelled_by) for e in examples} == {("trusted", "admin", "lead")}
    assert len(set(LabelDecision.objects.values_list("batch", flat=True))) == 1
    # Labelled messages leave the suggestions: one is left, too few for a group.
    assert client.get(reverse("intents:suggestions")).context["groups"] == []

    curation.label_decision_undo(user=lead)

    assert not LabeledExample.objects.exists()
    assert Intent.objects.filter(name="gift_card_balance").exists()  # the intent stays


def test_a_group_is_filed_under_an_existing_intent(client, lead, abstained):
    client.force_login(lead)

    client.post(
        reverse("intents:suggestion-apply"),
        {"action": "file", "intent": "get_refund", "prediction": [abstained[0].pk]},
    )

    [example] = LabeledExample.objects.select_related("intent")
    assert (example.text, example.intent.name) == (GIFT_CARDS[0], "get_refund")


def test_someone_who_may_only_look_sees_the_groups_without_their_actions(
    client, django_user_model, abstained
):
    viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename="view_labeledexample"))
    client.force_login(viewer)

    page = client.get(reverse("intents:suggestions")).content.decode()

    assert "File the group" not in page and "Create intent from the group" not in page
    assert "needs the permission to label examples" in page


def test_creating_an_intent_needs_the_permission_and_a_name_that_is_free(
    client, django_user_model, lead, abstained
):
    labeller = django_user_model.objects.create_user("labeller", password="pw", is_staff=True)
    labeller.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_labeledexample", "change_labeledexample"])
    )
    client.force_login(labeller)
    ids = [p.pk for p in abstained[:3]]

    refused = client.post(
        reverse("intents:suggestion-apply"),
        {"action": "create", "name": "gift_cards", "prediction": ids},
        follow=True,
    )
    assert "Creating intents needs the permission" in refused.content.decode()
    client.force_login(lead)
    taken = client.post(
        reverse("intents:suggestion-apply"),
        {"action": "create", "name": "track_order", "prediction": ids},
        follow=True,
    )
    assert "There is already an intent named &#x27;track_order&#x27;." in taken.content.decode()
    assert not LabeledExample.objects.exists()


def test_filing_a_group_without_an_intent_says_which_is_missing(client, lead, abstained):
    client.force_login(lead)

    response = client.post(
        reverse("intents:suggestion-apply"),
        {"action": "file", "intent": " ", "prediction": [abstained[0].pk]},
        follow=True,
    )

    assert "Pick the intent to file them under." in response.content.decode()
    assert not LabeledExample.objects.exists()


def test_a_large_group_shows_its_first_messages_and_takes_the_rest_along(
    client, lead, abstained, monkeypatch
):
    from intents import suggestion_views

    monkeypatch.setattr(suggestion_views, "SHOWN", 3)
    client.force_login(lead)

    page = client.get(reverse("intents:suggestions")).content.decode()

    assert page.count('name="prediction"') == 3
    assert "and 2 more messages like these, included with the group" in page
    [group] = client.get(reverse("intents:suggestions")).context["groups"]
    rest = group["rest_ids"]
    shown = [str(message.prediction_id) for message in group["shown"]]
    client.post(
        reverse("intents:suggestion-apply"),
        {"action": "create", "name": "gift_card_balance", "prediction": shown, "more": rest},
    )
    assert LabeledExample.objects.filter(intent__name="gift_card_balance").count() == 5
