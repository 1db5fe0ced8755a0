"""The fake Kustomer is exercised over real HTTP, as the copilot's client talks to it."""

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import httpx
import pytest

from copilot.integrations.kustomer_oauth import KustomerOAuth, TokenSet
from copilot.sandbox.kustomer import oauth, services
from tests.sandbox_kustomer.browser import Browser


@pytest.fixture(autouse=True)
def _sandbox_settings(settings):
    # Kustomer's retry schedule (1, 1, 2, 5 ... minutes) becomes milliseconds.
    settings.SANDBOX_KUSTOMER_WEBHOOK_RETRY_SCALE = 0.0005
    settings.SANDBOX_KUSTOMER_ORG_RATE_LIMIT = 1000
    settings.SANDBOX_KUSTOMER_CUSTOMER_CREATE_LIMIT = 120
    settings.SANDBOX_KUSTOMER_LATENCY_MS = 0
    settings.SANDBOX_KUSTOMER_MESSAGE_BODY = True
    settings.SANDBOX_KUSTOMER_ALLOW_HTTP_WEBHOOKS = True
    settings.SANDBOX_KUSTOMER_OAUTH_ACCESS_TOKEN_SECONDS = 3600
    settings.SANDBOX_KUSTOMER_CUSTOMER_DRAFT_LIMIT = 120
    # Browsers send a Secure cookie to http://127.0.0.1; httpx does not. The sign-in page's
    # CSRF cookie is Secure outside DEBUG, so the tests' browser gets a plain one.
    settings.CSRF_COOKIE_SECURE = False


@pytest.fixture
def transactional_db(_sandbox_settings, django_db_setup, django_db_blocker) -> Iterator[None]:
    """pytest-django's `transactional_db` (which `live_server` brings in), cleaned up faster.

    The original TRUNCATEs every table after each test: about 50 ms per table on PostgreSQL,
    0.7 s a test here. These tests write only the fake's tables, so their rows are deleted
    instead, before and after each test, once no webhook delivery is left in flight.
    """
    with django_db_blocker.unblock():
        services.sandbox_reset()
        try:
            yield
        finally:
            services.webhook_deliveries_wait(timeout=10)
            services.sandbox_reset()


@pytest.fixture(autouse=True)
def _database(transactional_db) -> None:
    """Every test here shares committed data with the live server and the webhook threads."""


@pytest.fixture
def base_url(live_server) -> str:
    return live_server.url + "/sandbox/kustomer"


@pytest.fixture
def client_with(base_url) -> Iterator[Callable[..., httpx.Client]]:
    """`client_with("org.user.note.write", ...)`: an httpx client holding a key with those roles."""
    clients: list[httpx.Client] = []

    def make(*roles: str) -> httpx.Client:
        key = services.api_key_create(roles=roles)
        client = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {key.token}"}, timeout=10
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def admin(client_with) -> httpx.Client:
    return client_with("org.admin")


@pytest.fixture
def control(base_url) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url + "/_control", timeout=10) as client:
        yield client


@pytest.fixture
def customer():
    return services.customer_create(name="Ada Lovelace", email="ada.lovelace@example.com")


@pytest.fixture
def conversation(customer):
    return services.conversation_create(customer=customer, name="Where is order #1042?")


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A local HTTP server standing in for the copilot's webhook endpoint."""

    url: str
    statuses: list[int] = field(default_factory=list)  # answered in turn, then 200
    requests: list[Received] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.requests) >= count, timeout=timeout)
            return list(self.requests)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            target = state["receiver"]
            with target.arrived:
                status = target.statuses.pop(0) if target.statuses else 200
                target.requests.append(Received(self.path, dict(self.headers.items()), body))
                target.arrived.notify_all()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["receiver"] = Receiver(url=f"http://127.0.0.1:{server.server_port}/kustomer/webhooks/")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state["receiver"]
    server.shutdown()
    server.server_close()


# --- "Sign in with Kustomer" ---------------------------------------------------------------------

REDIRECT_URI = "https://card.example.com/oauth/callback?from=kustomer"


@pytest.fixture
def people():
    """The org's demo people: the agent Ada Agent and the supervisor Sam Supervisor."""
    ada, sam = services.demo_users_ensure()
    return SimpleNamespace(ada=ada, sam=sam)


@pytest.fixture
def card_app(people):
    """The copilot's card as a public OAuth client of the org (no client secret)."""
    return oauth.app_register(
        org=services.org_get_or_create(),
        name="copilot_card",
        version="1.0.0",
        title="Kustomer Copilot",
        redirect_uris=[REDIRECT_URI],
    )


@pytest.fixture
def sign_in_client(base_url, card_app) -> Iterator[KustomerOAuth]:
    """The copilot's OAuth client, talking to the fake."""
    with KustomerOAuth(
        web_base_url=base_url, api_base_url=base_url, client_id=card_app.client_id
    ) as client:
        yield client


@pytest.fixture
def browser() -> Iterator[Browser]:
    browser = Browser()
    yield browser
    browser.close()


@pytest.fixture
def signed_in(sign_in_client, browser) -> Callable[..., TokenSet]:
    """`signed_in("Sam Supervisor", scope=[...])`: the whole flow, ending with the tokens."""

    def sign_in(person: str = "Ada Agent", *, scope: tuple[str, ...] = ()) -> TokenSet:
        request = sign_in_client.authorization_request(redirect_uri=REDIRECT_URI, scope=scope)
        params = browser.sign_in(request.url, person=person)
        code = sign_in_client.code_from_callback(params, expected_state=request.state)
        return sign_in_client.exchange_code(
            code=code, redirect_uri=REDIRECT_URI, code_verifier=request.code_verifier
        )

    return sign_in


@pytest.fixture
def as_agent(base_url) -> Iterator[Callable[[str], httpx.Client]]:
    """`as_agent(access_token)`: an httpx client calling the API with an agent's token."""
    clients: list[httpx.Client] = []

    def make(access_token: str) -> httpx.Client:
        client = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {access_token}"}, timeout=10
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
