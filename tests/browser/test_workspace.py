"""The demo workspace in Chromium, from a fresh database prepared by `demo_setup`: the customer
writes in from the workspace, the fake Kustomer's signed webhook reaches the copilot, its note
and KObject appear in the timeline, and the agent works the card framed from the other site."""

import re
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, Page, expect

from copilot.inbox import setup as inbox_setup
from copilot.sandbox.kustomer import models as kustomer_models
from copilot.sandbox.kustomer import services as kustomer
from copilot.sandbox.shopify.models import Order, Refund
from intents import prediction as intent_prediction
from intents.models import IntentFeedback
from tests.browser.conftest import Origins
from tests.browser.helpers import axe, describe_violations, screenshot, wait_for_card_to_fit
from tests.sandbox_shopify import support as shopify_support

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

_fresh_shopify_state = shopify_support._fresh_shopify_state
fake_shop = shopify_support.fake_shop
shopify_url = shopify_support.shopify_url
store = shopify_support.store

CUSTOMER_MESSAGE = "Where is my order? It has not arrived yet and the tracking has not moved."


def demo_env(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


@pytest.fixture
def demo(origins: Origins, settings, store, tmp_path) -> Iterator[str]:
    """The demo as `make run` prepares it, served by the live server; yields demo_setup's output."""
    settings.DEMO_MODE = True
    settings.COPILOT_SANDBOX = True
    settings.DATA_DIR = tmp_path
    settings.COPILOT_PUBLIC_URL = origins.app
    base = f"{origins.app}/sandbox/kustomer"
    settings.KUSTOMER_API_BASE_URL = base
    settings.KUSTOMER_WEB_BASE_URL = base
    settings.KUSTOMER_API_KEY = ""
    settings.KUSTOMER_WEBHOOK_SECRET = []
    settings.KUSTOMER_FRAME_ANCESTORS = [origins.kustomer]
    settings.KUSTOMER_CARD_SDK_URL = f"{origins.kustomer}/sandbox/kustomer/card-js/kustomer-card.js"
    settings.KUSTOMER_CARD_SDK_ORIGIN = origins.kustomer
    settings.SANDBOX_KUSTOMER_WEBHOOK_RETRY_SCALE = 0.0005
    settings.SANDBOX_KUSTOMER_ALLOW_HTTP_WEBHOOKS = True
    settings.SANDBOX_KUSTOMER_LATENCY_MS = 0
    settings.SHOPIFY_WEBHOOK_URL = f"{origins.app}/shopify/webhooks/"
    settings.OPENAI_BASE_URL = f"{origins.app}/sandbox/llm/v1"
    settings.OPENAI_API_KEY = "sk-sandbox-demo-key"
    settings.INTENT_MODEL_REFRESH_SECONDS = 0
    settings.CARD_POLL_SECONDS = 0.5
    settings.CSRF_COOKIE_SECURE = False
    intent_prediction.active_model.clear()
    output = StringIO()
    call_command("demo_setup", stdout=output)
    settings.KUSTOMER_API_KEY = demo_env(tmp_path / "demo.env")["KUSTOMER_API_KEY"]
    inbox_setup._secrets_cache = (0.0, [])
    yield output.getvalue()
    kustomer.webhook_deliveries_wait(timeout=10)
    intent_prediction.active_model.clear()


@pytest.fixture
def wide_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    yield context.new_page()
    context.close()


def test_the_workspace_walks_the_whole_loop(wide_page: Page, origins: Origins, demo: str):
    page = wide_page
    ada = kustomer_models.Customer.objects.get(primary_email="ada@example.com")
    conversation = ada.conversations.get()
    # The address demo_setup prints: the workspace on localhost, framing the card on 127.0.0.1.
    workspace_url = re.search(r"Open the workspace: (\S+)", demo).group(1)
    assert workspace_url.startswith(origins.kustomer)
    page.goto(workspace_url)
    page.get_by_role("link", name=re.compile(r"^Where is order #1042\?")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ada Lovelace")

    # The customer writes in; the copilot's note and KObject arrive in the timeline.
    page.get_by_label("Customer's message").fill(CUSTOMER_MESSAGE)
    page.get_by_role("button", name="Send as customer").click()
    timeline = page.get_by_role("list", name="Timeline")
    expect(timeline.get_by_text(CUSTOMER_MESSAGE)).to_be_visible()
    expect(timeline.locator("[data-event=note]")).to_have_count(1, timeout=20000)
    expect(timeline.locator("[data-event=kobject]")).to_contain_text("Intent:")

    # The agent signs in to the card in its pop-up: intent, drafts and orders.
    card = page.get_by_title("Context Card").content_frame
    with page.expect_popup() as opened:
        card.get_by_role("button", name="Sign in with Kustomer").click()
    popup = opened.value
    popup.get_by_role("button", name="Sign in as Ada Agent").click()
    popup.wait_for_event("close", timeout=10000)
    intent = card.get_by_role("region", name="Intent")
    expect(intent.locator(".intent__name")).to_have_text("Track order", timeout=10000)
    drafts = card.get_by_role("region", name="Reply drafts")
    expect(drafts.get_by_role("button", name="Use draft 1")).to_be_visible()
    orders = card.get_by_role("region", name="Orders")
    expect(orders.get_by_role("heading", level=3).first).to_be_visible()

    # Feedback, then "Use": the draft lands in the workspace's reply box.
    intent.get_by_role("button", name="Right").click()
    expect(intent.get_by_text("Thanks: your label helps the copilot learn.")).to_be_visible()
    assert IntentFeedback.objects.get().verdict == IntentFeedback.Verdict.RIGHT
    drafts.get_by_role("button", name="Use draft 1").click()
    expect(drafts.get_by_text("In your reply box")).to_be_visible()
    draft = kustomer_models.Draft.objects.get(conversation=conversation)
    reply_box = page.get_by_label("Reply to the customer")
    expect(reply_box).to_have_value(draft.body, timeout=5000)

    # Send: the reply is in the timeline, and the reply box is empty again.
    page.get_by_role("button", name="Send reply").click()
    expect(timeline.locator("[data-event=message-out]")).to_contain_text(draft.body.split("\n")[0])
    expect(reply_box).to_have_value("")
    assert not kustomer_models.Draft.objects.filter(conversation=conversation).exists()
    sent = conversation.messages.filter(direction="out").get()
    assert sent.body == draft.body

    # A refund from the card: the fake store's order shows it, and its note reaches the timeline.
    newest = orders.locator("details[open]").first
    newest.get_by_role("button", name=re.compile(r"^Refund #\d+")).click()
    newest.get_by_label(re.compile(r"^Merino Crew Sweater")).fill("0")
    newest.get_by_label(re.compile(r"^Wool Blend Beanie")).fill("1")
    newest.get_by_label(re.compile(r"Refund the shipping")).uncheck()
    wait_for_card_to_fit(page)
    newest.get_by_role("button", name="Review refund…").click()
    confirm = orders.get_by_role("button", name=re.compile(r"^Refund \$"))
    expect(confirm).to_be_visible()
    wait_for_card_to_fit(page)
    confirm.click()
    refunded = orders.get_by_text(re.compile(r"^Refunded \$24\.00 on #(\d+)"))
    expect(refunded).to_be_visible(timeout=15000)
    number = re.search(r"#(\d+)", refunded.inner_text()).group(1)
    order = Order.objects.get(number=int(number))
    assert [str(refund.total_amount) for refund in Refund.objects.filter(order=order)][-1:] == [
        "24.00"
    ]
    order.refresh_from_db()
    assert order.financial_status == "PARTIALLY_REFUNDED"
    expect(timeline.get_by_text(re.compile(r"Refunded \$24\.00"))).to_be_visible(timeout=5000)

    page.get_by_label("Customer's message").blur()
    screenshot(page, "workspace", full_page=False)
    assert not (violations := axe(page)), describe_violations(violations)


def test_a_scripted_example_starts_a_conversation_for_a_customer_without_one(
    page: Page, origins: Origins, demo: str
):
    tim = kustomer_models.Customer.objects.get(primary_email="tim@example.com")
    page.goto(f"{origins.kustomer}/sandbox/kustomer/workspace/?customer={tim.id}")
    expect(page.get_by_text("No conversation yet")).to_be_visible()

    page.get_by_role("button", name="Annuler (français, poli)").click()
    expect(page.get_by_label("Customer's message")).to_have_value(re.compile("^Bonjour"))
    page.get_by_role("button", name="Send as customer").click()

    timeline = page.get_by_role("list", name="Timeline")
    expect(timeline.get_by_text(re.compile("^Bonjour, pourriez-vous"))).to_be_visible()
    expect(page.get_by_label("Reply to the customer")).to_be_visible()
    expect(timeline.locator("[data-event=kobject]")).to_have_count(1, timeout=20000)
    assert tim.conversations.count() == 1
