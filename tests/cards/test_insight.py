"""The card's intent and drafts sections, as the card's script receives them: over real HTTP,
signed in through the fake Kustomer, with a trained intent model."""

import re

import pytest

from cards.models import CardSession
from copilot.inbox.models import InboundMessage
from copilot.replies.facts import AGENT_PLACEHOLDER
from copilot.replies.models import Draft, DraftRegeneration
from copilot.sandbox.kustomer import models as sandbox_models
from copilot.sandbox.kustomer import services as sandbox_services
from intents import prediction as intent_prediction
from intents.models import IntentFeedback
from intents.services import (
    examples_import,
    model_version_activate,
    model_version_create,
    model_version_train,
    prediction_record,
)
from tests.factories import labelled_rows

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def trained(transactional_db):
    examples_import(rows=labelled_rows())
    version = model_version_train(version_id=model_version_create().id)
    model_version_activate(version_id=version.id)
    intent_prediction.active_model.clear()
    yield version
    intent_prediction.active_model.clear()


@pytest.fixture
def customer(card_world):
    return sandbox_services.customer_create(name="Grace Hopper", email="grace@example.com")


def customer_writes(customer, text: str, *, conversation=None, drafts=("Hello {agent}",)):
    """The customer writes in, and the pipeline classifies the message and drafts replies."""
    sent = sandbox_services.message_send_from_customer(
        customer=None if conversation else customer, conversation=conversation, body=text
    )
    classification = intent_prediction.classify(text)
    prediction = prediction_record(
        text=text,
        classification=classification,
        kustomer_message_id=sent.id,
        kustomer_conversation_id=sent.conversation_id,
    )
    message = InboundMessage.objects.create(
        kustomer_message_id=sent.id,
        conversation_id=sent.conversation_id,
        customer_id=customer.id,
        channel="email",
        text=text,
        prediction=prediction,
        status=InboundMessage.Status.CLASSIFIED,
    )
    for rank, draft in enumerate(drafts, start=1):
        Draft.objects.create(
            message=message,
            rank=rank,
            text=draft.replace("{agent}", AGENT_PLACEHOLDER),
            source=Draft.Source.TEMPLATE if rank > 1 else Draft.Source.MODEL,
            source_name="Order status" if rank > 1 else "",
            language="en",
        )
    return message


def insight(card, conversation_id: str, **headers):
    return card.card(
        "GET", f"/card/fragments/insight?conversation={conversation_id}", headers=headers
    )


def test_without_a_session_the_card_gets_401_and_nothing_of_the_customer(
    card_world, customer, trained
):
    message = customer_writes(customer, "where is my order 1042")
    card = card_world.sign_in()
    card.key = "not-a-session"

    answer = insight(card, message.conversation_id)

    assert answer.status_code == 401
    assert "1042" not in answer.text
    assert answer.json()["error"] == "Sign in with Kustomer to see this customer."


def test_the_card_shows_the_intent_its_confidence_alternatives_and_why(
    card_world, customer, trained
):
    message = customer_writes(customer, "where is my order 1042, it has not arrived")
    card = card_world.sign_in()

    answer = insight(card, message.conversation_id)

    assert answer.status_code == 200
    html = answer.text
    assert re.search(r'class="intent__name">Track order<', html)
    assert re.search(r"(High|Medium|Low) confidence", html)
    assert "Also possible:" in html
    assert "<mark>" in html  # the words that weighed most
    assert re.search(r'<button type="submit"[^>]*name="choice" value="right"', html)


def test_an_unchanged_conversation_costs_a_304_and_a_new_message_changes_it(
    card_world, customer, trained
):
    message = customer_writes(customer, "where is my order 1042")
    card = card_world.sign_in()
    first = insight(card, message.conversation_id)
    etag = first.headers["ETag"]

    again = insight(card, message.conversation_id, **{"If-None-Match": etag})
    conversation = sandbox_models.Conversation.objects.get(pk=message.conversation_id)
    customer_writes(customer, "please cancel order 1042", conversation=conversation)
    changed = insight(card, message.conversation_id, **{"If-None-Match": etag})

    assert again.status_code == 304 and again.text == ""
    assert changed.status_code == 200
    assert 'class="intent__name">Cancel order<' in changed.text


def test_right_then_another_intent_keeps_one_label_per_message(card_world, customer, trained):
    message = customer_writes(customer, "where is my order 1042")
    card = card_world.sign_in()

    right = card.card(
        "POST",
        "/card/intent/feedback",
        data={"message": message.kustomer_message_id, "choice": "right"},
    )
    corrected = card.card(
        "POST",
        "/card/intent/feedback",
        data={"message": message.kustomer_message_id, "intent": "get_refund"},
    )

    assert right.status_code == 200 and "Thanks" in right.text
    assert corrected.status_code == 200
    feedback = IntentFeedback.objects.get()
    assert feedback.verdict == IntentFeedback.Verdict.CORRECTED
    assert feedback.intent.name == "get_refund"
    assert feedback.agent_id == str(card_world.ada.id)
    assert feedback.agent_name == "Ada Agent"


def test_none_of_these_is_a_label_too(card_world, customer, trained):
    message = customer_writes(customer, "where is my order 1042")
    card = card_world.sign_in()

    answer = card.card(
        "POST",
        "/card/intent/feedback",
        data={"message": message.kustomer_message_id, "choice": "none"},
    )

    assert answer.status_code == 200
    assert IntentFeedback.objects.get().verdict == IntentFeedback.Verdict.NONE_OF_THESE


def test_a_post_without_the_cards_csrf_header_is_refused(card_world, customer, trained):
    message = customer_writes(customer, "where is my order 1042")
    card = card_world.sign_in()
    card.csrf = "forged"

    answer = card.card(
        "POST",
        "/card/intent/feedback",
        data={"message": message.kustomer_message_id, "choice": "right"},
    )

    assert answer.status_code == 403
    assert not IntentFeedback.objects.exists()


def test_use_puts_the_signed_draft_in_the_conversations_reply_box(card_world, customer, trained):
    message = customer_writes(
        customer, "where is my order 1042", drafts=("Your order ships today. {agent}", "Hi")
    )
    card = card_world.sign_in()
    first, second = Draft.objects.order_by("rank")

    used = card.card("POST", f"/card/drafts/{first.pk}/use")
    again = card.card("POST", f"/card/drafts/{second.pk}/use")

    assert used.status_code == 200 and "In your reply box" in used.text
    assert again.status_code == 200
    in_kustomer = sandbox_models.Draft.objects.filter(conversation_id=message.conversation_id)
    assert in_kustomer.count() == 1  # one draft per conversation and channel, replaced
    assert in_kustomer.get().body == "Hi"
    first.refresh_from_db()
    assert first.status == Draft.Status.USED and first.feedback_by == str(card_world.ada.id)


def test_the_used_draft_is_signed_with_the_agents_name(card_world, customer, trained):
    message = customer_writes(customer, "where is my order 1042", drafts=("Thanks! {agent}",))
    card = card_world.sign_in()

    card.card("POST", f"/card/drafts/{Draft.objects.get().pk}/use")

    body = sandbox_models.Draft.objects.get(conversation_id=message.conversation_id).body
    assert body == "Thanks! Ada Agent"


def test_dismissed_drafts_leave_the_card_and_new_drafts_are_asked_for(
    card_world, customer, trained
):
    message = customer_writes(customer, "where is my order 1042", drafts=("One", "Two"))
    card = card_world.sign_in()
    first = Draft.objects.get(rank=1)

    dismissed = card.card("POST", f"/card/drafts/{first.pk}/feedback", data={"action": "dismissed"})
    regenerating = card.card("POST", "/card/drafts/regenerate", data={"message": message.pk})

    assert dismissed.status_code == 200
    assert f'id="draft-{first.pk}-text"' not in dismissed.text
    assert "Two" in dismissed.text
    assert regenerating.status_code == 200
    asked = DraftRegeneration.objects.get(message=message)
    assert asked.requested_by == str(card_world.ada.id)


def test_a_conversation_kustomer_does_not_show_the_agent_shows_nothing(
    card_world, customer, trained
):
    message = customer_writes(customer, "where is my order 1042 secret")
    sandbox_models.Conversation.objects.filter(pk=message.conversation_id).delete()
    card = card_world.sign_in()

    answer = insight(card, message.conversation_id)

    assert answer.status_code == 200
    assert "does not show you this conversation" in answer.text
    assert "secret" not in answer.text


def test_a_token_kustomer_refuses_signs_the_card_out(card_world, customer, trained):
    from copilot.sandbox.kustomer import oauth as sandbox_oauth

    message = customer_writes(customer, "where is my order 1042")
    card = card_world.sign_in()
    sandbox_oauth.user_tokens_revoke(user=card_world.ada)

    answer = insight(card, message.conversation_id)

    assert answer.status_code == 401
    assert CardSession.objects.get().ended_at is not None
