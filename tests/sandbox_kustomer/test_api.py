import base64
import json
import re

import httpx
import pytest

from copilot.sandbox.kustomer import services
from copilot.sandbox.kustomer.models import ApiKey, Note

OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _error(response) -> dict:
    errors = response.json()["errors"]
    assert len(errors) == 1
    assert errors[0]["status"] == response.status_code
    return errors[0]


# --- envelope and pagination -------------------------------------------------------------------


def test_customer_comes_in_kustomers_envelope(client_with, customer):
    api = client_with("org.user.customer.read")

    response = api.get(f"/v1/customers/{customer.id}")

    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == {"type", "id", "attributes", "relationships", "links"}
    assert data["type"] == "customer"
    assert OBJECT_ID.match(data["id"])
    assert data["attributes"]["displayName"] == "Ada Lovelace"
    assert data["attributes"]["emails"] == [{"type": "home", "email": "ada.lovelace@example.com"}]
    assert ISO_Z.match(data["attributes"]["createdAt"])
    assert data["links"]["self"] == f"/v1/customers/{customer.id}"
    assert response.headers["x-ratelimit-limit"] == "1000"


def test_customer_is_found_by_email_without_regard_to_case(client_with):
    customer = services.customer_create(name="Grace Hopper", email="grace+orders@example.org")
    api = client_with("org.user.customer.read")

    found = api.get("/v1/customers/email=Grace%2BOrders@example.org")
    missing = api.get("/v1/customers/email=nobody@example.org")

    assert found.status_code == 200
    assert found.json()["data"]["id"] == customer.id
    assert missing.status_code == 404
    assert _error(missing)["code"] == "not_found"


def test_messages_are_paged_and_links_next_walks_every_page(client_with, conversation):
    for number in range(25):
        services.message_send_from_customer(conversation=conversation, body=f"message {number}")
    api = client_with("org.user.message.read")

    bodies, pages = [], []
    path, params = f"/v1/conversations/{conversation.id}/messages", {"pageSize": 10}
    while path:
        payload = api.get(path, params=params).json()
        pages.append(payload["meta"])
        bodies += [message["attributes"]["body"] for message in payload["data"]]
        path, params = payload["links"]["next"], None

    assert bodies == [f"message {number}" for number in range(25)]
    assert pages[0] == {"page": 1, "pageSize": 10, "total": 25, "totalPages": 3}
    assert [meta["page"] for meta in pages] == [1, 2, 3]


def test_a_message_has_the_documented_attributes(client_with, conversation):
    services.message_send_from_customer(
        conversation=conversation, body="Hi,\n  where is my parcel?", subject="Order #1042"
    )
    api = client_with("org.user.message.read")

    payload = api.get(f"/v1/conversations/{conversation.id}/messages").json()

    message = payload["data"][0]
    assert message["type"] == "message"
    attributes = message["attributes"]
    assert attributes["direction"] == "in"
    assert attributes["channel"] == "email"
    assert attributes["preview"] == "Hi, where is my parcel?"
    assert attributes["meta"]["subject"] == "Order #1042"
    assert attributes["meta"]["from"] == "ada.lovelace@example.com"
    assert ISO_Z.match(attributes["sentAt"])
    assert "sentiment" in attributes
    assert message["relationships"]["conversation"]["data"]["id"] == conversation.id
    assert payload["links"]["prev"] is None
    assert payload["links"]["next"] is None


def test_message_body_can_be_left_out_like_the_unconfirmed_field_may_be(
    client_with, conversation, settings
):
    services.message_send_from_customer(conversation=conversation, body="Where is it?")
    settings.SANDBOX_KUSTOMER_MESSAGE_BODY = False
    api = client_with("org.user.message.read")

    attributes = api.get(f"/v1/conversations/{conversation.id}/messages").json()["data"][0][
        "attributes"
    ]

    assert "body" not in attributes
    assert attributes["preview"] == "Where is it?"


def test_bad_paging_is_refused(client_with, conversation):
    api = client_with("org.user.message.read")
    path = f"/v1/conversations/{conversation.id}/messages"

    for query, parameter in [
        ({"pageSize": 101}, "pageSize"),
        ({"pageSize": 0}, "pageSize"),
        ({"page": "two"}, "page"),
    ]:
        response = api.get(path, params=query)

        assert response.status_code == 400, query
        assert _error(response)["source"] == {"parameter": parameter}, query


# --- authentication, roles, routing ------------------------------------------------------------


def _tampered(token: str) -> str:
    # Claims rewritten without the org's secret: the signature no longer matches.
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"] = ["org.admin"]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_a_missing_or_bad_key_gets_401(base_url, customer):
    key = services.api_key_create(roles=["org.user.customer.read"])
    revoked = services.api_key_create(roles=["org.user.customer.read"])
    ApiKey.objects.filter(pk=revoked.pk).delete()
    other_org = services.org_get_or_create(name="other")
    signed_elsewhere = services.api_key_create(roles=["org.admin"], org=other_org)
    header, payload, _ = key.token.split(".")
    wrong_signature = f"{header}.{payload}.{signed_elsewhere.token.split('.')[2]}"

    for authorization in [
        None,
        "Bearer",
        "Bearer not-a-token",
        "Basic dXNlcjpwYXNz",
        "Bearer a.b.c",
        f"Bearer {_tampered(key.token)}",
        f"Bearer {wrong_signature}",
        f"Bearer {revoked.token}",
    ]:
        headers = {"Authorization": authorization} if authorization else {}
        response = httpx.get(f"{base_url}/v1/customers/{customer.id}", headers=headers)

        assert response.status_code == 401, authorization
        assert _error(response)["code"] == "unauthorized"


def test_a_key_without_the_role_gets_403(client_with, conversation):
    reader = client_with("org.user.conversation.read")

    allowed = reader.get(f"/v1/conversations/{conversation.id}")
    refused = reader.post(f"/v1/conversations/{conversation.id}/notes", json={"body": "Hi"})

    assert allowed.status_code == 200
    assert refused.status_code == 403
    assert "org.user.note.write" in _error(refused)["detail"]
    assert not Note.objects.exists()


def test_org_admin_holds_every_role(admin, conversation):
    assert admin.get(f"/v1/conversations/{conversation.id}").status_code == 200


def test_unknown_things_get_404(admin):
    for path in [
        "/v1/customers/000000000000000000000000",
        "/v1/conversations/000000000000000000000000",
        "/v1/conversations/000000000000000000000000/messages",
        "/v1/no-such-thing",
    ]:
        response = admin.get(path)

        assert response.status_code == 404, path
        assert _error(response)["code"] == "not_found"


def test_an_unsupported_method_gets_405(admin, customer):
    response = admin.delete(f"/v1/customers/{customer.id}")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET"


def test_users_current_is_the_keys_user(base_url):
    key = services.api_key_create(roles=[], user_name="Copilot Bot", user_email="bot@example.com")

    response = httpx.get(
        f"{base_url}/v1/users/current", headers={"Authorization": f"Bearer {key.token}"}
    )

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["type"] == "user"
    assert data["id"] == key.user_id
    assert data["attributes"]["email"] == "bot@example.com"


# --- bodies ------------------------------------------------------------------------------------


def test_a_body_over_100_kb_gets_413_before_anything_else(client_with, conversation):
    api = client_with("org.user.note.write")

    response = api.post(
        f"/v1/conversations/{conversation.id}/notes", json={"body": "x" * 101 * 1024}
    )

    assert response.status_code == 413
    assert _error(response)["code"] == "payload_too_large"
    assert not Note.objects.exists()


def test_a_body_that_is_not_json_is_refused(client_with, conversation):
    api = client_with("org.user.note.write")
    path = f"/v1/conversations/{conversation.id}/notes"

    wrong_type = api.post(path, content=b"body=hi", headers={"Content-Type": "text/plain"})
    broken = api.post(path, content=b'{"body": ', headers={"Content-Type": "application/json"})

    assert wrong_type.status_code == 415
    assert broken.status_code == 400


# --- notes -------------------------------------------------------------------------------------


def test_a_note_is_created_with_201(client_with, conversation):
    api = client_with("org.user.note.write")

    response = api.post(
        f"/v1/conversations/{conversation.id}/notes",
        json={"body": "Intent: order status", "externalId": "insight-1", "userMentions": []},
    )

    assert response.status_code == 201
    data = response.json()["data"]
    assert data["type"] == "note"
    assert data["attributes"]["body"] == "Intent: order status"
    assert data["attributes"]["externalId"] == "insight-1"
    assert data["relationships"]["conversation"]["data"]["id"] == conversation.id
    assert Note.objects.get().conversation_id == conversation.id


def test_an_invalid_note_gets_400_pointing_at_the_attribute(client_with, conversation):
    api = client_with("org.user.note.write")

    for body, pointer in [
        ({"body": ""}, "/data/attributes/body"),
        ({"body": "x" * 10_241}, "/data/attributes/body"),
        ({"externalId": "insight-1"}, "/data/attributes/body"),
        ({"body": 42}, "/data/attributes/body"),
        ({"body": "hi", "externalId": ""}, "/data/attributes/externalId"),
        ({"body": "hi", "bodyHtml": "<p>hi</p>"}, "/data/attributes/bodyHtml"),
        (["hi"], "/data"),
    ]:
        response = api.post(f"/v1/conversations/{conversation.id}/notes", json=body)

        assert response.status_code == 400, body
        assert _error(response)["source"] == {"pointer": pointer}, body
    assert not Note.objects.exists()


def test_a_note_of_10240_characters_is_accepted(client_with, conversation):
    api = client_with("org.user.note.write")

    response = api.post(f"/v1/conversations/{conversation.id}/notes", json={"body": "x" * 10_240})

    assert response.status_code == 201


def test_a_second_note_with_the_same_external_id_is_a_duplicate(client_with, conversation):
    api = client_with("org.user.note.write")
    path = f"/v1/conversations/{conversation.id}/notes"

    first = api.post(path, json={"body": "one", "externalId": "insight-1"})
    second = api.post(path, json={"body": "two", "externalId": "insight-1"})

    assert first.status_code == 201
    assert second.status_code == 400
    assert _error(second)["code"] == "duplicate"
    assert Note.objects.count() == 1


# --- conversations -----------------------------------------------------------------------------


def test_tags_are_appended_from_an_array_of_names(client_with, conversation):
    api = client_with("org.user.conversation.write")

    api.post(f"/v1/conversations/{conversation.id}/tags", json=["order-status"])
    response = api.post(f"/v1/conversations/{conversation.id}/tags", json=["vip", "order-status"])

    assert response.status_code == 200
    assert response.json()["data"]["attributes"]["tags"] == ["order-status", "vip"]


def test_patch_merges_custom_attributes_and_put_replaces_them(client_with, conversation):
    api = client_with("org.user.conversation.write")
    path = f"/v1/conversations/{conversation.id}"

    api.patch(path, json={"custom": {"intentStr": "refund"}})
    patched = api.patch(path, json={"status": "done", "custom": {"confidenceNum": 0.9}})
    put = api.put(path, json={"custom": {"intentStr": "return"}})

    assert patched.json()["data"]["attributes"]["status"] == "done"
    assert patched.json()["data"]["attributes"]["custom"] == {
        "intentStr": "refund",
        "confidenceNum": 0.9,
    }
    assert put.json()["data"]["attributes"]["custom"] == {"intentStr": "return"}


def test_an_invalid_conversation_update_gets_400(client_with, conversation):
    api = client_with("org.user.conversation.write")

    for body, pointer in [
        ({"status": "closed"}, "/data/attributes/status"),
        ({"priority": 9}, "/data/attributes/priority"),
        ({"tags": "vip"}, "/data/attributes/tags"),
        ({"custom": {"intent": "refund"}}, "/data/attributes/custom/intent"),
        ({"assignee": "me"}, "/data/attributes/assignee"),
    ]:
        response = api.patch(f"/v1/conversations/{conversation.id}", json=body)

        assert response.status_code == 400, body
        assert _error(response)["source"]["pointer"] == pointer, body


def test_a_conversation_is_created_for_an_existing_customer(client_with, customer):
    api = client_with("org.user.conversation.write")

    created = api.post("/v1/conversations", json={"customer": customer.id, "name": "Refund"})
    unknown = api.post("/v1/conversations", json={"customer": "000000000000000000000000"})

    assert created.status_code == 201
    data = created.json()["data"]
    assert data["relationships"]["customer"]["data"] == {"type": "customer", "id": customer.id}
    assert data["attributes"]["status"] == "open"
    assert unknown.status_code == 400
    assert _error(unknown)["source"]["pointer"] == "/data/attributes/customer"


# --- klasses and KObjects ----------------------------------------------------------------------


def test_klass_is_created_and_listed(admin):
    created = admin.post(
        "/v1/klasses",
        json={"name": "copilot_insight", "displayName": "Copilot insight", "icon": "robot"},
    )
    listed = admin.get("/v1/klasses")

    assert created.status_code == 201
    assert created.json()["data"]["attributes"]["name"] == "copilot_insight"
    assert [klass["attributes"]["name"] for klass in listed.json()["data"]] == ["copilot_insight"]


def test_a_klass_name_outside_letters_digits_underscore_hyphen_is_refused(admin):
    for name in ["copilot insight", "copilot.insight", "", "ünïcode", "a/b", None]:
        response = admin.post("/v1/klasses", json={"name": name})

        assert response.status_code == 400, name
        assert _error(response)["source"]["pointer"] == "/data/attributes/name"
    assert admin.post("/v1/klasses", json={"name": "Copilot_insight-2"}).status_code == 201


def test_a_klass_name_taken_is_a_duplicate(admin):
    admin.post("/v1/klasses", json={"name": "copilot_insight"})

    response = admin.post("/v1/klasses", json={"name": "copilot_insight"})

    assert response.status_code == 400
    assert _error(response)["code"] == "duplicate"


def test_klasses_need_org_admin(client_with):
    api = client_with("org.user.kobject.write", "org.user.kobject.read")

    assert api.post("/v1/klasses", json={"name": "copilot_insight"}).status_code == 403
    assert api.get("/v1/klasses").status_code == 403


@pytest.fixture
def insight_klass():
    return services.klass_create(name="copilot_insight", display_name="Copilot insight")


@pytest.fixture
def kobjects(client_with, insight_klass):
    return client_with("org.user.kobject.read", "org.user.kobject.write")


INSIGHT = {
    "title": "Order status (92%)",
    "externalId": "message-1",
    "custom": {
        "intentStr": "order_status",
        "confidenceNum": 0.92,
        "predictedAt": "2026-11-24T15:02:12.118Z",
        "abstainedBool": False,
        "cardUrl": "https://copilot.example.com/card",
        "summaryTxt": "Asks where order #1042 is.",
    },
}


def test_kobject_is_created_found_by_external_id_and_updated(kobjects, customer):
    created = kobjects.post(f"/v1/customers/{customer.id}/klasses/copilot_insight", json=INSIGHT)
    found = kobjects.get("/v1/klasses/copilot_insight/externalId=message-1")
    kobject_id = created.json()["data"]["id"]
    updated = kobjects.put(
        f"/v1/klasses/copilot_insight/{kobject_id}",
        json={"title": "Refund (80%)", "custom": {"intentStr": "refund"}},
    )

    assert created.status_code == 201
    assert created.json()["data"]["attributes"]["custom"] == INSIGHT["custom"]
    assert found.status_code == 200
    assert found.json()["data"]["id"] == kobject_id
    assert found.json()["data"]["relationships"]["customer"]["data"]["id"] == customer.id
    assert updated.status_code == 200
    assert updated.json()["data"]["attributes"]["title"] == "Refund (80%)"
    assert updated.json()["data"]["attributes"]["custom"] == {"intentStr": "refund"}
    assert updated.json()["data"]["attributes"]["externalId"] == "message-1"


def test_kobject_lookups_of_unknown_things_get_404(kobjects, customer):
    assert kobjects.get("/v1/klasses/copilot_insight/externalId=nope").status_code == 404
    assert kobjects.get("/v1/klasses/no_such_klass/externalId=message-1").status_code == 404
    response = kobjects.post(f"/v1/customers/{customer.id}/klasses/no_such_klass", json=INSIGHT)
    assert response.status_code == 404


def test_a_second_kobject_with_the_same_external_id_is_a_duplicate(kobjects, customer):
    path = f"/v1/customers/{customer.id}/klasses/copilot_insight"
    kobjects.post(path, json=INSIGHT)

    response = kobjects.post(path, json=INSIGHT)

    assert response.status_code == 400
    assert _error(response)["code"] == "duplicate"
    assert _error(response)["source"]["pointer"] == "/data/attributes/externalId"


def test_custom_attributes_must_match_their_type_suffix(kobjects, customer):
    for custom, name in [
        ({"intent": "refund"}, "intent"),
        ({"IntentStr": "refund"}, "IntentStr"),
        ({"confidenceNum": "high"}, "confidenceNum"),
        ({"confidenceNum": True}, "confidenceNum"),
        ({"intentStr": "x" * 1025}, "intentStr"),
        ({"summaryTxt": 12}, "summaryTxt"),
        ({"predictedAt": "yesterday"}, "predictedAt"),
        ({"predictedAt": "2026-11-24T15:02:12"}, "predictedAt"),
        ({"abstainedBool": "false"}, "abstainedBool"),
        ({"cardUrl": "not a url"}, "cardUrl"),
    ]:
        response = kobjects.post(
            f"/v1/customers/{customer.id}/klasses/copilot_insight",
            json={"title": "Insight", "custom": custom},
        )

        assert response.status_code == 400, custom
        assert _error(response)["source"]["pointer"] == f"/data/attributes/custom/{name}"


def test_a_kobject_needs_a_title(kobjects, customer):
    response = kobjects.post(
        f"/v1/customers/{customer.id}/klasses/copilot_insight", json={"externalId": "m-1"}
    )

    assert response.status_code == 400
    assert _error(response)["source"]["pointer"] == "/data/attributes/title"


# --- shortcuts and outbound webhooks -----------------------------------------------------------


def test_shortcuts_carry_their_text_in_draft(client_with):
    services.shortcut_upsert(name="Order tracking", text="Hi {{customer.firstName}}, ...")
    api = client_with("org.user.shortcut.read")

    payload = api.get("/v1/shortcuts", params={"pageSize": 100}).json()

    assert payload["data"][0]["attributes"]["draft"] == {"text": "Hi {{customer.firstName}}, ..."}
    assert payload["meta"]["total"] == 1


def test_an_outbound_webhook_is_created_with_its_signing_token(admin):
    response = admin.post(
        "/v1/outbound-webhooks",
        json={
            "name": "copilot",
            "url": "https://copilot.example.com/kustomer/webhooks/",
            "events": ["kustomer.message.create"],
            "headers": [{"name": "X-Copilot", "value": "1"}],
        },
    )
    listed = admin.get("/v1/outbound-webhooks")

    assert response.status_code == 201
    attributes = response.json()["data"]["attributes"]
    assert re.match(r"^[0-9a-f]{64}$", attributes["token"])
    assert attributes["events"] == ["kustomer.message.create"]
    assert listed.json()["data"][0]["id"] == response.json()["data"]["id"]


def test_an_invalid_outbound_webhook_is_refused(admin):
    valid = {
        "name": "copilot",
        "url": "https://copilot.example.com/kustomer/webhooks/",
        "events": ["kustomer.message.create"],
    }

    for changes, pointer in [
        ({"url": "http://copilot.example.com/hook"}, "url"),
        ({"url": "ftp://copilot.example.com/hook"}, "url"),
        ({"events": []}, "events"),
        ({"events": [f"kustomer.event{n}.create" for n in range(13)]}, "events"),
        ({"events": ["message.create"]}, "events"),
        ({"headers": {"X-Copilot": "1"}}, "headers"),
        ({"headers": [{"name": "X-Copilot"}]}, "headers"),
        ({"name": None}, "name"),
    ]:
        response = admin.post("/v1/outbound-webhooks", json={**valid, **changes})

        assert response.status_code == 400, changes
        assert _error(response)["source"]["pointer"] == f"/data/attributes/{pointer}", changes
    assert admin.post("/v1/outbound-webhooks", json=valid).status_code == 201


def test_plain_http_webhooks_to_this_machine_can_be_turned_off(admin, settings):
    body = {
        "name": "local",
        "url": "http://127.0.0.1:9/hook",
        "events": ["kustomer.message.create"],
    }

    allowed = admin.post("/v1/outbound-webhooks", json=body)
    settings.SANDBOX_KUSTOMER_ALLOW_HTTP_WEBHOOKS = False
    refused = admin.post("/v1/outbound-webhooks", json=body)

    assert allowed.status_code == 201
    assert refused.status_code == 400


def test_outbound_webhooks_need_org_admin(client_with):
    api = client_with(*services.ALL_USER_ROLES)

    assert api.get("/v1/outbound-webhooks").status_code == 403
