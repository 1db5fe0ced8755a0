"""The Context Card in Chromium, framed by the fake Kustomer's Insight Panel from another site:
sign-in in a pop-up, the intent, drafts and orders, the agent's actions, and live updates."""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from cards.models import CardSession
from copilot.inbox.models import InboundMessage
from copilot.sandbox.kustomer import models as kustomer_models
from copilot.sandbox.kustomer import oauth as kustomer_oauth
from copilot.sandbox.kustomer import services as kustomer
from copilot.sandbox.shopify.models import Refund
from intents.models import IntentFeedback
from tests.browser.conftest import Origins
from tests.browser.helpers import (
    axe,
    describe_violations,
    insight_panel_url,
    screenshot,
    wait_for_card_to_fit,
)
from tests.cards.test_insight import customer_writes, trained  # noqa: F401  (fixture)
from tests.sandbox_shopify import support as shopify_support

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The fake Shopify's fixtures: the demo store, seeded, with Ada's orders.
_fresh_shopify_state = shopify_support._fresh_shopify_state
fake_shop = shopify_support.fake_shop
shopify_url = shopify_support.shopify_url
store = shopify_support.store


@pytest.fixture
def ada(origins: Origins, settings, store, trained) -> Iterator[tuple]:  # noqa: F811
    """Ada Lovelace writes in about her order; the copilot is set up as in a real org: the
    card on its own site, framed by Kustomer's, its OAuth client registered in Kustomer."""
    org = kustomer.org_get_or_create()
    kustomer.demo_users_ensure(org=org)
    app = kustomer_oauth.app_upsert(
        org=org,
        name="copilot",
        title="Copilot",
        redirect_uris=[f"{origins.app}/card/oauth/callback"],
    )
    base = f"{origins.app}/sandbox/kustomer"
    settings.COPILOT_PUBLIC_URL = origins.app
    settings.KUSTOMER_API_BASE_URL = base
    settings.KUSTOMER_WEB_BASE_URL = base
    settings.KUSTOMER_API_KEY = kustomer.api_key_create(roles=("org.admin",)).token
    settings.KUSTOMER_OAUTH_CLIENT_ID = app.client_id
    settings.KUSTOMER_ORG_ID = str(org.id)
    settings.KUSTOMER_FRAME_ANCESTORS = [origins.kustomer]
    settings.KUSTOMER_CARD_SDK_URL = f"{origins.kustomer}/sandbox/kustomer/card-js/kustomer-card.js"
    settings.KUSTOMER_CARD_SDK_ORIGIN = origins.kustomer
    settings.CARD_POLL_SECONDS = 0.5
    settings.CSRF_COOKIE_SECURE = False
    customer = kustomer.customer_create(name="Ada Lovelace", email="ada@example.com")
    message = customer_writes(
        customer,
        "Where is my order? It has not arrived yet",
        drafts=("Your order ships today. {agent}", "Thanks for waiting!"),
    )
    conversation = kustomer_models.Conversation.objects.get(pk=message.conversation_id)
    yield customer, conversation


def open_card(page: Page, origins: Origins, customer, conversation, *, width=320) -> FrameLocator:
    page.goto(
        insight_panel_url(
            origins.kustomer,
            card=f"{origins.app}/card/",
            customer=customer.id,
            conversation=conversation.id,
            width=width,
        )
    )
    return page.get_by_title("Context Card").content_frame


def sign_in(page: Page, card: FrameLocator, person: str = "Ada Agent") -> None:
    with page.expect_popup() as opened:
        card.get_by_role("button", name="Sign in with Kustomer").click()
    popup = opened.value
    popup.get_by_role("button", name=f"Sign in as {person}").click()
    try:
        popup.wait_for_event("close", timeout=5000)
    except Exception:
        print("POPUP", popup.url, popup.content()[:3000])
        raise


def section(card: FrameLocator, name: str):
    return card.get_by_role("region", name=name)


def test_before_sign_in_the_card_shows_only_the_sign_in(page, origins, ada):
    customer, conversation = ada

    card = open_card(page, origins, customer, conversation)

    expect(card.get_by_role("button", name="Sign in with Kustomer")).to_be_visible()
    expect(card.get_by_text("Where is my order")).to_have_count(0)
    expect(card.get_by_role("region", name="Orders")).to_be_hidden()


def test_an_agent_signs_in_sees_the_conversation_and_acts_on_it(page, origins, ada):
    customer, conversation = ada
    card = open_card(page, origins, customer, conversation)

    sign_in(page, card)

    intent = section(card, "Intent")
    expect(intent.locator(".intent__name")).to_have_text("Track order")
    expect(intent.locator("mark").first).to_be_visible()
    drafts = section(card, "Reply drafts")
    expect(drafts.get_by_text("Your order ships today. Ada Agent")).to_be_visible()
    orders = section(card, "Orders")
    expect(orders.get_by_role("heading", level=3).first).to_be_visible()
    screenshot(page, "card-320")
    assert not (violations := axe(page)), describe_violations(violations)

    # "Right": the agent's label, thanked in place.
    intent.get_by_role("button", name="Right").click()
    expect(intent.get_by_text("Thanks: your label helps the copilot learn.")).to_be_visible()
    assert IntentFeedback.objects.get().verdict == IntentFeedback.Verdict.RIGHT

    # "Use": the draft lands in the conversation's reply box in Kustomer.
    drafts.get_by_role("button", name="Use draft 1").click()
    expect(drafts.get_by_text("In your reply box")).to_be_visible()
    in_kustomer = kustomer_models.Draft.objects.get(conversation_id=conversation.id)
    assert in_kustomer.body == "Your order ships today. Ada Agent"

    # A refund of one line, confirmed, double-clicked: Shopify refunds once, the note is written.
    refunds_before = Refund.objects.count()
    newest = orders.locator("details[open]").first
    newest.get_by_role("button", name=re.compile(r"^Refund #\d+")).click()
    newest.get_by_label(re.compile(r"^Merino Crew Sweater")).fill("0")
    newest.get_by_label(re.compile(r"^Wool Blend Beanie")).fill("1")
    newest.get_by_label(re.compile(r"Refund the shipping")).uncheck()
    wait_for_card_to_fit(page)
    newest.get_by_role("button", name="Review refund…").click()
    confirm = orders.get_by_role("button", name=re.compile(r"^Refund \$"))
    expect(confirm).to_have_text("Refund $24.00")  # the beanie, without shipping
    wait_for_card_to_fit(page)
    confirm.dblclick()
    refunded = orders.get_by_text(re.compile(r"^Refunded \$24\.00 on #\d+"))
    expect(refunded).to_be_visible(timeout=15000)
    assert Refund.objects.count() == refunds_before + 1
    notes = kustomer_models.Note.objects.filter(conversation=conversation)
    assert any("Refunded $24.00" in note.body for note in notes)

    # The customer writes again: the open card follows without a reload.
    customer_writes(customer, "Please cancel my order", conversation=conversation)
    expect(intent.locator(".intent__name")).to_have_text("Cancel order", timeout=5000)


def test_a_form_half_filled_on_one_order_survives_an_action_on_another(page, origins, ada):
    customer, conversation = ada
    card = open_card(page, origins, customer, conversation)
    sign_in(page, card)
    orders = section(card, "Orders")
    newest = orders.locator("details.order").first
    older = orders.locator("details.order").nth(1)

    # The agent opens an older order and starts a refund on it...
    orders.get_by_role("heading", level=3).nth(1).click()
    wait_for_card_to_fit(page)
    older.get_by_role("button", name=re.compile(r"^Refund #\d+")).click()
    older.get_by_label(re.compile(r"^Reason")).fill("Chipped in transit")

    # ...then refunds the newest order: the orders reload with the refund's result.
    wait_for_card_to_fit(page)
    newest.get_by_role("button", name=re.compile(r"^Refund #\d+")).click()
    newest.get_by_label(re.compile(r"^Merino Crew Sweater")).fill("0")
    newest.get_by_label(re.compile(r"^Wool Blend Beanie")).fill("1")
    wait_for_card_to_fit(page)
    newest.get_by_role("button", name="Review refund…").click()
    confirm = newest.get_by_role("button", name=re.compile(r"^Refund \$"))
    expect(confirm).to_be_visible()
    wait_for_card_to_fit(page)
    confirm.click()
    expect(newest.get_by_text(re.compile(r"^Refunded \$")).first).to_be_visible(timeout=15000)
    expect(card.locator("#orders-body")).not_to_have_attribute("aria-busy", "true")
    expect(newest.get_by_role("button", name=re.compile(r"^Refund #\d+"))).to_be_visible()

    # The older order is still open, its refund form as the agent left it.
    expect(older.get_by_label(re.compile(r"^Reason"))).to_have_value("Chipped in transit")
    expect(older.get_by_role("button", name="Review refund…")).to_be_visible()


def test_the_session_survives_a_reload_with_third_party_cookies_blocked(
    context_third_party_cookies_blocked, origins, ada
):
    customer, conversation = ada
    page = context_third_party_cookies_blocked.new_page()
    card = open_card(page, origins, customer, conversation, width=480)
    sign_in(page, card)
    expect(section(card, "Intent").locator(".intent__name")).to_have_text("Track order")

    card = open_card(page, origins, customer, conversation, width=480)

    expect(section(card, "Intent").locator(".intent__name")).to_have_text("Track order")
    expect(card.get_by_role("button", name="Sign in with Kustomer")).to_be_hidden()
    screenshot(page, "card-480")
    assert not (violations := axe(page)), describe_violations(violations)


def test_signing_out_leaves_nothing_of_the_customer(page, origins, ada):
    customer, conversation = ada
    card = open_card(page, origins, customer, conversation)
    sign_in(page, card)
    expect(section(card, "Intent").locator(".intent__name")).to_have_text("Track order")

    card.get_by_role("button", name="Sign out").click()

    expect(card.get_by_role("button", name="Sign in with Kustomer")).to_be_visible()
    expect(card.get_by_text("Track order")).to_have_count(0)
    assert CardSession.objects.get().end_reason == "signed out"
    assert InboundMessage.objects.count() == 1
