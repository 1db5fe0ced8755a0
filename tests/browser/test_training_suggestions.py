"""Suggested intents in Chromium: a team lead sees the abstained messages grouped, unticks one
that does not belong, and makes the group a new intent, with the keyboard alone."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from intents.classifier import IntentPrediction
from intents.models import LabeledExample, ModelVersion
from intents.prediction import Classification
from intents.services import intents_ensure, prediction_record
from tests.browser.conftest import Origins
from tests.browser.helpers import axe, describe_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

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
]


@pytest.fixture
def abstained_messages() -> None:
    intents_ensure(definitions=[("track_order", ""), ("get_refund", "")])
    version = ModelVersion.objects.create(number=1, status=ModelVersion.Status.ACTIVE)
    guess = IntentPrediction(
        intent=None, confidence=0.3, top=[("track_order", 0.3)], abstained=True
    )
    for number, text in enumerate(GIFT_CARDS + WARRANTY):
        prediction_record(
            text=text,
            classification=Classification(guess, version.id, version.number, 0.4),
            kustomer_message_id=f"msg-{number}",
            kustomer_conversation_id=f"conv-{number}",
        )
    get_user_model().objects.create_superuser("lead", "lead@example.com", "a-long-password-1")


def test_a_lead_makes_a_group_a_new_intent_with_the_keyboard(
    page: Page, origins: Origins, abstained_messages
) -> None:
    page.goto(f"{origins.app}/admin/login/?next=/training/suggestions/")
    page.get_by_label("Username").fill("lead")
    page.get_by_label("Password").fill("a-long-password-1")
    page.get_by_label("Password").press("Enter")

    gift = page.get_by_role("region", name=re.compile(r"gift.*\(5 messages\)"))
    expect(gift).to_be_visible()
    expect(page.get_by_role("region", name=re.compile(r"warranty.*\(3 messages\)"))).to_be_visible()
    # Three messages show; the rest wait behind "Show all".
    expect(gift.get_by_role("checkbox")).to_have_count(3)
    gift.get_by_text("Show all 5 messages").click()
    expect(gift.get_by_role("checkbox")).to_have_count(5)
    screenshot(page, "training-suggestions-1280")
    assert not (violations := axe(page)), describe_violations(violations)

    gift.get_by_role("checkbox", name=re.compile("how much money")).focus()
    page.keyboard.press("Space")  # unticked: it stays a suggestion
    name = gift.get_by_label("New intent")
    name.focus()
    name.fill("gift_card_balance")
    page.keyboard.press("Tab")
    expect(gift.get_by_role("button", name="Create intent from the group")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_text("Intent gift_card_balance created with 4 examples.")).to_be_visible()
    texts = set(
        LabeledExample.objects.filter(intent__name="gift_card_balance").values_list(
            "text", flat=True
        )
    )
    assert texts == set(GIFT_CARDS) - {GIFT_CARDS[4]}
    expect(page.get_by_role("region", name=re.compile(r"gift"))).to_have_count(0)
