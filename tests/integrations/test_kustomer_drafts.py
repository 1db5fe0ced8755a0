"""The Kustomer client's drafts and agent sign-in, against the fake Kustomer over real HTTP."""

import pytest

from copilot.integrations.http import PermanentError, RateLimited
from copilot.integrations.kustomer import Draft, KustomerClient, User, is_duplicate
from copilot.integrations.kustomer_oauth import KustomerOAuth, OAuthError
from copilot.integrations.ratelimit import Limits, LocalRateLimiter
from copilot.sandbox.kustomer import oauth
from copilot.sandbox.kustomer import services as sandbox
from copilot.sandbox.kustomer.models import Draft as SandboxDraft
from tests.sandbox_kustomer.browser import Browser

pytestmark = pytest.mark.django_db(transaction=True)

REDIRECT_URI = "https://card.example.com/oauth/callback"


@pytest.fixture(autouse=True)
def _sandbox_settings(settings):
    settings.SANDBOX_KUSTOMER_CUSTOMER_DRAFT_LIMIT = 120
    settings.SANDBOX_KUSTOMER_OAUTH_ACCESS_TOKEN_SECONDS = 3600
    # httpx, unlike a browser, sends no Secure cookie to http://127.0.0.1.
    settings.CSRF_COOKIE_SECURE = False


@pytest.fixture
def base_url(live_server) -> str:
    return live_server.url + "/sandbox/kustomer"


def _limiter() -> LocalRateLimiter:
    return LocalRateLimiter(limits=Limits(per_window=1000, per_customer=120))


@pytest.fixture
def client_for(base_url):
    clients = []

    def make(*roles: str) -> KustomerClient:
        client = KustomerClient(
            base_url=base_url,
            api_key=sandbox.api_key_create(roles=roles).token,
            rate_limiter=_limiter(),
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def conversation(db):
    customer = sandbox.customer_create(
        name="Grace Hopper", email="grace@example.com", emit_webhooks=False
    )
    return sandbox.conversation_create(customer=customer, name="Order #2001")


@pytest.fixture
def sign_in(base_url):
    """Signs a demo person in to the card's OAuth client through the sign-in page."""
    org = sandbox.org_get_or_create()
    sandbox.demo_users_ensure(org=org)
    app = oauth.app_register(
        org=org, name="copilot_card", version="1.0.0", title="Copilot", redirect_uris=[REDIRECT_URI]
    )
    browser = Browser()
    sign_in_client = KustomerOAuth(
        web_base_url=base_url, api_base_url=base_url, client_id=app.client_id
    )

    def run(person: str = "Ada Agent"):
        request = sign_in_client.authorization_request(redirect_uri=REDIRECT_URI)
        params = browser.sign_in(request.url, person=person)
        code = sign_in_client.code_from_callback(params, expected_state=request.state)
        return sign_in_client.exchange_code(
            code=code, redirect_uri=REDIRECT_URI, code_verifier=request.code_verifier
        )

    run.oauth = sign_in_client
    yield run
    browser.close()
    sign_in_client.close()


def test_a_draft_is_put_in_the_reply_box_and_changed(client_for, conversation):
    client = client_for("org.user.draft.read")

    created = client.create_draft(
        conversation.customer_id,
        conversation_id=conversation.id,
        channel="email",
        body="Hi Grace, your parcel is on its way.",
    )
    changed = client.update_draft(created.id, body="Hi Grace, it arrives tomorrow.")
    listed = client.list_drafts(conversation.customer_id)

    assert isinstance(created, Draft)
    assert created.customer_id == conversation.customer_id
    assert created.conversation_id == conversation.id
    assert (created.channel, created.status) == ("email", "draft")
    assert changed.id == created.id
    assert changed.body == "Hi Grace, it arrives tomorrow."
    assert listed == [changed]


def test_a_second_draft_on_the_conversation_is_a_permanent_duplicate(client_for, conversation):
    client = client_for()
    first = client.create_draft(
        conversation.customer_id, conversation_id=conversation.id, channel="chat", body="Hi"
    )

    with pytest.raises(PermanentError) as error:
        client.create_draft(
            conversation.customer_id, conversation_id=conversation.id, channel="chat", body="Yo"
        )

    assert error.value.status == 400
    assert is_duplicate(error.value)
    assert first.id in str(error.value)


def test_an_invalid_or_unknown_draft_is_a_permanent_error(client_for, conversation):
    client = client_for()

    with pytest.raises(PermanentError) as invalid:
        client.create_draft(
            conversation.customer_id, conversation_id=conversation.id, channel="fax", body="Hi"
        )
    with pytest.raises(PermanentError) as unknown:
        client.update_draft("0" * 24, body="Hi")

    assert invalid.value.status == 400
    assert "channel must be one of" in str(invalid.value)
    assert unknown.value.status == 404


def test_kustomers_draft_limit_is_rate_limited_with_its_wait(client_for, conversation, settings):
    settings.SANDBOX_KUSTOMER_CUSTOMER_DRAFT_LIMIT = 1
    client = client_for()
    client.create_draft(
        conversation.customer_id, conversation_id=conversation.id, channel="chat", body="Hi"
    )

    with pytest.raises(RateLimited) as error:
        client.create_draft(
            conversation.customer_id, conversation_id=conversation.id, channel="email", body="Hi"
        )

    assert error.value.status == 429
    assert 1 <= error.value.retry_after <= 61
    # One customer's draft limit holds that customer only, not the org's budget.
    assert client.rate_limiter.acquire() == 0


def test_a_client_for_the_agent_acts_as_the_agent(sign_in, base_url, conversation):
    tokens = sign_in("Sam Supervisor")

    with KustomerClient.for_agent(
        tokens.access_token, base_url=base_url, rate_limiter=_limiter()
    ) as agent:
        me = agent.current_user()
        draft = agent.create_draft(
            conversation.customer_id,
            conversation_id=conversation.id,
            channel="email",
            body="Drafted as Sam",
        )

    assert isinstance(me, User)
    assert me.name == "Sam Supervisor"
    assert me.email == "sam.supervisor@sandbox.example.com"
    assert "org.user.report.read" in me.roles
    assert "org.user.conversation.read" in me.roles
    assert SandboxDraft.objects.get(pk=draft.id).created_by_user_id == me.id


def test_an_api_keys_user_has_the_keys_roles(client_for):
    assert client_for("org.user.customer.read").current_user().roles == ("org.user.customer.read",)


def test_a_revoked_agent_token_is_a_permanent_401_and_a_refresh_cannot_mend_it(sign_in, base_url):
    tokens = sign_in()
    sign_in.oauth.revoke(tokens.refresh_token)

    with (
        KustomerClient.for_agent(
            tokens.access_token, base_url=base_url, rate_limiter=_limiter()
        ) as agent,
        pytest.raises(PermanentError) as error,
    ):
        agent.current_user()
    with pytest.raises(OAuthError) as refresh:
        sign_in.oauth.refresh(tokens.refresh_token)

    assert error.value.status == 401
    assert refresh.value.sign_in_again


def test_agent_clients_share_the_orgs_one_rate_limit(settings, live_server):
    settings.KUSTOMER_API_BASE_URL = live_server.url + "/sandbox/kustomer"
    settings.KUSTOMER_API_KEY = "k"

    agent = KustomerClient.for_agent("agent-token")

    # Kustomer counts every credential of the org against one budget.
    assert agent.rate_limiter is KustomerClient.from_settings().rate_limiter
    assert agent._http.headers["Authorization"] == "Bearer agent-token"
    assert str(agent._http.base_url).rstrip("/") == live_server.url + "/sandbox/kustomer"
