"""A signed-in card: a session made directly (the sign-in itself is tested in test_sign_in.py)."""

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from django.test import Client
from django.utils import timezone

from cards.auth import CSRF_HEADER, SESSION_COOKIE, csrf_token_for
from cards.models import CardSession
from cards.sessions import _hash
from copilot.commerce.encryption import token_encrypt
from copilot.sandbox.kustomer import oauth as sandbox_oauth
from copilot.sandbox.kustomer import services as sandbox_services
from tests.sandbox_kustomer.browser import Browser

ORG_ID = "org-northwind"


@pytest.fixture(autouse=True)
def _card_settings(settings):
    settings.KUSTOMER_ORG_ID = ORG_ID
    settings.KUSTOMER_FRAME_ANCESTORS = ["http://localhost:8000"]


def card_session_create(
    *,
    agent_id: str = "user-ada",
    name: str = "Ada Agent",
    roles: tuple[str, ...] = ("agent",),
    org_id: str = ORG_ID,
    access_token: str = "agent-access-token",
) -> tuple[CardSession, str]:
    """A live session and the raw key its browser holds."""
    raw_key = secrets.token_urlsafe(32)
    now = timezone.now()
    session = CardSession.objects.create(
        key_hash=_hash(raw_key),
        agent_id=agent_id,
        agent_name=name,
        agent_email=f"{agent_id}@example.com",
        roles=list(roles),
        org_id=org_id,
        access_token=token_encrypt(access_token),
        refresh_token=token_encrypt("agent-refresh-token"),
        access_expires_at=now + timedelta(hours=1),
        last_seen_at=now,
        verified_at=now,
        expires_at=now + timedelta(hours=12),
    )
    return session, raw_key


def signed_in_client(raw_key: str) -> Client:
    """What the card's script sends: the session cookie, and the CSRF header on every request."""
    client = Client(headers={CSRF_HEADER: csrf_token_for(raw_key)})
    client.cookies[SESSION_COOKIE] = raw_key
    return client


@pytest.fixture
def card_client(db) -> Callable[..., Client]:
    """`card_client(roles=("supervisor",))`: a Django test client signed in to the card."""

    def make(**kwargs) -> Client:
        session, raw_key = card_session_create(**kwargs)
        client = signed_in_client(raw_key)
        client.card_session = session
        return client

    return make


# --- the card signed in through the fake Kustomer, over real HTTP ------------------------------


@dataclass
class CardWorld:
    """The card on a live server, the fake Kustomer beside it, and its demo people."""

    url: str  # the live server
    org: object
    ada: object  # the agent
    sam: object  # the supervisor
    app: object  # the card's OAuth client in the fake

    def sign_in(self, person: str = "Ada Agent") -> "CardBrowser":
        """The whole "Sign in with Kustomer" as the pop-up and the card do it."""
        browser = CardBrowser(self.url)
        started = browser.http.get(f"{self.url}/card/signin")
        assert started.status_code == 302, started.text
        params = browser.sign_in(started.headers["Location"], person=person)
        callback = browser.http.get(f"{self.url}/card/oauth/callback", params=params)
        assert callback.status_code == 200, callback.text
        handoff = re.search(r'data-handoff="([^"]+)"', callback.text).group(1)
        answer = browser.http.post(f"{self.url}/card/session", json={"handoff": handoff})
        assert answer.status_code == 200, answer.text
        browser.take_session(answer)
        return browser


class CardBrowser(Browser):
    """The card's script: the session cookie (sent by hand: httpx keeps Secure cookies off
    plain HTTP, where Chromium sends them to localhost) and the CSRF header."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.csrf = ""
        self.key = ""

    def take_session(self, answer: httpx.Response) -> None:
        self.key = answer.cookies.get(SESSION_COOKIE) or re.search(
            rf"{SESSION_COOKIE}=([^;]+)", answer.headers["Set-Cookie"]
        ).group(1)
        self.csrf = answer.json()["csrf"]

    def card(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = {"Cookie": f"{SESSION_COOKIE}={self.key}", CSRF_HEADER: self.csrf}
        headers.update(kwargs.pop("headers", {}))
        return self.http.request(method, f"{self.url}{path}", headers=headers, **kwargs)


@pytest.fixture
def card_world(live_server, settings, transactional_db) -> CardWorld:
    org = sandbox_services.org_get_or_create()
    ada, sam = sandbox_services.demo_users_ensure(org=org)
    app = sandbox_oauth.app_register(
        org=org,
        name="copilot_card",
        version="1.0.0",
        title="Kustomer Copilot",
        redirect_uris=[f"{live_server.url}/card/oauth/callback"],
    )
    base = f"{live_server.url}/sandbox/kustomer"
    settings.COPILOT_PUBLIC_URL = live_server.url
    settings.KUSTOMER_API_BASE_URL = base
    settings.KUSTOMER_WEB_BASE_URL = base
    settings.KUSTOMER_OAUTH_CLIENT_ID = app.client_id
    settings.KUSTOMER_ORG_ID = str(org.id)
    settings.SANDBOX_KUSTOMER_ALLOW_HTTP_REDIRECT_URIS = True
    settings.SANDBOX_KUSTOMER_LATENCY_MS = 0
    settings.CSRF_COOKIE_SECURE = False  # the fake's sign-in page, over plain HTTP
    return CardWorld(url=live_server.url, org=org, ada=ada, sam=sam, app=app)
