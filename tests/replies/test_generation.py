"""Making a message's drafts: the fake model over real HTTP, the fake Kustomer and Shopify."""

import time
from decimal import Decimal

import pytest

from copilot.replies import selectors
from copilot.replies.models import Draft
from copilot.replies.services import drafts_generate_for_message
from copilot.sandbox.kustomer import selectors as kustomer_log
from copilot.sandbox.kustomer import services as fake_kustomer
from copilot.sandbox.llm.answers import INVENTED_ORDER_NUMBER, INVENTED_TRACKING_NUMBER

pytestmark = pytest.mark.django_db(transaction=True)

WHERE_IS_IT = "Hi, where is my order? It still has not arrived."


def ada_latest_order_number() -> str:
    from copilot.sandbox.shopify.models import Order

    return f"#{Order.objects.filter(email='ada@example.com').order_by('-created_at')[0].number}"


def test_a_normal_reply_is_grounded_in_the_customer_s_orders(llm, ada, inbound):
    message = inbound(ada, WHERE_IS_IT)

    drafts = drafts_generate_for_message(message_id=message.id)

    assert [draft.rank for draft in drafts] == [1, 2, 3]
    assert {draft.source for draft in drafts} == {Draft.Source.MODEL}
    best = drafts[0]
    assert best.text.startswith("Hi Ada,")
    assert ada_latest_order_number() in best.text
    assert best.language == "en" and best.customer_language == "en"
    assert best.intent == "track_order"
    assert best.fallback_reason == "" and best.grounding_notes == []
    assert best.model_name == "gpt-4o-mini" and best.latency_ms > 0
    # The call's usage is shared among its drafts: the sums are what the call reported.
    [call] = llm.requests()
    assert sum(draft.prompt_tokens for draft in drafts) == call.prompt_tokens
    assert sum(draft.completion_tokens for draft in drafts) == call.completion_tokens
    expected = (
        Decimal(call.prompt_tokens) * Decimal("0.00015")
        + Decimal(call.completion_tokens) * Decimal("0.0006")
    ) / 1000
    assert sum(draft.cost for draft in drafts) == expected.quantize(Decimal("0.000001"))
    # What the model was given: Ada's orders, the store's policies, the shortcuts that fit.
    assert ada_latest_order_number() in call.prompt and '"first_name": "Ada"' in call.prompt
    assert "Returns: Unworn, unwashed items" in call.prompt
    assert "- Order tracking: Hi {{customer.firstName}}" in call.prompt


def test_a_draft_inventing_an_order_number_is_never_stored(llm, ada, inbound, settings):
    settings.SANDBOX_LLM_SCENARIO = "invented_order"
    message = inbound(ada, WHERE_IS_IT)

    drafts = drafts_generate_for_message(message_id=message.id)

    [call] = llm.requests()
    assert INVENTED_ORDER_NUMBER in call.response_content  # the model did write it
    for draft in drafts:
        assert INVENTED_ORDER_NUMBER.strip("#") not in draft.text
        assert INVENTED_TRACKING_NUMBER not in draft.text
    model_drafts = [draft for draft in drafts if draft.source == Draft.Source.MODEL]
    # One draft was built on the invented order (dropped), one only mentioned it (repaired).
    assert len(model_drafts) == 2
    repaired = [draft for draft in model_drafts if draft.grounding_notes]
    assert repaired[0].grounding_notes == ["order number '48213' is not in the facts"]
    # The third place goes to the best fallback draft, which says why it is there.
    assert len(drafts) == 3 and drafts[2].source != Draft.Source.MODEL


def test_when_every_model_draft_is_ungrounded_the_fallback_answers(llm, fake_org, inbound):
    # No orders for this customer: any order number the model states is invented.
    nobody = fake_kustomer.customer_create(name="No Orders", email="none@example.com")
    message = inbound(nobody, WHERE_IS_IT)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "copilot.sandbox.llm.answers.drafts_for",
            lambda prompt, invent=False: [
                {"text": f"Hi,\n\nYour order {INVENTED_ORDER_NUMBER} has shipped.\n\nBest,"}
            ],
        )
        drafts = drafts_generate_for_message(message_id=message.id)

    assert drafts and all(draft.source != Draft.Source.MODEL for draft in drafts)
    assert drafts[0].fallback_reason == "Every model draft stated facts it was not given"
    assert drafts[0].prompt_tokens > 0  # the tokens were spent all the same


@pytest.mark.parametrize(
    ("scenario", "reason"),
    [
        ("timeout", "The model did not answer within 0.5 s"),
        ("rate_limited", "The model server is rate limiting (try again in 7 s)"),
        ("server_error", "The model server failed"),
        ("malformed", "The model's answer was unusable"),
    ],
)
def test_a_failing_model_gives_fallback_drafts_that_say_why(
    llm, ada, inbound, settings, scenario, reason
):
    settings.SANDBOX_LLM_SCENARIO = scenario
    settings.OPENAI_TIMEOUT_SECONDS = 0.5
    message = inbound(ada, WHERE_IS_IT)
    started = time.monotonic()

    drafts = drafts_generate_for_message(message_id=message.id)

    assert time.monotonic() - started < 1.5  # never waits for a hanging model
    assert len(llm.requests()) <= 1  # and never retries it
    assert drafts and all(draft.source != Draft.Source.MODEL for draft in drafts)
    assert all(draft.fallback_reason.startswith(reason) for draft in drafts)
    assert drafts[0].source_name == "Order status"
    assert ada_latest_order_number() in drafts[0].text
    view = selectors.drafts_for_message(message_id=message.id)
    assert view.drafts[0].label == "Template: Order status"
    assert view.drafts[0].note.startswith(reason)
    if scenario == "malformed":
        assert drafts[0].prompt_tokens > 0 and drafts[0].cost > 0


def test_a_wrong_key_gives_fallback_drafts(llm, ada, inbound, settings):
    settings.OPENAI_API_KEY = "sk-not-the-right-key"
    message = inbound(ada, WHERE_IS_IT)

    drafts = drafts_generate_for_message(message_id=message.id)

    assert drafts and drafts[0].source == Draft.Source.TEMPLATE
    assert "refused the request" in drafts[0].fallback_reason


def test_with_no_model_configured_drafts_come_from_shortcuts_and_templates(
    live_server, ada, inbound
):
    message = inbound(ada, WHERE_IS_IT)

    drafts = drafts_generate_for_message(message_id=message.id)

    assert [(draft.source, draft.source_name) for draft in drafts] == [
        (Draft.Source.TEMPLATE, "Order status"),
        (Draft.Source.SHORTCUT, "Order tracking"),
    ]
    assert drafts[0].fallback_reason == "No model is configured"
    assert drafts[1].text.startswith("Hi Ada,")  # {{customer.firstName}} filled
    assert drafts[1].text.endswith("{agent_first_name}")  # {{user.firstName}}: the card's agent
    assert drafts[0].cost == 0 and drafts[0].model_name == ""
    from copilot.sandbox.llm.models import ChatRequest

    assert not ChatRequest.objects.exists()


def test_card_numbers_and_passwords_never_reach_the_model(llm, ada, inbound):
    message = inbound(
        ada,
        "I can't pay for order 1017, my card 4111 1111 1111 1111 is refused and my password "
        "is hunter2",
        intent="payment_issue",
    )

    drafts_generate_for_message(message_id=message.id)

    [call] = llm.requests()
    assert "4111" not in call.prompt and "hunter2" not in call.prompt
    assert "[card number removed]" in call.prompt and "[password removed]" in call.prompt


def test_a_spanish_customer_gets_spanish_drafts(llm, ada, inbound):
    message = inbound(ada, "Hola, ¿dónde está mi pedido? Todavía no ha llegado.")

    drafts = drafts_generate_for_message(message_id=message.id)

    assert "REPLY LANGUAGE: es" in llm.requests()[0].prompt
    assert drafts[0].source == Draft.Source.MODEL and drafts[0].language == "es"
    assert drafts[0].text.startswith("Hola Ada:")


def test_a_spanish_customer_gets_the_spanish_template_without_a_model(live_server, ada, inbound):
    message = inbound(ada, "Hola, ¿dónde está mi pedido? Todavía no ha llegado.")

    drafts = drafts_generate_for_message(message_id=message.id)

    assert drafts[0].source == Draft.Source.TEMPLATE and drafts[0].language == "es"
    assert "preparación" in drafts[0].text
    # The English shortcut is offered too, and the card says it is in English.
    labels = [view.label for view in selectors.drafts_for_message(message_id=message.id).drafts]
    assert "Kustomer shortcut: Order tracking (in English)" in labels


def test_generating_twice_stores_one_set_and_asks_the_model_once(llm, ada, inbound):
    message = inbound(ada, WHERE_IS_IT)

    first = drafts_generate_for_message(message_id=message.id)
    again = drafts_generate_for_message(message_id=message.id)

    assert [draft.id for draft in again] == [draft.id for draft in first]
    assert Draft.objects.filter(message=message).count() == 3
    assert len(llm.requests()) == 1


def test_when_kustomer_cannot_be_reached_drafts_are_made_from_what_is_known(
    llm, inbound, model_version, settings, defaults
):
    from copilot.inbox.models import InboundMessage

    settings.KUSTOMER_API_BASE_URL = "http://127.0.0.1:9/sandbox/kustomer"
    settings.KUSTOMER_API_KEY = "key"
    message = InboundMessage.objects.create(
        kustomer_message_id="m1", conversation_id="c1", customer_id="u1", text=WHERE_IS_IT
    )

    drafts = drafts_generate_for_message(message_id=message.id)

    missing = " / ".join(drafts[0].missing_facts)
    assert "customer: Could not reach Kustomer" in missing and "shortcuts: " in missing
    assert drafts[0].text.startswith("Hi,")  # no name to greet with, and no invented one


def test_shortcuts_and_customers_are_read_from_kustomer_once(live_server, ada, inbound):
    first = inbound(ada, WHERE_IS_IT)
    second = inbound(ada, "And can I return the mugs?", intent="return_or_exchange")

    drafts_generate_for_message(message_id=first.id)
    drafts_generate_for_message(message_id=second.id)

    paths = [entry.path for entry in kustomer_log.request_log()]
    assert sum(path.endswith("/v1/shortcuts") for path in paths) == 1
    assert sum(path.endswith(f"/v1/customers/{ada.id}") for path in paths) == 1


def test_the_conversation_so_far_is_in_the_prompt(llm, ada, inbound):
    first = inbound(ada, "Hello, I have a question about my order")
    fake_kustomer.message_send_from_agent(
        conversation=first.kustomer_conversation, body="Hi Ada, of course, which one?"
    )
    second = inbound(ada, WHERE_IS_IT, conversation=first.kustomer_conversation)

    drafts_generate_for_message(message_id=second.id)

    prompt = llm.requests()[0].prompt
    assert (
        "[customer] Hello, I have a question about my order\n[agent] Hi Ada, of course, which one?"
    ) in prompt
    assert WHERE_IS_IT not in prompt.split("NEW MESSAGE FROM THE CUSTOMER:")[0]


def test_the_kobject_carries_the_best_draft_signed_by_the_team(live_server, ada, inbound):
    message = inbound(ada, WHERE_IS_IT)
    drafts_generate_for_message(message_id=message.id)

    text = selectors.top_draft_text(message_id=message.id)

    assert text.startswith("Hi Ada,") and text.endswith("Best,\nThe support team")
    assert len(selectors.top_draft_text(message_id=message.id, limit=40)) == 40


def test_an_unexpected_error_gives_no_drafts_and_does_not_raise(ada, inbound, monkeypatch):
    message = inbound(ada, WHERE_IS_IT)
    monkeypatch.setattr("copilot.replies.services.context_gather", lambda *a, **k: 1 / 0)

    assert drafts_generate_for_message(message_id=message.id) == []


def test_without_kustomer_history_the_stored_messages_of_the_customer_are_used(
    llm, ada, inbound, settings
):
    settings.REPLIES_HISTORY_FROM_KUSTOMER = False
    first = inbound(ada, "Hello, I have a question about my order")
    second = inbound(ada, WHERE_IS_IT, conversation=first.kustomer_conversation)

    drafts_generate_for_message(message_id=second.id)

    assert "[customer] Hello, I have a question about my order" in llm.requests()[0].prompt
    paths = [entry.path for entry in kustomer_log.request_log()]
    assert not any(path.endswith("/messages") for path in paths)


def test_a_policy_edited_in_the_admin_is_in_the_next_prompt(llm, ada, inbound, admin_client):
    from copilot.replies.models import StorePolicy

    drafts_generate_for_message(message_id=inbound(ada, WHERE_IS_IT).id)  # policies now kept
    policy = StorePolicy.objects.get(key="returns")

    response = admin_client.post(
        f"/admin/replies/storepolicy/{policy.id}/change/",
        {"key": "returns", "title": "Returns", "text": "Returns within 45 days.", "active": "on"},
    )
    drafts_generate_for_message(message_id=inbound(ada, WHERE_IS_IT).id)

    assert response.status_code == 302
    assert "- Returns: Returns within 45 days." in llm.requests()[-1].prompt
