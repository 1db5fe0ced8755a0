"""The card's Orders section: the customer's orders from the fake Shopify, for a customer the
agent's own token finds in the fake Kustomer, both over real HTTP."""

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.test import Client

from cards.models import CardSession
from copilot.sandbox.kustomer import oauth as kustomer_oauth
from copilot.sandbox.kustomer import services as kustomer_sandbox
from copilot.sandbox.shopify.bucket import buckets
from tests.sandbox_shopify import support as shopify_support

pytestmark = pytest.mark.django_db(transaction=True)

# The fake Shopify's fixtures (tests/sandbox_shopify/support.py).
_fresh_shopify_state = shopify_support._fresh_shopify_state
fake_shop = shopify_support.fake_shop
shopify_url = shopify_support.shopify_url
store = shopify_support.store

ORDERS_URL = "/card/fragments/orders"
REDIRECT_URI = "https://card.example.com/card/oauth/callback"
VERIFIER = "v" * 43

# --- reading the HTML --------------------------------------------------------------------------

VOID = {"input", "br", "img", "hr", "meta", "link", "source", "wbr", "col", "area"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list = field(default_factory=list)

    @property
    def text(self) -> str:
        parts = [c if isinstance(c, str) else c.text for c in self.children]
        return " ".join(" ".join(parts).split())

    def iter(self):
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str) -> list["Element"]:
        return [
            element
            for element in self.iter()
            if (tag is None or element.tag == tag)
            and all(element.attrs.get(name.replace("_", "-")) == v for name, v in attrs.items())
        ]

    def by_text(self, tag: str, text: str) -> "Element":
        found = [element for element in self.find_all(tag) if text in element.text]
        assert found, f"no <{tag}> with {text!r}"
        return found[0]

    def by_id(self, element_id: str) -> "Element":
        found = self.find_all(id=element_id)
        assert found, f"no element #{element_id}"
        return found[0]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.root = Element("root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {name: value if value is not None else "" for name, value in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def html(response) -> Element:
    builder = _TreeBuilder()
    builder.feed(response.content.decode())
    return builder.root


# --- the fake Kustomer, as the agent's token sees it -------------------------------------------


@pytest.fixture
def kustomer(live_server, settings):
    """The fake Kustomer over HTTP; its demo people and the card's OAuth app."""
    settings.KUSTOMER_API_BASE_URL = live_server.url + "/sandbox/kustomer"
    settings.SANDBOX_KUSTOMER_LATENCY_MS = 0
    cache.clear()
    org = kustomer_sandbox.org_get_or_create()
    kustomer_sandbox.demo_users_ensure(org=org)
    app = kustomer_oauth.app_register(
        org=org, name="copilot_card", version="1.0.0", title="Copilot", redirect_uris=[REDIRECT_URI]
    )
    return app


def agent_token(app, person: str = "Ada Agent") -> str:
    """An access token of `person`, as the card's sign-in would get it."""
    user = kustomer_sandbox.User.objects.get(org=app.org, name=person)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest())
    request = kustomer_oauth.AuthorizationRequest(
        app=app,
        redirect_uri=REDIRECT_URI,
        state="state",
        code_challenge=challenge.rstrip(b"=").decode(),
    )
    code = kustomer_oauth.code_issue(request=request, user=user)
    return kustomer_oauth.code_exchange(
        app=app, code=code, redirect_uri=REDIRECT_URI, code_verifier=VERIFIER
    ).access_token


@pytest.fixture
def customer_id(kustomer) -> Callable[..., str]:
    """`customer_id("ada@example.com")`: a customer of the fake Kustomer, by id."""

    def make(email: str = "ada@example.com", name: str = "Ada Lovelace") -> str:
        return kustomer_sandbox.customer_create(name=name, email=email, emit_webhooks=False).id

    return make


@pytest.fixture
def agent(card_client, kustomer) -> Client:
    """Ada, signed in to the card with her own Kustomer token."""
    return card_client(agent_id="user-ada", roles=("agent",), access_token=agent_token(kustomer))


def orders_of(client: Client, customer: str):
    return client.get(ORDERS_URL, {"customer": customer})


# --- the section -------------------------------------------------------------------------------


def test_without_a_session_the_section_answers_401_and_no_customer_data(store, customer_id):
    ada = customer_id()

    response = Client().get(ORDERS_URL, {"customer": ada})

    assert response.status_code == 401
    assert response.json()["sign_in"] is True
    assert b"ada@example.com" not in response.content
    assert b"Sweater" not in response.content


def test_orders_show_badges_items_totals_tracking_and_lifetime_spend(store, agent, customer_id):
    response = orders_of(agent, customer_id())

    assert response.status_code == 200
    page = html(response)
    body = page.by_id("orders-body")
    assert "data-card-swap-root" in body.attrs
    orders = page.find_all("details")
    assert len(orders) == 3
    # The newest open, the others folded; each headed by its number.
    assert ["open" in order.attrs for order in orders] == [True, False, False]
    newest, delivered, refunded = orders
    assert newest.find_all("h3")[0].text.startswith("#")
    badges = [
        badge.text
        for badge in newest.find_all("span")
        if "badge" in badge.attrs.get("class", "").split()
    ]
    assert badges == ["Paid", "Unfulfilled"]
    assert "1 × Merino Crew Sweater Charcoal / M $89.00" in newest.text  # noqa: RUF001
    assert "1 × Wool Blend Beanie Oat $24.00" in newest.text  # noqa: RUF001
    date = newest.find_all("time")[0]
    assert date.text == "2 days ago"
    assert date.attrs["datetime"] and date.attrs["title"]
    assert "Delivered" in delivered.find_all("summary")[0].text
    tracking = delivered.by_text("li", "Tracking:").find_all("a")[0]
    assert tracking.attrs["rel"] == "noopener noreferrer"
    assert tracking.attrs["target"] == "_blank"
    assert tracking.attrs["href"].startswith("https://")
    status_page = delivered.by_text("a", "Order status page")
    assert status_page.attrs["rel"] == "noopener noreferrer"
    assert "Partially refunded" in refunded.find_all("summary")[0].text
    assert "Refunded" in refunded.find_all("dl")[0].text
    assert "spent over 3 orders" in body.text


def test_a_busy_shopify_shows_the_cached_orders_with_a_sentence(
    store, fake_shop, agent, customer_id, settings
):
    ada = customer_id()
    orders_of(agent, ada)
    settings.SHOPIFY_ORDER_CACHE_SECONDS = 0  # the cached copy is no longer fresh
    buckets.set_available(fake_shop.domain, 0)

    page = html(orders_of(agent, ada))

    notice = page.by_text("p", "busy")
    assert notice.text == "Northwind Goods is busy right now: these orders are from a minute ago."
    assert len(page.find_all("details")) == 3


def test_a_customer_without_orders_or_email_gets_a_sentence(store, agent, customer_id):
    nobody = customer_id("nobody@example.com", "No Body")
    no_email = kustomer_sandbox.customer_create(name="Anonymous", emit_webhooks=False).id

    none = orders_of(agent, nobody)
    unknown = orders_of(agent, no_email)

    assert "No orders for nobody@example.com." in html(none).text
    assert "has no email address in Kustomer" in html(unknown).text


def test_a_customer_kustomer_does_not_show_the_agent_is_refused(store, agent, kustomer):
    response = orders_of(agent, "no-such-customer")

    assert response.status_code == 404
    assert html(response).by_id("orders-body").text == "Kustomer does not show you this customer."


def test_a_token_kustomer_refuses_ends_the_session_with_401(store, card_client, customer_id):
    client = card_client(access_token="revoked-token")

    response = orders_of(client, customer_id())

    assert response.status_code == 401
    assert b"ada@example.com" not in response.content
    assert CardSession.objects.get().ended_at is not None
