"""Suggested replies against the fakes over real HTTP (pytest-django's live server): the fake
OpenAI-compatible server, the fake Kustomer (customer, conversation, shortcuts) and the fake
Shopify (Ada's three orders in Northwind Goods)."""

from dataclasses import dataclass

import pytest

from copilot.inbox.models import InboundMessage
from copilot.integrations.llm import forget_clients
from copilot.replies.services import reply_defaults_seed
from copilot.sandbox.kustomer import services as fake_kustomer
from copilot.sandbox.kustomer.management.commands.sandbox_kustomer_seed import SHORTCUTS
from copilot.sandbox.llm.models import ChatRequest
from intents.models import ModelVersion, Prediction
from intents.services import intents_ensure
from tests.inbox.conftest import COPILOT_ROLES, customer, kustomer, trained_model  # noqa: F401
from tests.replies.factories import INTENT_DESCRIPTIONS, SANDBOX_KEY
from tests.sandbox_shopify.support import (  # noqa: F401  (fixtures)
    _fresh_shopify_state,
    fake_shop,
    fast_flush,
    shopify_url,
    store,
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item):
    with fast_flush():
        yield


@pytest.fixture(autouse=True)
def _replies_settings(settings):
    settings.OPENAI_BASE_URL = ""  # no model unless a test asks for the fake
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_MODEL = "gpt-4o-mini"
    settings.OPENAI_TIMEOUT_SECONDS = 5.0
    settings.OPENAI_MAX_RETRIES = 0
    settings.OPENAI_JSON_MODE = True
    settings.OPENAI_PROMPT_PRICE_PER_1K = "0.00015"
    settings.OPENAI_COMPLETION_PRICE_PER_1K = "0.0006"
    settings.REPLIES_MAX_DRAFTS = 3
    settings.REPLIES_SIGN_OFF = "The support team"
    settings.REPLIES_HISTORY_FROM_KUSTOMER = True
    settings.REPLIES_RECENT_MESSAGES = 10
    settings.SANDBOX_LLM_API_KEYS = [SANDBOX_KEY]
    settings.SANDBOX_LLM_LATENCY_MS = 0
    settings.SANDBOX_LLM_SCENARIO = "grounded"
    settings.SANDBOX_LLM_HANG_SECONDS = 1.0
    settings.SANDBOX_LLM_RETRY_AFTER_SECONDS = 7
    settings.SANDBOX_KUSTOMER_LATENCY_MS = 0
    yield
    forget_clients()


@dataclass
class FakeLLM:
    base_url: str

    def requests(self) -> list[ChatRequest]:
        return list(ChatRequest.objects.order_by("id"))


@pytest.fixture
def llm(live_server, settings) -> FakeLLM:
    """The fake OpenAI-compatible server, configured as the copilot's model."""
    settings.OPENAI_BASE_URL = live_server.url + "/sandbox/llm/v1"
    settings.OPENAI_API_KEY = SANDBOX_KEY
    return FakeLLM(settings.OPENAI_BASE_URL)


@pytest.fixture
def defaults(transactional_db):
    """The default policies and templates (the flush after a live-server test empties them)."""
    reply_defaults_seed()


@pytest.fixture
def fake_org(live_server, settings, defaults):
    """A fake Kustomer org with the demo shortcuts and a key holding the copilot's roles."""
    settings.KUSTOMER_API_BASE_URL = live_server.url + "/sandbox/kustomer"
    org = fake_kustomer.org_get_or_create()
    for name, text in SHORTCUTS:
        fake_kustomer.shortcut_upsert(org=org, name=name, text=text)
    settings.KUSTOMER_API_KEY = fake_kustomer.api_key_create(roles=COPILOT_ROLES).token
    return org


@pytest.fixture
def ada(fake_org, request):
    """Ada Lovelace in Kustomer, with three orders in the fake Shopify (same email)."""
    request.getfixturevalue("store")
    return fake_kustomer.customer_create(
        name="Ada Lovelace", email="ada@example.com", emit_webhooks=False
    )


@pytest.fixture
def model_version(transactional_db):
    """An active model version, and the demo intents it would predict."""
    intents_ensure(definitions=list(INTENT_DESCRIPTIONS.items()))
    return ModelVersion.objects.create(number=1, status=ModelVersion.Status.ACTIVE)


@pytest.fixture
def inbound(model_version):
    """`inbound(customer, text, intent=...)`: the customer writes in (fake Kustomer) and the
    message is received and classified as the pipeline would have done."""

    def make(who, text: str, *, intent: str = "track_order", confidence=0.9, conversation=None):
        sent = fake_kustomer.message_send_from_customer(
            customer=who if conversation is None else None,
            conversation=conversation,
            body=text,
        )
        prediction = Prediction.objects.create(
            text=text,
            kustomer_message_id=sent.id,
            kustomer_conversation_id=sent.conversation_id,
            model_version=model_version,
            intent=intent,
            confidence=confidence,
            top=[[intent or "track_order", confidence]],
            abstained=not intent,
            latency_ms=1.0,
        )
        message = InboundMessage.objects.create(
            kustomer_message_id=sent.id,
            conversation_id=sent.conversation_id,
            customer_id=who.id,
            channel="email",
            text=text,
            prediction=prediction,
            status=InboundMessage.Status.CLASSIFIED,
        )
        message.kustomer_conversation = sent.conversation
        return message

    return make
