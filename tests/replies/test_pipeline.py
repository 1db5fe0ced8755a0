"""The inbound pipeline ends with drafts stored and the best one on the KObject (fake Kustomer,
fake Shopify and fake model over real HTTP, as in tests/inbox)."""

import pytest

from copilot.inbox.models import InboundMessage
from copilot.integrations.http import TransientError
from copilot.pipeline import message_pipeline_run
from copilot.replies.models import Draft
from copilot.replies.selectors import top_draft_text
from copilot.sandbox.kustomer import services as fake_kustomer
from copilot.sandbox.llm.models import ChatRequest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(store, defaults):
    """Ada's orders in the fake Shopify, and the default policies and templates."""
    return store


def customer_writes(customer, text):
    message = fake_kustomer.message_send_from_customer(customer=customer, body=text)
    assert fake_kustomer.webhook_deliveries_wait(timeout=15)
    return InboundMessage.objects.get(kustomer_message_id=message.id)


def test_a_customer_message_ends_with_drafts_and_the_best_one_on_the_kobject(
    kustomer, customer, shop, llm
):
    inbound = customer_writes(customer, "Where is my order? It has not arrived yet.")

    assert inbound.status == InboundMessage.Status.WRITTEN
    drafts = list(Draft.objects.filter(message=inbound).order_by("rank"))
    assert len(drafts) == 3 and drafts[0].source == Draft.Source.MODEL
    assert drafts[0].intent == inbound.prediction.intent == "track_order"
    [kobject] = kustomer.kobjects()
    suggested = kobject.custom["suggestedReplyTxt"]
    assert suggested == top_draft_text(message_id=inbound.id)
    assert suggested.startswith("Hi Ada,") and len(suggested) <= 1024


def test_with_the_model_down_the_pipeline_still_writes_back_with_fallback_drafts(
    kustomer, customer, shop, llm, settings
):
    settings.SANDBOX_LLM_SCENARIO = "server_error"

    inbound = customer_writes(customer, "please refund order 1042")

    assert inbound.status == InboundMessage.Status.WRITTEN
    drafts = Draft.objects.filter(message=inbound)
    assert drafts.exists()
    assert all(draft.source != Draft.Source.MODEL for draft in drafts)
    assert kustomer.kobjects()[0].custom["suggestedReplyTxt"].startswith("Hi Ada,")


def test_a_retried_pipeline_does_not_make_a_second_set_of_drafts(
    kustomer, customer, shop, llm, settings
):
    with pytest.MonkeyPatch.context() as patch:
        # Receive without processing, so that the first attempt can be made to fail by hand.
        patch.setattr("copilot.queueing.enqueue_on_commit", lambda *args: None)
        inbound = customer_writes(customer, "where is my order 2207")
    fake_kustomer.failure_inject(
        path_prefix=f"/v1/customers/{customer.id}/klasses", mode="500", count=1
    )

    with pytest.raises(TransientError):
        message_pipeline_run(message_id=inbound.id)
    message_pipeline_run(message_id=inbound.id)

    inbound.refresh_from_db()
    assert inbound.status == InboundMessage.Status.WRITTEN
    assert Draft.objects.filter(message=inbound).count() == 3
    assert ChatRequest.objects.count() == 1
    assert len(kustomer.kobjects()) == 1


def test_without_a_model_the_pipeline_makes_fallback_drafts(kustomer, customer, shop):
    inbound = customer_writes(customer, "Where is my order? It has not arrived yet.")

    assert inbound.status == InboundMessage.Status.WRITTEN
    first = Draft.objects.filter(message=inbound).order_by("rank").first()
    assert first.source == Draft.Source.TEMPLATE
    assert first.fallback_reason == "No model is configured"
