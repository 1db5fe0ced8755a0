"""Import from Kustomer in Chromium: a team lead previews three months of past conversations,
maps their tags to intents and follows the import to its end."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from copilot.sandbox.kustomer import history
from copilot.sandbox.kustomer import services as sandbox
from intents.models import LabeledExample
from intents.services import intents_ensure
from tests.browser.conftest import Origins
from tests.browser.helpers import axe, describe_violations, screenshot
from tests.browser.test_training_ui import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def kustomer_history(settings, origins: Origins) -> None:
    history.conversation_history_seed()
    key = sandbox.api_key_create(roles=["org.user.search.read", "org.user.message.read"])
    settings.KUSTOMER_API_BASE_URL = f"{origins.app}/sandbox/kustomer"
    settings.KUSTOMER_API_KEY = key.token
    intents_ensure(
        definitions=[
            ("track_order", "Where is my order"),
            ("get_refund", "Money back"),
            ("cancel_order", "Stop an order"),
        ]
    )
    get_user_model().objects.create_superuser("lead", "lead@example.com", "a-long-password-1")


def test_a_lead_previews_maps_and_imports_past_conversations(
    page: Page, origins: Origins, kustomer_history
) -> None:
    sign_in(page, origins, "/training/import/")
    expect(page.get_by_role("link", name="Import from Kustomer")).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.get_by_label("Conversations created from")).to_have_value(re.compile(r"\d{4}-"))

    page.get_by_role("button", name="Preview").click()

    expect(
        page.get_by_role("heading", name=re.compile(r"conversations in the range"))
    ).to_be_visible()
    shipping = page.get_by_role("row", name=re.compile(r"^shipping-delay"))
    expect(shipping).to_contain_text("8")
    page.get_by_label("Import shipping-delay as").select_option("track_order")
    page.get_by_label("Import refund-request as").select_option("get_refund")
    page.get_by_label("Import cancel-order as").select_option("cancel_order")
    assert not axe(page), describe_violations(axe(page))
    screenshot(page, "training-kustomer-import-1280")

    page.get_by_role("button", name="Import").click()

    expect(page.get_by_text(re.compile(r"Done: .*20 examples imported"))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Examples imported"))).to_contain_text("20")
    assert not axe(page), describe_violations(axe(page))
    screenshot(page, "training-kustomer-import-run-1280")
    assert LabeledExample.objects.filter(source="kustomer_history").count() == 20

    page.get_by_role("link", name="Import from Kustomer").first.click()
    expect(page.get_by_role("table").first).to_contain_text("20")


def test_in_the_queue_c_shows_the_whole_conversation_from_kustomer(
    page: Page, origins: Origins, kustomer_history
) -> None:
    from copilot.sandbox.kustomer.models import Conversation
    from intents.classifier import IntentPrediction
    from intents.models import ModelVersion
    from intents.prediction import Classification
    from intents.services import prediction_record

    conversation = Conversation.objects.order_by("id").first()
    inbound = conversation.messages.get(direction="in")
    version = ModelVersion.objects.create(number=1, status=ModelVersion.Status.ACTIVE)
    top = [("track_order", 0.41), ("get_refund", 0.40), ("cancel_order", 0.19)]
    text = "Hi! I changed my mind about it, please cancel it."
    prediction_record(
        text=text,
        classification=Classification(
            IntentPrediction(intent="track_order", confidence=0.41, top=top, abstained=False),
            version.id,
            version.number,
            1.0,
        ),
        kustomer_message_id=str(inbound.id),
        kustomer_conversation_id=str(conversation.id),
    )
    sign_in(page, origins, "/training/queue/")
    message = page.get_by_role("article", name="Message to label")
    expect(message).to_contain_text(text)

    page.keyboard.press("c")

    transcript = message.get_by_role("list", name="The conversation in Kustomer")
    expect(transcript).to_contain_text(history.AGENT_REPLY)
    expect(transcript.get_by_role("listitem").first).to_contain_text("Customer")
    button = message.get_by_role("button", name=re.compile(r"^Conversation in Kustomer"))
    expect(button).to_have_attribute("aria-expanded", "true")
    assert not axe(page), describe_violations(axe(page))
    screenshot(page, "training-queue-conversation-1280")

    page.keyboard.press("c")
    expect(transcript).to_be_hidden()
