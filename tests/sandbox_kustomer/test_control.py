import httpx
import pytest
from django.core.management import call_command

from copilot.sandbox.kustomer.models import Conversation, Customer, Org, Shortcut


def test_a_key_made_by_the_control_api_works_with_its_roles(base_url, control):
    created = control.post("/api-keys", json={"roles": ["org.user.customer.read"]})
    token = created.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}

    user = httpx.get(f"{base_url}/v1/users/current", headers=headers)
    klasses = httpx.get(f"{base_url}/v1/klasses", headers=headers)

    assert created.status_code == 201
    assert token.count(".") == 2
    assert user.json()["data"]["id"] == created.json()["userId"]
    assert klasses.status_code == 403


def test_the_control_api_builds_a_conversation_for_the_client(control, admin):
    customer = control.post("/customers", json={"name": "Ada Lovelace", "email": "ada@example.com"})
    conversation = control.post(
        "/conversations", json={"customerId": customer.json()["id"], "subject": "Order #1042"}
    )
    message = control.post(
        "/messages",
        json={"conversationId": conversation.json()["id"], "body": "Where is my order?"},
    )

    messages = admin.get(f"/v1/conversations/{conversation.json()['id']}/messages").json()
    assert message.status_code == 201
    assert [item["id"] for item in messages["data"]] == [message.json()["messageId"]]
    assert (
        admin.get(f"/v1/conversations/{conversation.json()['id']}").json()["data"]["attributes"][
            "messageCount"
        ]
        == 1
    )


def test_the_request_log_says_what_was_sent(client_with, control, conversation):
    api = client_with("org.user.note.write")
    api.post(f"/v1/conversations/{conversation.id}/notes", json={"body": "Intent: refund"})

    log = control.get("/requests", params={"method": "POST"}).json()["data"]
    notes = control.get("/notes").json()["data"]

    assert [(row["method"], row["path"], row["status"]) for row in log] == [
        ("POST", f"/v1/conversations/{conversation.id}/notes", 201)
    ]
    assert '"Intent: refund"' in log[0]["body"]
    assert log[0]["apiKeyId"]
    assert [note["attributes"]["body"] for note in notes] == ["Intent: refund"]


def test_injected_server_errors_hit_the_next_requests_on_the_path(client_with, control, customer):
    api = client_with("org.user.customer.read")
    control.post("/failures", json={"pathPrefix": "/v1/customers", "mode": "500", "count": 2})

    statuses = [api.get(f"/v1/customers/{customer.id}").status_code for _ in range(3)]

    assert statuses == [500, 500, 200]


def test_an_injected_429_carries_rate_limit_headers(client_with, control, customer):
    api = client_with("org.user.customer.read")
    control.post("/failures", json={"pathPrefix": "/v1/", "mode": "429", "seconds": 7})

    response = api.get(f"/v1/customers/{customer.id}")

    assert response.status_code == 429
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert response.headers["x-ratelimit-reset"] == "7"
    assert response.json()["errors"][0]["code"] == "rate_limited"


def test_an_injected_timeout_hangs_past_the_clients_timeout(base_url, control, customer):
    control.post("/failures", json={"pathPrefix": "/v1/customers", "mode": "timeout", "seconds": 1})

    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{base_url}/v1/customers/{customer.id}", timeout=0.3)


def test_reset_empties_the_sandbox(control, conversation):
    response = control.post("/reset")

    assert response.status_code == 200
    assert not Customer.objects.exists()
    assert not Conversation.objects.exists()


def test_the_seed_is_idempotent_and_prints_a_working_admin_key(base_url, capsys):
    call_command("sandbox_kustomer_seed")
    first_token = capsys.readouterr().out.strip().splitlines()[-1]
    counts = (Customer.objects.count(), Conversation.objects.count(), Shortcut.objects.count())
    call_command("sandbox_kustomer_seed")
    second_token = capsys.readouterr().out.strip().splitlines()[-1]

    assert first_token == second_token
    assert (Customer.objects.count(), Conversation.objects.count(), Shortcut.objects.count()) == (
        counts
    )
    assert counts[0] >= 8
    assert counts[2] >= 10
    assert Org.objects.count() == 1
    assert all(
        "{{customer.firstName}}" in text for text in Shortcut.objects.values_list("text", flat=True)
    )
    response = httpx.get(
        f"{base_url}/v1/klasses", headers={"Authorization": f"Bearer {first_token}"}
    )
    assert response.status_code == 200
    assert response.json()["data"] == []  # copilot_insight is left to the app's setup
