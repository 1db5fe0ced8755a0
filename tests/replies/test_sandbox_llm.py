"""The fake OpenAI-compatible server answers as OpenAI does: shapes, errors, scenarios."""

import json
import time

import httpx
import pytest

from tests.replies.factories import SANDBOX_KEY
from tests.replies.test_llm_client import MESSAGES

pytestmark = pytest.mark.django_db(transaction=True)


def chat(llm, *, key=SANDBOX_KEY, headers=None, **body):
    payload = {"model": "gpt-4o-mini", "messages": MESSAGES, **body}
    return httpx.post(
        f"{llm.base_url}/chat/completions",
        json=payload,
        headers={**({"Authorization": f"Bearer {key}"} if key else {}), **(headers or {})},
        timeout=10,
    )


def test_a_completion_has_openai_s_shape_and_usage(llm):
    response = chat(llm, response_format={"type": "json_object"})

    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert body["model"] == "gpt-4o-mini"
    [choice] = body["choices"]
    assert choice["finish_reason"] == "stop" and choice["message"]["role"] == "assistant"
    drafts = json.loads(choice["message"]["content"])["drafts"]
    assert len(drafts) == 3 and all(draft["text"] for draft in drafts)
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


@pytest.mark.parametrize("key", ["sk-wrong-key-123456", ""])
def test_a_bad_or_missing_key_is_401_with_openai_s_error_body(llm, key):
    response = chat(llm, key=key)

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "invalid_api_key" and error["type"] == "invalid_request_error"
    assert "sk-wrong-key-123456" not in error["message"]  # keys are shown masked


def test_429_carries_retry_after_and_openai_s_body(llm, settings):
    settings.SANDBOX_LLM_SCENARIO = "rate_limited"

    response = chat(llm)

    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.headers["x-ratelimit-remaining-requests"] == "0"
    assert response.json()["error"]["code"] == "rate_limit_exceeded"


def test_500_has_openai_s_body(llm, settings):
    settings.SANDBOX_LLM_SCENARIO = "server_error"

    response = chat(llm)

    assert response.status_code == 500
    assert response.json()["error"]["type"] == "server_error"


def test_requests_openai_would_refuse_are_400(llm):
    assert chat(llm, model="").status_code == 400
    assert chat(llm, messages=[]).json()["error"]["param"] == "messages"


def test_every_answer_waits_the_configured_latency(llm, settings):
    settings.SANDBOX_LLM_LATENCY_MS = 300
    started = time.monotonic()

    assert chat(llm).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_a_header_picks_the_scenario_of_one_request(llm):
    response = chat(llm, headers={"X-Sandbox-Scenario": "malformed"})

    assert response.status_code == 200
    assert "{" not in response.json()["choices"][0]["message"]["content"]


def test_the_control_api_sets_the_scenario_for_the_next_requests(llm):
    control = llm.base_url.replace("/v1", "/_control")

    response = httpx.post(f"{control}/scenario", json={"scenario": "server_error", "count": 1})

    assert response.json() == {"scenario": "server_error", "remaining": 1}
    assert chat(llm).status_code == 500
    assert chat(llm).status_code == 200  # back to the setting
    logged = httpx.get(f"{control}/requests").json()["data"]
    assert [row["status"] for row in logged] == [500, 200]
    assert httpx.post(f"{control}/scenario", json={"scenario": "nope"}).status_code == 400


def test_the_models_list_answers_like_openai(llm):
    response = httpx.get(
        f"{llm.base_url}/models", headers={"Authorization": f"Bearer {SANDBOX_KEY}"}
    )

    assert response.json()["object"] == "list"
    assert "gpt-4o-mini" in [model["id"] for model in response.json()["data"]]
