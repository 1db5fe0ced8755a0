"""The Kustomer client against the fake Kustomer, over real HTTP."""

import pytest

from copilot.integrations.http import PermanentError, RateLimited, TransientError
from copilot.integrations.kustomer import WINDOW_MARGIN_SECONDS, KustomerClient, reset_seconds
from copilot.integrations.ratelimit import Limits, LocalRateLimiter
from copilot.sandbox.kustomer import services as sandbox

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client_for(live_server):
    clients = []

    def make(*roles: str, timeout: float = 10.0) -> KustomerClient:
        client = KustomerClient(
            base_url=live_server.url + "/sandbox/kustomer",
            api_key=sandbox.api_key_create(roles=roles).token,
            rate_limiter=LocalRateLimiter(limits=Limits(per_window=1000, per_customer=120)),
            timeout=timeout,
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


def test_customer_by_id_and_by_email(client_for, conversation):
    client = client_for("org.user.customer.read")

    by_id = client.get_customer(conversation.customer.id)
    by_email = client.find_customer_by_email("grace@example.com")

    assert by_id == by_email
    assert by_id.name == "Grace Hopper" and by_id.first_name == "Grace"
    assert by_id.emails == ["grace@example.com"]
    assert client.find_customer_by_email("nobody@example.com") is None


def test_messages_are_read_across_pages(client_for, conversation):
    for index in range(105):
        sandbox.message_create(
            conversation=conversation, direction="in", body=f"message {index}", channel="chat"
        )
    client = client_for("org.user.message.read")

    messages = list(client.iter_messages(conversation.id, page_size=50))

    assert [message.text for message in messages] == [f"message {i}" for i in range(105)]
    assert {message.direction for message in messages} == {"in"}
    assert messages[0].conversation_id == conversation.id


def test_lists_follow_every_page(client_for):
    for index in range(12):
        sandbox.shortcut_upsert(
            name=f"Reply {index}", text=f"Hi {{{{customer.firstName}}}} {index}"
        )
    client = client_for("org.user.shortcut.read")

    shortcuts = client.list_shortcuts()

    assert len(shortcuts) == 12
    assert "{{customer.firstName}}" in shortcuts[0].text


def test_a_bad_key_is_a_permanent_error_with_kustomers_words(live_server):
    client = KustomerClient(
        base_url=live_server.url + "/sandbox/kustomer",
        api_key="not-a-key",
        rate_limiter=LocalRateLimiter(limits=Limits(per_window=10, per_customer=10)),
    )

    with pytest.raises(PermanentError) as error:
        client.current_user()

    assert error.value.status == 401


def test_a_missing_role_is_a_permanent_403(client_for, conversation):
    client = client_for("org.user.customer.read")

    with pytest.raises(PermanentError) as error:
        client.create_note(conversation.id, body="hello", external_id="n-1")

    assert error.value.status == 403


def test_validation_errors_carry_kustomers_detail(client_for, conversation):
    client = client_for("org.user.note.write")

    with pytest.raises(PermanentError) as error:
        client.create_note(conversation.id, body="x" * 10_241, external_id="n-2")

    assert error.value.status == 400
    assert "Kustomer refused POST" in str(error.value)


@pytest.mark.parametrize(("mode", "expected"), [("500", TransientError), ("429", RateLimited)])
def test_server_failures_are_transient(client_for, conversation, mode, expected):
    sandbox.failure_inject(path_prefix="/v1/conversations", mode=mode, count=1, seconds=2)
    client = client_for("org.user.note.write")

    with pytest.raises(expected) as error:
        client.create_note(conversation.id, body="hello", external_id="n-3")

    if mode == "429":
        assert error.value.retry_after == pytest.approx(2, abs=1)
        # Every sender now holds off until Kustomer's reset instead of trying again at once.
        assert client.rate_limiter.acquire() > 0


def test_a_slow_answer_is_a_transient_timeout(client_for, conversation, settings):
    settings.SANDBOX_KUSTOMER_LATENCY_MS = 600
    client = client_for("org.user.conversation.read", timeout=0.2)

    with pytest.raises(TransientError, match="did not answer"):
        client.get_conversation(conversation.id)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("30", 30.0), ("0", 0.0), ("1800000030", 30.0), ("soon", None), (None, None)],
)
def test_reset_header_is_read_as_seconds_or_as_an_epoch(header, seconds):
    assert reset_seconds(header, now=1_800_000_000) == seconds


def test_one_customers_limit_does_not_hold_the_others(client_for, settings):
    settings.SANDBOX_KUSTOMER_CUSTOMER_CREATE_LIMIT = 2
    busy = sandbox.customer_create(name="Busy", email="busy@example.com", emit_webhooks=False)
    calm = sandbox.customer_create(name="Calm", email="calm@example.com", emit_webhooks=False)
    busy_conversation = sandbox.conversation_create(customer=busy, name="a")
    calm_conversation = sandbox.conversation_create(customer=calm, name="b")
    client = client_for("org.user.note.write")

    for index in range(2):
        client.create_note(busy_conversation.id, body="hi", external_id=f"b-{index}")
    with pytest.raises(RateLimited):
        # Not counted by our limiter (no customer id given): Kustomer refuses it.
        client.create_note(busy_conversation.id, body="hi", external_id="b-3")
    note = client.create_note(calm_conversation.id, body="hi", external_id="c-1")

    assert note.external_id == "c-1"


def test_clients_share_one_tls_context_that_still_verifies_certificates():
    import ssl

    from copilot.integrations.http import tls_context
    from copilot.integrations.shopify import ShopifyClient

    kustomer = KustomerClient(
        base_url="https://acme.api.kustomerapp.com",
        api_key="k",
        rate_limiter=LocalRateLimiter(limits=Limits(per_window=10, per_customer=10)),
    )
    shopify = ShopifyClient(
        shop_domain="acme.myshopify.com", access_token="t", api_version="2026-10"
    )

    # Building a context loads the CA bundle (20-50 ms): every client reuses the one.
    for client in (kustomer, shopify):
        assert client._http._transport._pool._ssl_context is tls_context()
    assert tls_context().verify_mode == ssl.CERT_REQUIRED
    assert tls_context().check_hostname is True


def test_a_spent_budget_waits_a_little_longer_than_kustomers_minute(settings):
    settings.KUSTOMER_API_BASE_URL = "https://acme.api.kustomerapp.com"
    settings.KUSTOMER_API_KEY = "k"
    settings.KUSTOMER_RATE_LIMIT_PER_MINUTE = 1
    limiter = KustomerClient.from_settings().rate_limiter

    assert limiter.acquire() == 0
    wait = limiter.acquire()

    # The request just counted may still be on its way: Kustomer counts it when it arrives.
    assert 60 < wait <= 60 + WINDOW_MARGIN_SECONDS
