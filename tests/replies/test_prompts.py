"""Prompt assembly on its own (pure), and the fake model reading it back."""

import json
import re

from copilot.replies.prompts import HistoryLine, PromptInput, build_messages
from copilot.sandbox.llm.answers import INVENTED_ORDER_NUMBER, drafts_for, read_prompt
from tests.replies.factories import facts, shortcut


def prompt_for(**changes) -> PromptInput:
    values = {
        "message": "Where is my order? My card is [card number removed].",
        "language": "en",
        "facts": facts(shortcuts=(shortcut("Order tracking", "Hi {{customer.firstName}}..."),)),
        "max_drafts": 3,
        "intent": "track_order",
        "intent_description": "Use when the customer asks where an existing order is.",
        "confidence": 0.93,
        "history": (
            HistoryLine("customer", "Hello?"),
            HistoryLine("agent", "Hi Ada, how can I help?"),
        ),
    }
    values.update(changes)
    return PromptInput(**values)


def test_the_prompt_holds_rules_intent_conversation_facts_policies_and_shortcuts():
    system, user = build_messages(prompt_for())

    assert system["role"] == "system" and user["role"] == "user"
    assert "Write 3 different drafts" in system["content"]
    assert "English" in system["content"] and '"drafts"' in system["content"]
    assert "{agent_first_name}" in system["content"]
    content = user["content"]
    assert "INTENT: track_order (confidence 93%): Use when the customer asks" in content
    assert "[customer] Hello?\n[agent] Hi Ada, how can I help?" in content
    assert "Where is my order? My card is [card number removed]." in content
    assert "- Returns: Unworn, unwashed items can be returned within 30 days" in content
    assert "- Order tracking: Hi {{customer.firstName}}..." in content


def test_the_facts_are_one_json_block_that_reads_back_whole():
    _, user = build_messages(prompt_for())

    block = re.search(r"FACTS \(JSON\):\n```json\n(.*?)\n```", user["content"], re.DOTALL)
    the_facts = json.loads(block.group(1))
    assert the_facts["customer"]["first_name"] == "Ada"
    [order] = the_facts["orders"]
    assert order["number"] == "#1020" and order["total"] == "$121.00"
    assert order["shipments"][0]["tracking_number"] == "1Z999AA100123456"
    assert order["placed_on"] == "2026-05-01"


def test_the_customer_s_language_and_count_are_asked_for():
    system, user = build_messages(prompt_for(language="de", max_drafts=2))

    assert "Write 2 different drafts" in system["content"] and "German" in system["content"]
    assert read_prompt(system["content"] + "\n" + user["content"])[:2] == ("de", 2)


def test_an_abstained_intent_and_a_first_message_say_so():
    _, user = build_messages(prompt_for(intent="", confidence=None, history=()))

    assert "INTENT: unknown" in user["content"]
    assert "(this is the first message)" in user["content"]


def test_a_very_long_message_is_clipped():
    _, user = build_messages(prompt_for(message="x" * 10_000))

    assert "x" * 3999 + "…" in user["content"] and "x" * 4001 not in user["content"]


def test_the_fake_model_writes_from_the_facts_it_reads():
    _, user = build_messages(prompt_for(language="es"))

    drafts = drafts_for(user["content"])

    assert len(drafts) == 3
    assert all(draft["language"] == "es" for draft in drafts)
    assert "#1020" in drafts[0]["text"] and "1Z999AA100123456" in drafts[0]["text"]
    assert drafts[0]["text"].startswith("Hola Ada:")
    assert INVENTED_ORDER_NUMBER in drafts_for(user["content"], invent=True)[0]["text"]
