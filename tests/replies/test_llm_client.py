"""The typed OpenAI wrapper against the fake OpenAI-compatible server, over real HTTP."""

import time
from decimal import Decimal

import pytest

from copilot.integrations.http import PermanentError, RateLimited, TransientError
from copilot.integrations.llm import (
    LLMClient,
    LLMNotConfigured,
    LLMTimeout,
    MalformedOutput,
    Prices,
    parse_json_object,
)
from copilot.replies.prompts import PromptInput, build_messages
from tests.replies.factories import SANDBOX_KEY, facts

MESSAGES = build_messages(
    PromptInput(message="Where is my order?", language="en", facts=facts(), max_drafts=3)
)


def client_for(llm, **changes) -> LLMClient:
    values = {
        "base_url": llm.base_url,
        "api_key": SANDBOX_KEY,
        "model": "gpt-4o-mini",
        "timeout": 5.0,
        "prices": Prices(Decimal("0.15"), Decimal("0.6")),
    }
    values.update(changes)
    return LLMClient(**values)


def test_drafts_come_back_typed_with_usage_and_cost(llm):
    completion = client_for(llm).draft_replies(MESSAGES, max_drafts=2)

    assert len(completion.drafts) == 2
    assert "#1020" in completion.drafts[0].text and completion.drafts[0].language == "en"
    assert completion.model == "gpt-4o-mini"
    assert completion.usage.prompt_tokens > 100 and completion.usage.completion_tokens > 20
    expected = (
        Decimal(completion.usage.prompt_tokens) * Decimal("0.15")
        + Decimal(completion.usage.completion_tokens) * Decimal("0.6")
    ) / 1000
    assert completion.cost == expected.quantize(Decimal("0.000001"))
    [sent] = llm.requests()
    assert sent.json_mode and sent.model == "gpt-4o-mini"
    assert sent.messages == MESSAGES


def test_a_server_without_json_mode_is_parsed_from_its_json_block(llm):
    completion = client_for(llm, json_mode=False).draft_replies(MESSAGES, max_drafts=3)

    assert len(completion.drafts) == 3
    [sent] = llm.requests()
    assert not sent.json_mode and sent.response_content.startswith("Here are the drafts:")


def test_a_bad_key_is_a_permanent_error(llm):
    with pytest.raises(PermanentError) as error:
        client_for(llm, api_key="sk-wrong-key-1234").chat_json(MESSAGES)

    assert error.value.status == 401
    assert "Incorrect API key provided" in str(error.value)


def test_a_rate_limit_says_how_long_to_wait_and_is_not_retried(llm, settings):
    settings.SANDBOX_LLM_SCENARIO = "rate_limited"

    with pytest.raises(RateLimited) as error:
        client_for(llm).chat_json(MESSAGES)

    assert error.value.retry_after == 7
    assert "Rate limit reached" in str(error.value)
    assert len(llm.requests()) == 1


def test_a_server_error_is_transient_and_is_not_retried(llm, settings):
    settings.SANDBOX_LLM_SCENARIO = "server_error"

    with pytest.raises(TransientError) as error:
        client_for(llm).chat_json(MESSAGES)

    assert error.value.status == 500
    assert len(llm.requests()) == 1


def test_a_slow_model_times_out_at_the_timeout(llm, settings):
    settings.SANDBOX_LLM_SCENARIO = "timeout"
    started = time.monotonic()

    with pytest.raises(LLMTimeout):
        client_for(llm, timeout=0.3).chat_json(MESSAGES)

    assert time.monotonic() - started < 1.0


def test_prose_instead_of_json_is_malformed_output_with_its_usage(llm, settings):
    settings.SANDBOX_LLM_SCENARIO = "malformed"

    with pytest.raises(MalformedOutput) as error:
        client_for(llm).chat_json(MESSAGES)

    assert isinstance(error.value, PermanentError)
    assert error.value.usage.completion_tokens > 0
    assert error.value.content.startswith("Sure! Here are three replies")


def test_an_unreachable_server_is_transient():
    with pytest.raises(TransientError):
        LLMClient(base_url="http://127.0.0.1:9/v1", api_key="k", model="m", timeout=1.0).chat_json(
            MESSAGES
        )


def test_without_a_base_url_no_model_is_configured(settings):
    settings.OPENAI_BASE_URL = ""

    with pytest.raises(LLMNotConfigured):
        LLMClient.from_settings()


def test_clients_are_kept_per_configuration(llm, settings):
    first = LLMClient.from_settings()

    assert LLMClient.from_settings() is first
    settings.OPENAI_MODEL = "gpt-4o"
    assert LLMClient.from_settings() is not first


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"drafts": []}', {"drafts": []}),
        ('  {"a": 1}\n', {"a": 1}),
        ('Here:\n```json\n{"a": 1}\n```\nDone.', {"a": 1}),
        ('```\n{"a": 2}\n```', {"a": 2}),
    ],
)
def test_json_is_read_whole_or_from_its_fenced_block(content, expected):
    assert parse_json_object(content) == expected


@pytest.mark.parametrize("content", ["", "no json here", '["a list"]', '{"cut": "off'])
def test_anything_else_is_not_json(content):
    with pytest.raises(ValueError):
        parse_json_object(content)
