"""The Kustomer client's conversation search against the fake Kustomer, over real HTTP."""

from datetime import timedelta

import pytest
from django.utils import timezone

from copilot.integrations import kustomer
from copilot.integrations.http import PermanentError
from copilot.integrations.kustomer import KustomerClient
from copilot.integrations.ratelimit import Limits, LocalRateLimiter
from copilot.sandbox.kustomer import search as fake_search
from copilot.sandbox.kustomer import services as sandbox
from copilot.sandbox.kustomer.models import Conversation, RequestLog

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client_for(live_server):
    clients = []

    def make(*roles: str) -> KustomerClient:
        client = KustomerClient(
            base_url=live_server.url + "/sandbox/kustomer",
            api_key=sandbox.api_key_create(roles=roles).token,
            rate_limiter=LocalRateLimiter(limits=Limits(per_window=1000, per_customer=120)),
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def _past_conversations(count: int, *, tags=("shipping-delay",)) -> list[Conversation]:
    customer = sandbox.customer_create(name="Ada", email="ada@example.com", emit_webhooks=False)
    rows = []
    for index in range(count):
        conversation = sandbox.conversation_create(
            customer=customer,
            name=f"Conversation {index}",
            tags=tags,
            custom={"contactReasonStr": "Where is my order"},
            emit_webhooks=False,
        )
        Conversation.objects.filter(pk=conversation.pk).update(
            created_at=timezone.now() - timedelta(days=30, hours=-index)
        )
        rows.append(conversation)
    return rows


def test_search_reads_every_page_oldest_first_with_tags_and_custom(client_for):
    rows = _past_conversations(7)
    client = client_for("org.user.search.read")

    found = list(
        client.search_conversations(
            created_from=timezone.now() - timedelta(days=60),
            created_to=timezone.now(),
            page_size=3,
        )
    )

    assert [conversation.id for conversation in found] == [row.id for row in rows]
    assert found[0].tags == ["shipping-delay"]
    assert found[0].custom == {"contactReasonStr": "Where is my order"}
    assert found[0].created_at < found[-1].created_at
    assert RequestLog.objects.filter(path="/v1/customers/search").count() == 3


def test_a_window_past_the_last_page_is_narrowed_and_nothing_is_lost(client_for, monkeypatch):
    # Kustomer stops at page 100; the same rule at page 3 keeps the test small.
    monkeypatch.setattr(kustomer, "SEARCH_PAGES_MAX", 3)
    monkeypatch.setattr(fake_search, "SEARCH_PAGES_MAX", 3)
    rows = _past_conversations(11)
    client = client_for("org.user.search.read")

    found = list(
        client.search_conversations(
            created_from=timezone.now() - timedelta(days=60),
            created_to=timezone.now(),
            page_size=2,
        )
    )

    assert [conversation.id for conversation in found] == [row.id for row in rows]
    pages = RequestLog.objects.filter(path="/v1/customers/search")
    assert all("page=4" not in row.query for row in pages)
    assert pages.count() > 6  # the first look at the whole window, then the halves


def test_counting_asks_for_ids_only(client_for):
    _past_conversations(4)
    client = client_for("org.user.search.read")

    total = client.count_conversations([{"conversation_tags": {"in": ["shipping-delay"]}}])

    assert total == 4
    assert "idsOnly=true" in RequestLog.objects.get(path="/v1/customers/search").query


def test_a_key_without_the_search_role_gets_kustomers_words(client_for):
    client = client_for("org.user.conversation.read")

    with pytest.raises(PermanentError) as refused:
        client.count_conversations([])

    assert refused.value.status == 403
    assert "org.user.search.read" in str(refused.value)
