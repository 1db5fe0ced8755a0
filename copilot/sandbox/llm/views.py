"""The fake OpenAI-compatible server (`/sandbox/llm/v1/...`) and its control API.

It answers `POST /v1/chat/completions` and `GET /v1/models` as OpenAI does: the same request and
response shapes, `usage` token counts, `Authorization: Bearer` keys (SANDBOX_LLM_API_KEYS; 401
otherwise), OpenAI's error bodies, and `retry-after` on 429. Every answer waits
SANDBOX_LLM_LATENCY_MS first. What it answers is the scenario, taken from (first that is set):

1. the request header `X-Sandbox-Scenario`;
2. the control API: `POST /sandbox/llm/_control/scenario {"scenario": ..., "count": n}` (the
   next n requests, or all of them without a count; kept in the cache, so every process sees it);
3. the SANDBOX_LLM_SCENARIO setting.

Scenarios: `grounded` (drafts built from the facts in the prompt), `invented_order` (two of them
state an order number and a tracking number that are not in the facts), `malformed` (prose, no
JSON), `timeout` (hangs SANDBOX_LLM_HANG_SECONDS, then answers), `rate_limited` (429),
`server_error` (500). No authentication on the control API: it exists only where the sandbox is
mounted.
"""

import json
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import answers
from .models import ChatRequest

SCENARIOS = ("grounded", "invented_order", "malformed", "timeout", "rate_limited", "server_error")
_SCENARIO_KEY = "sandbox_llm:scenario"
_COUNT_KEY = "sandbox_llm:scenario:remaining"
_CREATED = 1_700_000_000


def _error(status: int, message: str, *, kind: str, code: str | None = None, param=None,
           headers: dict | None = None) -> JsonResponse:  # fmt: skip
    response = JsonResponse(
        {"error": {"message": message, "type": kind, "param": param, "code": code}}, status=status
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _bad_request(message: str, *, param: str | None = None) -> JsonResponse:
    return _error(400, message, kind="invalid_request_error", param=param)


def _masked_key(key: str) -> str:
    return f"{key[:3]}{'*' * 8}{key[-4:]}" if len(key) > 8 else "*" * len(key)


def _scenario(request: HttpRequest) -> str:
    header = request.headers.get("X-Sandbox-Scenario")
    if header:
        return header
    chosen = cache.get(_SCENARIO_KEY)
    if chosen:
        remaining = cache.get(_COUNT_KEY)
        if remaining is None:
            return chosen
        # decr is atomic, so two processes never both take the last one.
        try:
            left = cache.decr(_COUNT_KEY)
        except ValueError:
            left = -1
        if left >= 0:
            return chosen
        cache.delete_many([_SCENARIO_KEY, _COUNT_KEY])
    return settings.SANDBOX_LLM_SCENARIO


def _authorized(request: HttpRequest) -> tuple[bool, str]:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    return scheme.lower() == "bearer" and key in settings.SANDBOX_LLM_API_KEYS, key


def _log(scenario: str, status: int, body: dict, content: str = "", usage=(0, 0)) -> None:
    ChatRequest.objects.create(
        scenario=scenario,
        status=status,
        model=str(body.get("model") or "")[:100],
        json_mode=(body.get("response_format") or {}).get("type") == "json_object",
        messages=body.get("messages") if isinstance(body.get("messages"), list) else [],
        response_content=content,
        prompt_tokens=usage[0],
        completion_tokens=usage[1],
    )


@csrf_exempt
@require_POST
def chat_completions(request: HttpRequest) -> JsonResponse:
    started = time.perf_counter()
    if settings.SANDBOX_LLM_LATENCY_MS:
        time.sleep(settings.SANDBOX_LLM_LATENCY_MS / 1000)
    authorized, key = _authorized(request)
    if not authorized:
        message = (
            f"Incorrect API key provided: {_masked_key(key)}. You can find your API key at "
            "https://platform.openai.com/account/api-keys."
            if key
            else "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
        )
        return _error(401, message, kind="invalid_request_error", code="invalid_api_key")
    try:
        body = json.loads(request.body or b"")
    except ValueError:
        return _bad_request("We could not parse the JSON body of your request.")
    if not isinstance(body, dict):
        return _bad_request("The body of your request must be a JSON object.")
    if not isinstance(body.get("model"), str) or not body["model"]:
        return _bad_request("you must provide a model parameter", param="model")
    messages = body.get("messages")
    if (
        not isinstance(messages, list)
        or not messages
        or not all(isinstance(item, dict) and "role" in item for item in messages)
    ):
        return _bad_request("'messages' must be a non-empty array of messages", param="messages")
    if body.get("stream"):
        return _bad_request("The sandbox does not stream; send stream=false.", param="stream")

    scenario = _scenario(request)
    if scenario not in SCENARIOS:
        return _bad_request(f"Unknown sandbox scenario {scenario!r}: use one of {SCENARIOS}.")
    if scenario == "rate_limited":
        _log(scenario, 429, body)
        wait = settings.SANDBOX_LLM_RETRY_AFTER_SECONDS
        return _error(
            429,
            f"Rate limit reached for {body['model']} in organization org-sandbox on requests "
            f"per min (RPM): Limit 3, Used 3, Requested 1. Please try again in {wait}s. Visit "
            "https://platform.openai.com/account/rate-limits to learn more.",
            kind="requests",
            code="rate_limit_exceeded",
            headers={
                "retry-after": str(wait),
                "x-ratelimit-limit-requests": "3",
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": f"{wait}s",
            },
        )
    if scenario == "server_error":
        _log(scenario, 500, body)
        return _error(
            500,
            "The server had an error while processing your request. Sorry about that!",
            kind="server_error",
        )
    contents = [
        item.get("content")
        if isinstance(item.get("content"), str)
        else json.dumps(item.get("content"))
        for item in messages
    ]
    prompt = "\n".join(contents)
    json_mode = (body.get("response_format") or {}).get("type") in {"json_object", "json_schema"}
    if scenario == "malformed":
        content = answers.MALFORMED
    else:
        drafts = answers.drafts_for(prompt, invent=scenario == "invented_order")
        payload = json.dumps({"drafts": drafts}, ensure_ascii=False)
        # Without JSON mode a model wraps its JSON in prose, as many do.
        content = payload if json_mode else f"Here are the drafts:\n```json\n{payload}\n```"
    # OpenAI counts a few tokens per message for the roles and the priming of the answer.
    prompt_tokens = sum(answers.count_tokens(part) + 4 for part in contents) + 3
    completion_tokens = answers.count_tokens(content)
    # Logged before a hang, so that a client that gave up finds the request logged at once.
    _log(scenario, 200, body, content, (prompt_tokens, completion_tokens))
    if scenario == "timeout":
        time.sleep(settings.SANDBOX_LLM_HANG_SECONDS)
    response = JsonResponse(
        {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": _CREATED + int(time.time()) % 10_000_000,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
            },
            "service_tier": "default",
            "system_fingerprint": "fp_sandbox",
        }
    )
    response["openai-processing-ms"] = str(round((time.perf_counter() - started) * 1000))
    return response


@require_GET
def models_list(request: HttpRequest) -> JsonResponse:
    authorized, key = _authorized(request)
    if not authorized:
        return _error(
            401,
            f"Incorrect API key provided: {_masked_key(key)}.",
            kind="invalid_request_error",
            code="invalid_api_key",
        )
    names = sorted({settings.OPENAI_MODEL, "gpt-4o-mini", "gpt-4o"})
    return JsonResponse(
        {
            "object": "list",
            "data": [
                {"id": name, "object": "model", "created": _CREATED, "owned_by": "sandbox"}
                for name in names
            ],
        }
    )


# --- control API ----------------------------------------------------------------------------


@csrf_exempt
@require_http_methods(["GET", "POST", "DELETE"])
def control_scenario(request: HttpRequest) -> JsonResponse:
    """GET: the scenario in force. POST {"scenario", "count"?}: set it. DELETE: back to the
    setting."""
    if request.method == "POST":
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return JsonResponse({"error": "The body must be JSON."}, status=400)
        scenario = body.get("scenario") if isinstance(body, dict) else None
        count = body.get("count") if isinstance(body, dict) else None
        if scenario not in SCENARIOS:
            return JsonResponse({"error": f"scenario must be one of {SCENARIOS}"}, status=400)
        if count is not None and (not isinstance(count, int) or count < 1):
            return JsonResponse({"error": "count must be a positive integer"}, status=400)
        cache.set(_SCENARIO_KEY, scenario, timeout=None)
        if count is None:
            cache.delete(_COUNT_KEY)
        else:
            cache.set(_COUNT_KEY, count, timeout=None)
    elif request.method == "DELETE":
        cache.delete_many([_SCENARIO_KEY, _COUNT_KEY])
    return JsonResponse(
        {
            "scenario": cache.get(_SCENARIO_KEY) or settings.SANDBOX_LLM_SCENARIO,
            "remaining": cache.get(_COUNT_KEY),
        }
    )


@require_GET
def control_requests(request: HttpRequest) -> JsonResponse:
    """The latest chat requests answered (`?limit=`, default 20), newest last."""
    try:
        limit = max(1, min(int(request.GET.get("limit", 20)), 500))
    except ValueError:
        limit = 20
    rows = list(ChatRequest.objects.order_by("-id")[:limit])[::-1]
    return JsonResponse(
        {
            "data": [
                {
                    "scenario": row.scenario,
                    "status": row.status,
                    "model": row.model,
                    "jsonMode": row.json_mode,
                    "messages": row.messages,
                    "response": row.response_content,
                    "usage": {"prompt": row.prompt_tokens, "completion": row.completion_tokens},
                    "createdAt": row.created_at.isoformat(),
                }
                for row in rows
            ]
        }
    )


@csrf_exempt
@require_POST
def control_reset(request: HttpRequest) -> JsonResponse:
    ChatRequest.objects.all().delete()
    cache.delete_many([_SCENARIO_KEY, _COUNT_KEY])
    return JsonResponse({"reset": True})
