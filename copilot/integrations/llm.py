"""A typed wrapper around the `openai` SDK, for any OpenAI-compatible chat completions server.

Reference: https://platform.openai.com/docs/api-reference/chat/create. OpenAI itself, Azure
OpenAI's v1 endpoint (`https://<resource>.openai.azure.com/openai/v1`) and self-hosted servers
(vLLM, Ollama, llama.cpp...) all speak it; only `OPENAI_BASE_URL`, the key and the model differ.

The client asks for JSON (`response_format: json_object` where the server supports it) and parses
the answer strictly either way: a JSON object, or the first fenced JSON block of a model that
wraps it in prose. It never retries (`max_retries=0` by default): its callers have a fallback that
answers at once, which beats a second wait. Failures are raised in the shared hierarchy:

- `LLMTimeout` / `TransientError`: timeout, connection failure, 5xx;
- `RateLimited`: 429 with the server's `retry-after`;
- `PermanentError`: bad key (401/403), a refused request (4xx), an exhausted quota, and
  `MalformedOutput` when the answer is not the JSON asked for.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import openai

from .http import PermanentError, RateLimited, TransientError

logger = logging.getLogger(__name__)


class LLMNotConfigured(PermanentError):
    """No model server is configured (`OPENAI_BASE_URL` is empty)."""


class LLMTimeout(TransientError):
    """The model did not answer within the timeout."""


class MalformedOutput(PermanentError):
    """The model answered, but not with the JSON it was asked for."""

    def __init__(self, detail: str, *, usage: Usage | None = None, content: str = "") -> None:
        super().__init__(f"The model's answer was unusable: {detail}")
        self.usage = usage
        self.content = content


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Prices:
    """What the provider charges, per 1,000 tokens (in the account's currency, usually USD)."""

    prompt_per_1k: Decimal = Decimal("0")
    completion_per_1k: Decimal = Decimal("0")

    def cost(self, prompt_tokens: int, completion_tokens: int) -> Decimal:
        total = (
            Decimal(prompt_tokens) * self.prompt_per_1k
            + Decimal(completion_tokens) * self.completion_per_1k
        ) / 1000
        return total.quantize(Decimal("0.000001"))


@dataclass(frozen=True)
class JsonCompletion:
    """A chat completion whose content parsed as a JSON object."""

    data: dict[str, Any]
    content: str
    model: str
    usage: Usage
    cost: Decimal
    latency_ms: float
    finish_reason: str


@dataclass(frozen=True)
class DraftText:
    text: str
    language: str = ""


@dataclass(frozen=True)
class DraftsCompletion:
    """Up to `max_drafts` reply drafts, as the model wrote them (not yet checked)."""

    drafts: tuple[DraftText, ...]
    model: str
    usage: Usage
    cost: Decimal
    latency_ms: float


_FENCED_JSON = re.compile(r"```(?:json|JSON)?\s*(\{.*?\})\s*```", re.DOTALL)


def parse_json_object(content: str) -> dict[str, Any]:
    """The JSON object in a model's answer: the whole content, or its first fenced JSON block.

    Nothing looser: a half-parsed answer is worse than the fallback. Raises `ValueError`.
    """
    text = content.strip()
    candidates = [text]
    candidates += [match.group(1) for match in _FENCED_JSON.finditer(text)]
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    raise ValueError("the answer holds no JSON object")


def _retry_after(response: Any) -> float:
    """Seconds to wait from `retry-after-ms` / `retry-after` (seconds or an HTTP date)."""
    headers = getattr(response, "headers", None) or {}
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    seconds = headers.get("retry-after")
    if seconds:
        try:
            return max(0.0, float(seconds))
        except ValueError:
            from email.utils import parsedate_to_datetime

            try:
                return max(0.0, parsedate_to_datetime(seconds).timestamp() - time.time())
            except (TypeError, ValueError):
                pass
    return 1.0


def _error_message(error: openai.APIStatusError) -> str:
    body = error.body if isinstance(error.body, dict) else {}
    return str(body.get("message") or error.message or error.status_code)


class LLMClient:
    """One OpenAI-compatible server and model."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        timeout: float = 10.0,
        max_retries: int = 0,
        json_mode: bool = True,
        temperature: float | None = 0.3,
        max_tokens: int = 800,
        prices: Prices | None = None,
    ) -> None:
        self.model = model
        self.json_mode = json_mode
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.prices = prices or Prices()
        self.base_url = base_url.rstrip("/")
        self._sdk = openai.OpenAI(
            base_url=self.base_url,
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
            default_headers={"User-Agent": "kustomer-copilot/0.1"},
        )

    @classmethod
    def from_settings(cls) -> LLMClient:
        """The configured model (`OPENAI_*` settings); raises `LLMNotConfigured` without one.

        Clients are kept per configuration: building the SDK client (TLS context, connection
        pool) costs more than many requests.
        """
        from django.conf import settings

        if not settings.OPENAI_BASE_URL:
            raise LLMNotConfigured("No model is configured: OPENAI_BASE_URL is empty.")
        key = (
            settings.OPENAI_BASE_URL,
            settings.OPENAI_API_KEY,
            settings.OPENAI_MODEL,
            float(settings.OPENAI_TIMEOUT_SECONDS),
            int(settings.OPENAI_MAX_RETRIES),
            bool(settings.OPENAI_JSON_MODE),
            settings.OPENAI_TEMPERATURE,
            int(settings.OPENAI_MAX_TOKENS),
            str(settings.OPENAI_PROMPT_PRICE_PER_1K),
            str(settings.OPENAI_COMPLETION_PRICE_PER_1K),
        )
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                client = cls(
                    base_url=settings.OPENAI_BASE_URL,
                    api_key=settings.OPENAI_API_KEY,
                    model=settings.OPENAI_MODEL,
                    timeout=float(settings.OPENAI_TIMEOUT_SECONDS),
                    max_retries=int(settings.OPENAI_MAX_RETRIES),
                    json_mode=bool(settings.OPENAI_JSON_MODE),
                    temperature=settings.OPENAI_TEMPERATURE,
                    max_tokens=int(settings.OPENAI_MAX_TOKENS),
                    prices=Prices(
                        Decimal(str(settings.OPENAI_PROMPT_PRICE_PER_1K)),
                        Decimal(str(settings.OPENAI_COMPLETION_PRICE_PER_1K)),
                    ),
                )
                _clients[key] = client
            return client

    def close(self) -> None:
        self._sdk.close()

    def chat_json(self, messages: list[dict[str, str]]) -> JsonCompletion:
        """One chat completion whose answer must be a JSON object."""
        arguments: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": self.max_tokens,
        }
        if self.temperature is not None:
            arguments["temperature"] = self.temperature
        if self.json_mode:
            arguments["response_format"] = {"type": "json_object"}
        started = time.perf_counter()
        try:
            completion = self._sdk.chat.completions.create(**arguments)
        except openai.APITimeoutError as error:
            raise LLMTimeout(f"The model did not answer in time: {error}") from None
        except openai.APIConnectionError as error:
            raise TransientError(f"Could not reach the model server: {error}") from None
        except openai.RateLimitError as error:
            body = error.body if isinstance(error.body, dict) else {}
            if body.get("code") == "insufficient_quota" or error.code == "insufficient_quota":
                # OpenAI says 429 for an exhausted quota too; waiting will not refill it.
                raise PermanentError(
                    f"The model account's quota is spent: {_error_message(error)}", status=429
                ) from None
            raise RateLimited(
                f"The model server rate limited us: {_error_message(error)}",
                retry_after=_retry_after(error.response),
            ) from None
        except openai.APIStatusError as error:
            message = f"The model server answered {error.status_code}: {_error_message(error)}"
            if error.status_code >= 500:
                raise TransientError(message, status=error.status_code) from None
            raise PermanentError(message, status=error.status_code) from None
        except openai.APIError as error:  # e.g. a body the SDK could not read
            raise TransientError(f"The model server sent an unreadable answer: {error}") from None
        latency_ms = (time.perf_counter() - started) * 1000

        usage = Usage(
            prompt_tokens=int(getattr(completion.usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(completion.usage, "completion_tokens", 0) or 0),
        )
        choice = completion.choices[0] if completion.choices else None
        content = (choice.message.content or "") if choice else ""
        finish_reason = (choice.finish_reason or "") if choice else ""
        logger.info(
            "llm %s %.0fms tokens=%d+%d finish=%s",
            completion.model or self.model,
            latency_ms,
            usage.prompt_tokens,
            usage.completion_tokens,
            finish_reason,
        )
        try:
            data = parse_json_object(content)
        except ValueError:
            why = "cut off before its end" if finish_reason == "length" else "not JSON"
            raise MalformedOutput(why, usage=usage, content=content[:2000]) from None
        return JsonCompletion(
            data=data,
            content=content,
            model=completion.model or self.model,
            usage=usage,
            cost=self.prices.cost(usage.prompt_tokens, usage.completion_tokens),
            latency_ms=latency_ms,
            finish_reason=finish_reason,
        )

    def draft_replies(self, messages: list[dict[str, str]], *, max_drafts: int) -> DraftsCompletion:
        """Reply drafts from `{"drafts": [{"text": ..., "language": ...}, ...]}`.

        Raises `MalformedOutput` when the JSON has another shape or no draft with text.
        """
        completion = self.chat_json(messages)
        items = completion.data.get("drafts")
        if not isinstance(items, list):
            raise MalformedOutput(
                "its JSON has no `drafts` list",
                usage=completion.usage,
                content=completion.content[:2000],
            )
        drafts = []
        for item in items:
            if isinstance(item, str):
                item = {"text": item}
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                continue
            text = item["text"].strip()
            if text:
                language = item.get("language")
                drafts.append(DraftText(text, language if isinstance(language, str) else ""))
        if not drafts:
            raise MalformedOutput(
                "its JSON holds no draft with text",
                usage=completion.usage,
                content=completion.content[:2000],
            )
        return DraftsCompletion(
            drafts=tuple(drafts[:max_drafts]),
            model=completion.model,
            usage=completion.usage,
            cost=completion.cost,
            latency_ms=completion.latency_ms,
        )


_clients: dict[tuple, LLMClient] = {}
_clients_lock = threading.Lock()


def forget_clients() -> None:
    """Closes the kept clients (tests that change the settings, process shutdown)."""
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
