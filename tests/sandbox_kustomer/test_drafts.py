"""Kustomer's Drafts API in the fake: what an agent's reply box holds, over real HTTP."""

import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from copilot.sandbox.kustomer import services
from copilot.sandbox.kustomer.models import Draft

OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")


def _draft(api, customer_id, **body):
    return api.post(f"/v1/customers/{customer_id}/drafts", json=body)


def _reply(api, conversation, body="Your parcel left our warehouse today.", **extra):
    return _draft(
        api,
        conversation.customer_id,
        conversation=conversation.id,
        channel="email",
        body=body,
        **extra,
    )


def _error(response) -> dict:
    errors = response.json()["errors"]
    assert len(errors) == 1
    assert errors[0]["status"] == response.status_code
    return errors[0]


def test_a_draft_is_created_in_the_conversations_reply_box(client_with, conversation, control):
    api = client_with()  # Kustomer asks no role to write a draft

    answer = _reply(api, conversation)
    box = control.get("/drafts", params={"conversationId": conversation.id}).json()["data"]

    assert answer.status_code == 201
    draft = answer.json()["data"]
    assert draft["type"] == "draft"
    assert OBJECT_ID.match(draft["id"])
    attributes = draft["attributes"]
    assert attributes["body"] == "Your parcel left our warehouse today."
    assert attributes["channel"] == "email"
    assert attributes["status"] == "draft"
    assert attributes["to"] == ["ada.lovelace@example.com"]
    assert attributes["from"] == "support@sandbox.example.com"
    assert attributes["sendAt"] is None
    relationships = draft["relationships"]
    assert relationships["customer"]["data"] == {"type": "customer", "id": conversation.customer_id}
    assert relationships["conversation"]["data"] == {
        "type": "conversation",
        "id": conversation.id,
    }
    assert draft["links"]["self"] == f"/v1/drafts/{draft['id']}"
    assert [row["id"] for row in box] == [draft["id"]]


def test_a_draft_is_changed_with_put(client_with, conversation, control):
    api = client_with()
    created = _reply(api, conversation).json()["data"]

    changed = api.put(f"/v1/drafts/{created['id']}", json={"body": "Edited by the copilot."})
    box = control.get("/drafts", params={"conversationId": conversation.id}).json()["data"]

    assert changed.status_code == 200
    assert changed.json()["data"]["id"] == created["id"]
    assert changed.json()["data"]["attributes"]["body"] == "Edited by the copilot."
    assert [row["attributes"]["body"] for row in box] == ["Edited by the copilot."]


def test_a_second_draft_for_the_same_conversation_and_channel_is_refused(client_with, conversation):
    api = client_with()
    first = _reply(api, conversation).json()["data"]

    second = _reply(api, conversation, body="Another suggestion")
    chat = _draft(
        api,
        conversation.customer_id,
        conversation=conversation.id,
        channel="chat",
        body="Hi!",
    )
    note = _draft(
        api,
        conversation.customer_id,
        conversation=conversation.id,
        channel="note",
        body="Check the carrier",
    )
    second_note = _draft(
        api,
        conversation.customer_id,
        conversation=conversation.id,
        channel="note",
        body="Again",
    )

    assert second.status_code == 400
    error = _error(second)
    assert error["code"] == "duplicate"
    assert error["source"]["pointer"] == "/data/attributes/conversation"
    assert first["id"] in error["detail"]
    assert chat.status_code == 201
    assert note.status_code == 201
    assert second_note.status_code == 400
    assert Draft.objects.get(pk=first["id"]).body == "Your parcel left our warehouse today."


def test_the_customers_drafts_are_listed_with_the_draft_read_role(
    client_with, conversation, customer
):
    writer = client_with()
    _reply(writer, conversation)
    reader = client_with("org.user.draft.read")

    listed = reader.get(f"/v1/customers/{customer.id}/drafts")
    refused = writer.get(f"/v1/customers/{customer.id}/drafts")

    assert listed.status_code == 200
    assert [
        row["relationships"]["conversation"]["data"]["id"] for row in listed.json()["data"]
    ] == [conversation.id]
    assert listed.json()["meta"]["total"] == 1
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("body", "pointer", "detail"),
    [
        ({"body": "Hi"}, "channel", "channel is required"),
        ({"channel": "fax", "body": "Hi"}, "channel", "channel must be one of"),
        ({"channel": "email"}, "body", "body is required"),
        ({"channel": "email", "body": ""}, "body", "at least 1"),
        ({"channel": "email", "body": "x" * 10_241}, "body", "at most 10240"),
        ({"channel": "twitter-tweet", "body": "x" * 281}, "body", "at most 280"),
        ({"channel": "email", "body": "Hi", "to": "not-an-address"}, "to", "not an email"),
        ({"channel": "chat", "body": "Hi", "subject": "Re: order"}, "subject", "only for email"),
        (
            {"channel": "email", "body": "Hi", "bodyHtml": "<p>Hi</p>"},
            "bodyHtml",
            "not an allowed attribute",
        ),
        ({"channel": "email", "body": "Hi", "scheduled": True}, "sendAt", "sendAt is required"),
        (
            {"channel": "email", "body": "Hi", "scheduled": True, "sendAt": "2020-01-01T00:00:00Z"},
            "sendAt",
            "in the future",
        ),
        ({"channel": "email", "body": 42}, "body", "must be a string"),
    ],
)
def test_an_invalid_draft_gets_400_with_the_reason(client_with, customer, body, pointer, detail):
    answer = _draft(client_with(), customer.id, **body)

    assert answer.status_code == 400
    error = _error(answer)
    assert error["source"]["pointer"] == f"/data/attributes/{pointer}"
    assert detail in error["detail"]


def test_a_draft_of_10240_characters_is_accepted(client_with, conversation):
    assert _reply(client_with(), conversation, body="x" * 10_240).status_code == 201


def test_a_scheduled_draft_and_unscheduling_it(client_with, conversation):
    api = client_with()
    created = _reply(api, conversation, scheduled=True, sendAt="2999-01-01T09:00:00Z").json()
    draft_id = created["data"]["id"]

    unscheduled = api.put(f"/v1/drafts/{draft_id}", json={"sendAt": None}).json()["data"]

    assert created["data"]["attributes"]["status"] == "scheduled"
    assert created["data"]["attributes"]["sendAt"] == "2999-01-01T09:00:00.000Z"
    assert unscheduled["attributes"]["status"] == "draft"
    assert unscheduled["attributes"]["sendAt"] is None


def test_a_draft_update_cannot_move_it_and_is_validated(client_with, conversation):
    api = client_with()
    draft_id = _reply(api, conversation).json()["data"]["id"]

    moved = api.put(f"/v1/drafts/{draft_id}", json={"channel": "chat"})
    emptied = api.put(f"/v1/drafts/{draft_id}", json={"body": ""})

    assert moved.status_code == 400
    assert _error(moved)["source"]["pointer"] == "/data/attributes/channel"
    assert emptied.status_code == 400


def test_unknown_customers_conversations_and_drafts_are_404(client_with, customer, conversation):
    api = client_with()
    missing = "0" * 24

    assert _reply(api, conversation).status_code == 201
    no_customer = _draft(api, missing, channel="email", body="Hi")
    no_conversation = _draft(api, customer.id, conversation=missing, channel="email", body="Hi")
    no_draft = api.put(f"/v1/drafts/{missing}", json={"body": "Hi"})

    for answer in (no_customer, no_conversation, no_draft):
        assert answer.status_code == 404
        assert _error(answer)["code"] == "not_found"


def test_a_conversation_of_another_customer_is_refused(client_with, conversation):
    stranger = services.customer_create(name="Grace Hopper", email="grace@example.org")

    answer = _draft(
        client_with(), stranger.id, conversation=conversation.id, channel="email", body="Hi"
    )

    assert answer.status_code == 400
    assert _error(answer)["source"]["pointer"] == "/data/attributes/conversation"


def test_another_orgs_draft_is_not_found(client_with, conversation, base_url):
    draft_id = _reply(client_with(), conversation).json()["data"]["id"]
    other_org = services.org_get_or_create(name="other")
    outsider = services.api_key_create(roles=["org.admin"], org=other_org)

    answer = httpx.put(
        f"{base_url}/v1/drafts/{draft_id}",
        json={"body": "mine now"},
        headers={"Authorization": f"Bearer {outsider.token}"},
    )

    assert answer.status_code == 404


def test_the_121st_draft_for_one_customer_within_a_minute_gets_429(client_with, customer):
    # Kustomer's documented limit at its default value, 120 drafts per minute per customer,
    # reached by eight senders at once: exactly one of 121 drafts is refused.
    api = client_with()
    conversations = [services.conversation_create(customer=customer) for _ in range(121)]

    def reply(conversation):
        return _draft(api, customer.id, conversation=conversation.id, channel="chat", body="Hi")

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(reply, conversations))

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] * 120 + [429]
    created = next(answer for answer in answers if answer.status_code == 201)
    assert created.headers["x-ratelimit-object-limit"] == "120"
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert _error(refused)["code"] == "rate_limited"
    assert refused.headers["x-ratelimit-object-limit"] == "120"
    assert refused.headers["x-ratelimit-object-remaining"] == "0"
    assert 1 <= int(refused.headers["x-ratelimit-object-reset"]) <= 61
    assert refused.headers["x-ratelimit-remaining"]  # the org's headers are there too
    assert Draft.objects.filter(customer=customer).count() == 120


def test_the_draft_limit_is_per_customer_and_apart_from_the_create_limit(
    client_with, customer, settings
):
    settings.SANDBOX_KUSTOMER_CUSTOMER_DRAFT_LIMIT = 2
    settings.SANDBOX_KUSTOMER_CUSTOMER_CREATE_LIMIT = 1
    other = services.customer_create(name="Grace Hopper", email="grace@example.org")
    api = client_with("org.user.note.write")
    conversation = services.conversation_create(customer=customer)

    drafts = [_draft(api, customer.id, channel="sms", body=f"Hi {n}") for n in range(3)]
    elsewhere = _draft(api, other.id, channel="sms", body="Hi")
    note = api.post(f"/v1/conversations/{conversation.id}/notes", json={"body": "Intent: where"})

    assert [answer.status_code for answer in drafts] == [201, 201, 429]
    assert drafts[2].headers["x-ratelimit-object-limit"] == "2"
    assert elsewhere.status_code == 201
    assert note.status_code == 201  # drafts do not use up the customer's creates


def test_an_agents_draft_is_created_by_the_agent(signed_in, as_agent, conversation, people):
    api = as_agent(signed_in().access_token)

    answer = _reply(api, conversation)

    assert answer.status_code == 201
    assert answer.json()["data"]["relationships"]["createdBy"]["data"] == {
        "type": "user",
        "id": people.ada.id,
    }
