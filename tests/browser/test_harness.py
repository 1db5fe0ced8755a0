"""The browser harness against the fake Kustomer's Insight Panel and its demo card: the Cards SDK
stand-in's round trip, the panel's guards, third-party cookies, axe and screenshots."""

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from copilot.sandbox.kustomer import services
from tests.browser.conftest import Origins, chromium_profile_context
from tests.browser.helpers import (
    axe,
    describe_violations,
    host_messages,
    insight_panel_url,
    screenshot,
)

pytestmark = pytest.mark.browser

DEMO_CARD = "/sandbox/kustomer/card-js/demo-card/"
CONTENT_HEIGHT = "html => Math.ceil(html.getBoundingClientRect().height)"
GRACE = {
    "type": "customer",
    "id": "0123456789abcdef01234567",
    "attributes": {"displayName": "Grace Hopper", "emails": [{"email": "grace@example.com"}]},
}


@pytest.fixture
def ada():
    customer = services.customer_create(
        name="Ada Lovelace", email="ada.lovelace@example.com", emit_webhooks=False
    )
    conversation = services.conversation_create(
        customer=customer, name="Where is order #1042?", emit_webhooks=False
    )
    return customer, conversation


def open_panel(page: Page, origins: Origins, **params) -> FrameLocator:
    """Opens the Insight Panel on Kustomer's side framing the demo card on the copilot's side."""
    page.goto(insight_panel_url(origins.kustomer, card=origins.app + DEMO_CARD, **params))
    return page.get_by_title("Context Card").content_frame


def test_the_card_gets_its_context_and_fits_its_frame(page, origins, ada):
    customer, conversation = ada

    card = open_panel(page, origins, customer=customer.id, conversation=conversation.id)

    expect(card.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    expect(card.get_by_text("ada.lovelace@example.com")).to_be_visible()
    expect(card.get_by_text(f"Conversation {conversation.id}")).to_be_visible()
    expect(card.get_by_text(re.compile(r"^Roles: org\.user, "))).to_be_visible()
    frame = page.get_by_title("Context Card")
    card_height = card.locator("html").evaluate(CONTENT_HEIGHT)
    expect(frame).to_have_js_property("offsetHeight", card_height + 2)  # and its 1 px borders
    assert [message["type"] for message in host_messages(page)] == ["initialize", "resize"]
    assert host_messages(page)[1]["height"] == card_height


def test_the_frame_shrinks_when_the_cards_content_does(page, origins, ada):
    customer, conversation = ada
    card = open_panel(page, origins, customer=customer.id, conversation=conversation.id)
    expect(card.get_by_text("Context updates: 0")).to_be_visible()
    frame = page.get_by_title("Context Card")
    expect(frame).not_to_have_js_property("offsetHeight", 150 + 2)  # resized from the default
    tall = frame.evaluate("frame => frame.offsetHeight")

    card.locator("html").evaluate(
        "() => { document.querySelector('[data-roles]').hidden = true; window.Kustomer.resize(); }"
    )

    expect(card.get_by_text(re.compile(r"^Roles: "))).to_be_hidden()
    short = card.locator("html").evaluate(CONTENT_HEIGHT)
    expect(frame).to_have_js_property("offsetHeight", short + 2)
    assert short + 2 < tall


def test_the_card_is_framed_with_kustomers_parent_url_and_instance_id(page, origins, ada):
    customer, _ = ada

    open_panel(page, origins, customer=customer.id)

    src = urlsplit(page.get_by_title("Context Card").get_attribute("src"))
    params = parse_qs(src.query)
    assert f"{src.scheme}://{src.netloc}{src.path}" == origins.app + DEMO_CARD
    assert params["parentUrl"] == [page.url]
    assert re.fullmatch(r"[0-9a-f]{24}", params["id"][0])


def test_set_context_reaches_the_cards_context_listener(page, origins, ada):
    customer, conversation = ada
    card = open_panel(page, origins, customer=customer.id, conversation=conversation.id)
    expect(card.get_by_role("heading", name="Ada Lovelace")).to_be_visible()

    page.evaluate("customer => window.kustomerHost.setContext({customer})", GRACE)

    expect(card.get_by_role("heading", name="Grace Hopper")).to_be_visible()
    expect(card.get_by_text("Not on a conversation")).to_be_visible()
    expect(card.get_by_text("Context updates: 1")).to_be_visible()
    expect(page.get_by_role("heading", name="Grace Hopper", level=1)).to_be_visible()


def test_the_card_trusts_only_its_parent_and_the_panel_only_its_card(page, origins, ada):
    customer, _ = ada
    card = open_panel(page, origins, customer=customer.id)
    expect(card.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    messages_before = len(host_messages(page))

    forged_context = {"source": "kustomer-host", "type": "context", "context": {"customer": GRACE}}
    card.locator("html").evaluate(
        "(_, message) => window.postMessage(message, '*')", forged_context
    )
    page.evaluate("window.postMessage({source: 'kustomer-card', type: 'resize', height: 999}, '*')")

    # A round trip through the real channel shows both forgeries were seen and dropped.
    page.evaluate("customer => window.kustomerHost.setContext({customer})", GRACE)
    expect(card.get_by_text("Context updates: 1")).to_be_visible()
    assert 999 not in [message.get("height") for message in host_messages(page)]
    assert len(host_messages(page)) == messages_before + 1  # the resize after the update


def test_calls_the_sandbox_cannot_make_are_answered_with_a_sentence(page, origins, ada):
    customer, _ = ada
    card = open_panel(page, origins, customer=customer.id)
    expect(card.get_by_role("heading", name="Ada Lovelace")).to_be_visible()

    error = card.locator("html").evaluate(
        """() => new Promise(resolve => window.Kustomer.request(
            {url: '/v1/customers/' + 'x', method: 'GET'}, (error, data) => resolve(error)))"""
    )

    assert "Kustomer.request is not supported in the sandbox" in error["message"]


def test_the_card_can_close_and_the_agent_open_it_again(page, origins, ada):
    customer, _ = ada
    card = open_panel(page, origins, customer=customer.id)
    expect(card.get_by_role("heading", name="Ada Lovelace")).to_be_visible()

    card.locator("html").evaluate("() => window.Kustomer.close()")
    expect(page.get_by_title("Context Card")).to_be_hidden()
    page.get_by_role("button", name="Open the card").click()

    expect(page.get_by_title("Context Card")).to_be_visible()


@pytest.mark.parametrize("width", [320, 480])
def test_the_panel_shows_the_card_at_kustomers_widths_without_serious_violations(
    page, origins, ada, width
):
    customer, conversation = ada
    card = open_panel(
        page, origins, customer=customer.id, conversation=conversation.id, width=width
    )
    expect(card.get_by_role("heading", name="Ada Lovelace")).to_be_visible()

    violations = axe(page)

    assert not violations, describe_violations(violations)
    frame = page.get_by_title("Context Card")
    expect(frame).to_have_js_property("clientWidth", width)
    assert screenshot(page, f"sandbox-insight-panel-{width}").stat().st_size > 0


def test_the_panel_without_a_card_says_what_to_add(page, origins):
    response = page.goto(origins.kustomer + "/sandbox/kustomer/insight-panel/")

    assert response.status == 400
    expect(page.get_by_role("alert")).to_have_text(re.compile(r"Add \?card= "))


def test_the_sdk_is_served_as_a_cacheable_script(page, origins):
    response = page.request.get(origins.kustomer + "/sandbox/kustomer/card-js/kustomer-card.js")

    assert response.status == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert "max-age=" in response.headers["cache-control"]
    assert "window.Kustomer" in response.text()


# --- third-party cookies ------------------------------------------------------------------------


class CookieProbe(BaseHTTPRequestHandler):
    """A page that sets a plain and a partitioned SameSite=None cookie and shows what came back."""

    def do_GET(self):
        if not self.path.startswith("/probe"):
            self.send_error(404)
            return
        names = sorted(
            part.split("=", 1)[0].strip()
            for part in self.headers.get("Cookie", "").split(";")
            if part.strip()
        )
        body = f"<!doctype html><title>Probe</title><h1>Cookies: {' '.join(names) or 'none'}</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Set-Cookie", "plain=1; Path=/; SameSite=None; Secure")
        self.send_header(
            "Set-Cookie", "__Host-partitioned=1; Path=/; SameSite=None; Secure; Partitioned"
        )
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def cookie_probe() -> Iterator[str]:
    """The probe's URL on 127.0.0.1, a site other than the panel's `localhost`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), CookieProbe)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/probe"
    server.shutdown()
    server.server_close()


def cookies_seen_after_reload(page: Page, origins: Origins, probe: str) -> str:
    page.goto(insight_panel_url(origins.kustomer, card=probe))
    probe_page = page.get_by_title("Context Card").content_frame
    expect(probe_page.get_by_role("heading", name="Cookies: none")).to_be_visible()
    page.reload()
    heading = probe_page.get_by_role("heading", name=re.compile(r"^Cookies: (?!none)"))
    return heading.inner_text()


def test_the_blocking_context_keeps_only_partitioned_cookies_in_a_framed_card(
    context_third_party_cookies_blocked, origins, cookie_probe
):
    page = context_third_party_cookies_blocked.new_page()

    assert cookies_seen_after_reload(page, origins, cookie_probe) == "Cookies: __Host-partitioned"


def test_a_context_that_allows_third_party_cookies_gets_the_plain_one_back(
    playwright, tmp_path, origins, cookie_probe
):
    # The control for the test above: the probe does tell the two settings apart.
    context = chromium_profile_context(playwright, tmp_path, block_third_party_cookies=False)
    try:
        seen = cookies_seen_after_reload(context.new_page(), origins, cookie_probe)
    finally:
        context.close()

    assert seen == "Cookies: __Host-partitioned plain"
