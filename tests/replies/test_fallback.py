"""The fallback on its own: ranking shortcuts and templates, filling their placeholders. Pure."""

import pytest

from copilot.replies import defaults
from copilot.replies.fallback import (
    SHORTCUT,
    TEMPLATE,
    Candidate,
    fill_placeholders,
    placeholder_values,
    rank,
)
from copilot.replies.language import detect_language
from copilot.sandbox.kustomer.management.commands.sandbox_kustomer_seed import SHORTCUTS
from tests.replies.factories import (
    INTENT_DESCRIPTIONS,
    TRACKING_URL,
    facts,
    shipped_order,
    unshipped_order,
)

TEMPLATES = [
    Candidate(TEMPLATE, name, text, intent=intent, language=language)
    for intent, language, name, text in defaults.TEMPLATES
]
DEMO_SHORTCUTS = [Candidate(SHORTCUT, name, text) for name, text in SHORTCUTS]
CATALOG = {
    name: f"{name.replace('_', ' ')} {description}"
    for name, description in INTENT_DESCRIPTIONS.items()
}


def suggest(message, *, intent="track_order", order=None, language=None, limit=3, **kwargs):
    the_facts = facts(order or shipped_order(), **kwargs)
    language = language or detect_language(message)
    return rank(
        message=message,
        intent=intent,
        intent_words=CATALOG.get(intent, ""),
        candidates=[*DEMO_SHORTCUTS, *TEMPLATES],
        values=placeholder_values(the_facts, message=message, language=language),
        language=language,
        limit=limit,
        intent_catalog=CATALOG,
    )


def test_the_template_for_the_intent_comes_first_with_the_facts_filled_in():
    drafts = suggest("Where is my parcel? It has not arrived yet.")

    best = drafts[0]
    assert (best.source, best.name) == (TEMPLATE, "Tracking link")
    assert "Hi Ada," in best.text
    assert "#1020" in best.text and TRACKING_URL in best.text and "UPS" in best.text
    assert "{" not in best.text.replace("{agent_first_name}", "")
    assert best.text.endswith("Best,\n{agent_first_name}")


def test_the_shop_s_own_shortcut_for_tracking_comes_next():
    drafts = suggest("Where is my parcel? It has not arrived yet.")

    assert ("shortcut", "Order tracking") in [(draft.source, draft.name) for draft in drafts]
    assert len(drafts) <= 3


def test_a_template_whose_facts_are_missing_is_not_offered():
    drafts = suggest("Where is my order?", order=unshipped_order())

    names = [draft.name for draft in drafts]
    assert "Tracking link" not in names
    assert names[0] == "Order status"
    assert "is being prepared" in drafts[0].text and "May 20, 2026" in drafts[0].text


def test_kustomer_placeholders_are_filled_and_unknown_ones_taken_out():
    text, filled = fill_placeholders(
        "Hi {{customer.firstName}} ({{customer.email}}), {{conversation.foo}}see you.\n"
        "{{user.firstName}}",
        {"customer_first_name": "Ada", "customer_email": "ada@example.com"},
    )

    assert text == "Hi Ada (ada@example.com), see you.\n{agent_first_name}"
    assert filled == 1  # the email; the name is a courtesy, not a fact


def test_an_unknown_customer_name_leaves_a_clean_greeting():
    drafts = suggest("Where is my parcel?", first_name="")

    assert drafts[0].text.startswith("Hi,\n\n")


def test_a_missing_fact_other_than_the_name_rules_the_template_out():
    assert fill_placeholders("Order {order_number}", {}) == (None, 0)


def test_the_template_in_the_customer_s_language_wins():
    drafts = suggest("Hola, ¿dónde está mi pedido? Todavía no ha llegado.")

    assert drafts[0].language == "es"
    assert drafts[0].text.startswith("Hola Ada:")
    assert "enviado" in drafts[0].text or "1Z999AA100123456" in drafts[0].text
    # The same template is not offered again in English.
    assert [(d.name, d.source) for d in drafts].count(("Tracking link", TEMPLATE)) == 1


def test_an_english_template_stands_in_when_none_is_written_in_the_customer_s_language():
    drafts = suggest(
        "Hola, quiero cambiar mi pedido, la talla no es la correcta.",
        intent="change_order",
        order=unshipped_order(),
    )

    assert drafts[0].name == "Change before shipping"
    assert drafts[0].language == "en"


@pytest.mark.parametrize(
    ("message", "intent", "expected"),
    [
        ("The jacket is too small, how do I send it back?", "return_or_exchange", "Return"),
        ("Please cancel my order, I ordered the wrong colour", "cancel_order", "Cancel"),
    ],
)
def test_shortcuts_and_templates_are_ranked_by_fit_to_the_message(message, intent, expected):
    drafts = suggest(message, intent=intent)

    assert expected.lower() in (drafts[0].name + drafts[1].name).lower()


def test_without_an_intent_the_words_of_the_message_decide():
    drafts = suggest("My mug arrived broken and cracked, damaged in the box", intent="")

    assert drafts[0].name in {"Damaged item", "Damaged or wrong item"}


def test_nothing_relevant_gives_the_general_reply():
    drafts = suggest("qwerty zxcvb", intent="")

    assert [(draft.source, draft.name) for draft in drafts] == [(TEMPLATE, "Looking into it")]


def test_drafts_written_for_another_intent_are_left_out():
    drafts = suggest("Hi, where is my order? It still has not arrived.", order=unshipped_order())

    assert [(draft.source, draft.name) for draft in drafts] == [
        (TEMPLATE, "Order status"),
        (SHORTCUT, "Order tracking"),
    ]


def test_a_shortcut_is_matched_to_the_intent_its_words_describe():
    drafts = suggest("I want to cancel", intent="cancel_order", order=unshipped_order())

    assert {"Order cancelled", "Cannot cancel, already shipped"} <= {d.name for d in drafts}


def test_near_duplicates_are_offered_once():
    twin = Candidate(SHORTCUT, "Order tracking (copy)", SHORTCUTS[0][1])
    the_facts = facts()
    drafts = rank(
        message="where is my order",
        intent="track_order",
        intent_words=CATALOG["track_order"],
        candidates=[*DEMO_SHORTCUTS, twin],
        values=placeholder_values(the_facts, message="where is my order", language="en"),
        language="en",
        limit=3,
    )

    names = [draft.name for draft in drafts]
    assert len({"Order tracking", "Order tracking (copy)"} & set(names)) == 1


def test_the_order_the_customer_names_is_the_one_filled_in():
    older = shipped_order(number="#1005")
    the_facts = facts(shipped_order(), older)

    values = placeholder_values(the_facts, message="about order 1005 please", language="en")

    assert values["order_number"] == "#1005"
    assert placeholder_values(the_facts, message="hi", language="en")["order_number"] == "#1020"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "May 1, 2026"),
        ("es", "1 de mayo de 2026"),
        ("fr", "1 mai 2026"),
        ("de", "1. Mai 2026"),
    ],
)
def test_dates_are_written_the_customer_s_way(language, expected):
    values = placeholder_values(facts(), message="", language=language)

    assert values["order_date"] == expected


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hi, where is my order? It has not arrived yet.", "en"),
        ("Hola, ¿dónde está mi pedido? Todavía no ha llegado.", "es"),
        ("Bonjour, je n'ai toujours pas reçu ma commande, où est-elle ?", "fr"),
        ("Hallo, wo ist meine Bestellung? Das Paket ist noch nicht da.", "de"),
        ("#1020 ???", "en"),
        ("", "en"),
    ],
)
def test_the_customer_s_language_is_told_from_common_words(text, language):
    assert detect_language(text) == language


def test_french_spacing_before_punctuation_is_kept():
    text, _ = fill_placeholders("Bonjour {customer_first_name},\n\nPouvez-vous ? Ici : oui", {})

    assert text == "Bonjour,\n\nPouvez-vous ? Ici : oui"
