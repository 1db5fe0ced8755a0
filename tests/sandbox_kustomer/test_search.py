"""`POST /v1/customers/search` for conversations, over real HTTP."""

from datetime import timedelta

import pytest
from django.utils import timezone

from copilot.sandbox.kustomer import history, services
from copilot.sandbox.kustomer.models import Conversation

SEARCH = "/v1/customers/search"


def _conversation(customer, *, days_ago: float, tags=(), custom=None, name=""):
    conversation = services.conversation_create(
        customer=customer, name=name, tags=tags, custom=custom, emit_webhooks=False
    )
    created = timezone.now() - timedelta(days=days_ago)
    Conversation.objects.filter(pk=conversation.pk).update(created_at=created)
    return conversation


def _body(*criteria, **extra):
    return {"queryContext": "conversation", "and": list(criteria), **extra}


@pytest.fixture
def searcher(client_with):
    return client_with("org.user.search.read")


def test_date_criteria_select_the_range_and_tags_and_custom_values_narrow_it(searcher, customer):
    late = _conversation(customer, days_ago=3, tags=["shipping-delay"])
    refund = _conversation(
        customer, days_ago=5, tags=["refund-request", "vip"], custom={"contactReasonStr": "Refund"}
    )
    _conversation(customer, days_ago=40, tags=["shipping-delay"])
    since = (timezone.now() - timedelta(days=10)).date().isoformat()
    today = timezone.now().date().isoformat()
    window = [
        {"conversation_created_at": {"gte": since}},
        {"conversation_created_at": {"lte": today}},
    ]

    everything = searcher.post(SEARCH, json=_body(*window))
    tagged = searcher.post(
        SEARCH, json=_body(*window, {"conversation_tags": {"in": ["shipping-delay", "nothing"]}})
    )
    by_reason = searcher.post(
        SEARCH, json=_body(*window, {"conversation_custom_contactReasonStr": {"equals": "Refund"}})
    )

    assert everything.status_code == 200
    assert [row["id"] for row in everything.json()["data"]] == [late.id, refund.id]  # newest first
    assert everything.json()["meta"]["total"] == 2
    assert [row["id"] for row in tagged.json()["data"]] == [late.id]
    assert [row["id"] for row in by_reason.json()["data"]] == [refund.id]
    assert by_reason.json()["data"][0]["attributes"]["custom"] == {"contactReasonStr": "Refund"}


def test_a_local_day_follows_the_time_zone_and_an_iso_time_is_utc(searcher, customer):
    conversation = _conversation(customer, days_ago=1)
    created = Conversation.objects.get(pk=conversation.pk).created_at
    just_after = (created + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    found = searcher.post(
        SEARCH, json=_body({"conversation_created_at": {"lt": just_after}}, timeZone="Asia/Tokyo")
    )
    bad_zone = searcher.post(SEARCH, json=_body(timeZone="Mars/Olympus"))

    assert [row["id"] for row in found.json()["data"]] == [conversation.id]
    assert bad_zone.status_code == 400
    assert "time zone" in bad_zone.json()["errors"][0]["detail"]


def test_pages_follow_links_next_ascending_and_ids_only(searcher, customer):
    conversations = [_conversation(customer, days_ago=10 - index) for index in range(5)]
    body = _body(sort=[{"conversation_created_at": "asc"}])

    first = searcher.post(SEARCH, params={"pageSize": 2}, json=body).json()
    without_body = searcher.post(first["links"]["next"])
    following = searcher.post(first["links"]["next"], json=body).json()
    ids_only = searcher.post(SEARCH, params={"idsOnly": "true", "pageSize": 1}, json=body).json()

    assert first["meta"] == {"page": 1, "pageSize": 2, "total": 5, "totalPages": 3}
    assert [row["id"] for row in first["data"]] == [c.id for c in conversations[:2]]
    assert without_body.status_code == 415  # the criteria go with every page
    assert [row["id"] for row in following["data"]] == [c.id for c in conversations[2:4]]
    assert ids_only["data"] == [{"type": "conversation", "id": conversations[0].id}]
    assert ids_only["meta"]["total"] == 5


@pytest.mark.parametrize(
    ("params", "body", "detail"),
    [
        ({"pageSize": 501}, _body(), "pageSize must be at most 500"),
        ({"page": 101}, _body(), "up to page 100"),
        ({}, _body({"conversation_priority": {"equals": 1}}), "not a searchable"),
        ({}, _body({"conversation_tags": {"gte": "a"}}), "not an operator for tags"),
        ({}, _body({"conversation_created_at": {"gte": "last week"}}), "neither a YYYY-MM-DD"),
        ({}, {"queryContext": "customer", "and": []}, "queryContext"),
        ({}, _body(filter=[]), "filter is not an allowed attribute"),
    ],
)
def test_bad_searches_are_refused_with_a_sentence(searcher, params, body, detail):
    response = searcher.post(SEARCH, params=params, json=body)

    assert response.status_code == 400
    assert detail in response.json()["errors"][0]["detail"]


def test_the_last_page_reachable_is_the_hundredth(searcher, customer):
    for index in range(3):
        _conversation(customer, days_ago=index + 1)

    response = searcher.post(SEARCH, params={"page": 100, "pageSize": 1}, json=_body())

    assert response.status_code == 200
    assert response.json()["data"] == []
    assert response.json()["links"]["next"] is None


def test_searching_needs_a_search_role(client_with):
    conversation_reader = client_with("org.user.conversation.read")
    other_role = client_with("org.permission.search.create")

    refused = conversation_reader.post(SEARCH, json=_body())

    assert refused.status_code == 403
    assert "org.user.search.read" in refused.json()["errors"][0]["detail"]
    assert other_role.post(SEARCH, json=_body()).status_code == 200


def test_an_api_key_may_search_a_limited_number_of_times_a_minute(client_with, settings):
    settings.SANDBOX_KUSTOMER_SEARCH_RATE_LIMIT = 2
    searcher = client_with("org.user.search.read")
    another = client_with("org.user.search.read")

    allowed = [searcher.post(SEARCH, json=_body()) for _ in range(2)]
    refused = searcher.post(SEARCH, json=_body())

    assert [answer.status_code for answer in allowed] == [200, 200]
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["code"] == "rate_limited"
    assert refused.headers["x-ratelimit-limit"] == "2"
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert 1 <= int(refused.headers["x-ratelimit-reset"]) <= 61
    assert another.post(SEARCH, json=_body()).status_code == 200  # per key
    # Other endpoints are not limited by it.
    assert searcher.get("/v1/users/current").status_code == 200


def test_the_history_seed_writes_past_conversations_once(control):
    first = control.post("/history")
    second = control.post("/history")

    assert first.status_code == 201
    assert first.json()["written"] == len(history.PAST_CONVERSATIONS)
    assert second.json()["written"] == 0
    oldest = Conversation.objects.order_by("created_at").first()
    assert oldest.created_at < timezone.now() - timedelta(days=100)
    assert Conversation.objects.filter(tags__contains=["shipping-delay"]).count() >= 5
