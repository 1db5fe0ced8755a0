import threading

import httpx

from copilot.sandbox.kustomer import ratelimit, services


def test_the_org_limit_counts_every_key_and_then_answers_429(client_with, customer, settings):
    settings.SANDBOX_KUSTOMER_ORG_RATE_LIMIT = 3
    first_key = client_with("org.user.customer.read")
    second_key = client_with("org.user.customer.read")
    path = f"/v1/customers/{customer.id}"

    answers = [first_key.get(path), second_key.get(path), first_key.get(path)]
    refused = second_key.get(path)

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert [answer.headers["x-ratelimit-remaining"] for answer in answers] == ["2", "1", "0"]
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["status"] == 429
    assert refused.headers["x-ratelimit-limit"] == "3"
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert 1 <= int(refused.headers["x-ratelimit-reset"]) <= 61


def test_another_org_has_its_own_budget(base_url, customer, settings):
    settings.SANDBOX_KUSTOMER_ORG_RATE_LIMIT = 1
    other_org = services.org_get_or_create(name="other")
    ours = services.api_key_create(roles=["org.admin"])
    theirs = services.api_key_create(roles=["org.admin"], org=other_org)

    def current_user(key):
        return httpx.get(
            f"{base_url}/v1/users/current", headers={"Authorization": f"Bearer {key.token}"}
        )

    assert current_user(ours).status_code == 200
    assert current_user(ours).status_code == 429
    assert current_user(theirs).status_code == 200


def _note(api, conversation, **extra):
    return api.post(f"/v1/conversations/{conversation.id}/notes", json={"body": "Insight", **extra})


def test_creates_per_customer_are_limited_while_other_customers_go_on(
    client_with, conversation, settings
):
    settings.SANDBOX_KUSTOMER_CUSTOMER_CREATE_LIMIT = 2
    other_customer = services.customer_create(name="Grace Hopper", email="grace@example.org")
    other_conversation = services.conversation_create(customer=other_customer)
    api = client_with("org.user.note.write")

    created = [_note(api, conversation), _note(api, conversation)]
    refused = _note(api, conversation)
    elsewhere = _note(api, other_conversation)

    assert [answer.status_code for answer in created] == [201, 201]
    assert created[1].headers["x-ratelimit-object-remaining"] == "0"
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["code"] == "rate_limited"
    assert refused.headers["x-ratelimit-object-limit"] == "2"
    assert refused.headers["x-ratelimit-object-remaining"] == "0"
    assert 1 <= int(refused.headers["x-ratelimit-object-reset"]) <= 61
    assert refused.headers["x-ratelimit-remaining"]  # the org's headers are there too
    assert elsewhere.status_code == 201


def test_kobjects_count_against_the_same_customer_limit(client_with, conversation, settings):
    settings.SANDBOX_KUSTOMER_CUSTOMER_CREATE_LIMIT = 1
    services.klass_create(name="copilot_insight")
    api = client_with("org.user.note.write", "org.user.kobject.write")

    assert _note(api, conversation).status_code == 201
    response = api.post(
        f"/v1/customers/{conversation.customer_id}/klasses/copilot_insight",
        json={"title": "Insight"},
    )
    assert response.status_code == 429


def test_bodies_with_imported_at_are_exempt_from_the_customer_limit(
    client_with, conversation, settings
):
    settings.SANDBOX_KUSTOMER_CUSTOMER_CREATE_LIMIT = 1
    api = client_with("org.user.note.write")

    assert _note(api, conversation).status_code == 201
    assert _note(api, conversation).status_code == 429
    imported = _note(api, conversation, importedAt="2024-01-02T03:04:05Z")
    assert imported.status_code == 201


def test_refused_requests_do_not_use_up_the_window(client_with, customer, settings):
    limit = 5
    settings.SANDBOX_KUSTOMER_ORG_RATE_LIMIT = limit
    api = client_with("org.user.customer.read")

    remaining = [
        int(api.get(f"/v1/customers/{customer.id}").headers["x-ratelimit-remaining"])
        for _ in range(limit + 2)
    ]

    assert remaining == [4, 3, 2, 1, 0, 0, 0]


def test_concurrent_requests_never_take_more_slots_than_the_limit():
    limit, results = 10, []

    def spend():
        for _ in range(5):
            results.append(ratelimit.hit("test:concurrency", limit=limit, window=60).allowed)

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    taken_later = 0
    while ratelimit.hit("test:concurrency", limit=limit, window=60).allowed:
        taken_later += 1

    assert sum(results) + taken_later == limit
