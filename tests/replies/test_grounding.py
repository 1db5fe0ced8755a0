"""Grounding and masking on their own: pure functions, no database, no HTTP."""

import pytest

from copilot.replies.grounding import (
    AMOUNT,
    DATE,
    DURATION,
    LINK,
    ORDER,
    PERCENT,
    TRACKING,
    allowed_from_facts,
    check_draft,
    extract_claims,
    find_problems,
    mask_secrets,
)
from tests.replies.factories import TRACKING_URL, facts, shortcut

ALLOWED = allowed_from_facts(facts())
SIGN_OFF = "\n\nBest,\n{agent_first_name}"


def kinds(text: str) -> list[tuple[str, str]]:
    return [(claim.kind, claim.text) for claim in extract_claims(text)]


def test_a_draft_stating_only_the_facts_is_kept_as_is():
    draft = (
        "Hi Ada,\n\nYour order #1020 shipped with UPS on May 2 (tracking 1Z999AA100123456): "
        f"{TRACKING_URL}. The total was $121.00, of which $8.00 shipping." + SIGN_OFF
    )

    result = check_draft(draft, ALLOWED)

    assert result.text == draft
    assert not result.repaired and not result.problems


def test_an_invented_order_number_is_cut_from_a_draft_that_says_enough_without_it():
    draft = (
        "Hi Ada,\n\nYour order #1020 shipped with UPS on May 2 and is on its way. You can "
        f"follow it here: {TRACKING_URL}. I also see a second order, #48213, on its way." + SIGN_OFF
    )

    result = check_draft(draft, ALLOWED)

    assert result.repaired
    assert "48213" not in result.text
    assert "Your order #1020 shipped with UPS on May 2" in result.text
    assert result.text.endswith("Best,\n{agent_first_name}")
    assert result.notes == ["order number '48213' is not in the facts"]


def test_a_draft_built_on_an_invented_order_is_dropped():
    draft = (
        "Hi Ada,\n\nYour order #48213 left our warehouse and is with the carrier, tracking "
        "number 1Z999AA19876543210." + SIGN_OFF
    )

    result = check_draft(draft, ALLOWED)

    assert result.dropped and result.text == ""
    assert {problem.kind for problem in result.problems} == {ORDER, TRACKING}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Order 1020", ORDER),
        ("order number 1020", ORDER),
        ("tu pedido n.º 1020", ORDER),
        ("votre commande n° 1020", ORDER),
        ("Ihre Bestellung 1020", ORDER),
        ("$121.00", AMOUNT),
        ("$121", AMOUNT),
        ("121,00 $", AMOUNT),
        ("USD 121.00", AMOUNT),
        ("121 dollars", AMOUNT),
        ("May 2", DATE),
        ("2 May 2026", DATE),
        ("May 2nd, 2026", DATE),
        ("2026-05-02", DATE),
        ("05/02/2026", DATE),
        ("2 de mayo", DATE),
        ("2 mai 2026", DATE),
        ("2. Mai", DATE),
        ("1Z999AA100123456", TRACKING),
        ("1z999aa100123456", TRACKING),
        (TRACKING_URL, LINK),
        ("30 days", DURATION),
        ("a 30-day window", DURATION),
        ("5 to 10 business days", DURATION),
        ("5 a 10 días hábiles", DURATION),
        ("10%", PERCENT),
    ],
)
def test_every_way_of_writing_a_fact_is_recognised_and_allowed(text, kind):
    assert [claim.kind for claim in extract_claims(f"Note: {text}.")] == [kind]
    assert find_problems(f"Note: {text}.", ALLOWED) == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("order 1042", ORDER),
        ("#48213", ORDER),
        ("$99.00", AMOUNT),
        ("€121.00", AMOUNT),  # the order was paid in dollars
        ("May 3", DATE),
        ("3 de mayo", DATE),
        ("2025-05-02", DATE),  # right day, wrong year
        ("1Z999AA19876543210", TRACKING),
        ("9400 1000 0000 0001 2345 67", TRACKING),
        ("https://www.ups.com/track?tracknum=1Z999AA19876543210", LINK),
        ("60 days", DURATION),
        ("4 business days", DURATION),
        ("5 to 6 business days", DURATION),  # 6 is in no policy
        ("20% off", PERCENT),
    ],
)
def test_anything_not_in_the_facts_is_a_problem(text, kind):
    problems = find_problems(f"Note: {text}.", ALLOWED)

    assert [problem.kind for problem in problems] == [kind]


def test_what_a_customer_wrote_is_not_taken_as_a_fact():
    # Ada's own message names order 1042, which is not hers: a draft repeating it is not grounded.
    assert find_problems("About your order #1042: it shipped.", ALLOWED)[0].kind == ORDER


def test_emails_placeholders_and_relative_times_are_not_claims():
    text = (
        "Write to help+1234567@northwind.example. {agent_first_name} placed it 2 days ago; "
        "hace 3 días; vor 4 Tagen."
    )

    assert kinds(text) == []


def test_a_shortcut_shown_to_the_model_grounds_its_own_wording():
    allowed = allowed_from_facts(
        facts(shortcuts=(shortcut("Delay", "It should arrive within 3 business days."),))
    )

    assert find_problems("It should arrive within 3 business days.", allowed) == []


@pytest.mark.parametrize(
    ("draft", "allowed_by_default_policies"),
    [
        ("We'll email you a prepaid return label.", True),
        ("You'll get a full refund once it's back.", True),
        ("I've added a 10% goodwill discount to your next order.", True),
        ("We guarantee it arrives by Friday.", False),
        ("You can keep the item, no need to send it back.", True),  # damaged items
    ],
)
def test_promises_must_be_allowed_by_a_policy(draft, allowed_by_default_policies):
    problems = find_problems(draft, ALLOWED)
    without_policies = find_problems(draft, allowed_from_facts(facts(policies=())))

    assert (problems == []) is allowed_by_default_policies
    assert any(problem.kind == "promise" for problem in without_policies)


def test_a_repaired_draft_with_too_little_left_is_dropped():
    draft = "Hi Ada,\n\nYour order #48213 is on its way. Thanks!" + SIGN_OFF

    assert check_draft(draft, ALLOWED).dropped


def test_a_draft_without_orders_in_the_facts_may_state_no_order():
    allowed = allowed_from_facts(facts(orders=()))

    result = check_draft(
        "Hi Ada,\n\nYour order #1020 has shipped and should arrive soon." + SIGN_OFF, allowed
    )

    assert result.dropped


# --- masking --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my card is 4111 1111 1111 1111 thanks", "my card is [card number removed] thanks"),
        ("card 4111-1111-1111-1111", "card [card number removed]"),
        ("card 4111111111111111.", "card [card number removed]."),
        ("Amex 378282246310005", "Amex [card number removed]"),
        ("the CVV is 123", "the CVV is [security code removed]"),
        ("cvc: 9876", "cvc: [security code removed]"),
        ("my password is hunter2!", "my password is [password removed]"),
        ("Password: Tr0ub4dor&3", "Password: [password removed]"),
        ("mi contraseña es gato123", "mi contraseña es [password removed]"),
        ("mot de passe: chat123", "mot de passe: [password removed]"),
        ("mein Passwort ist Hund123", "mein Passwort ist [password removed]"),
        ("the verification code is 482913", "the verification code is [code removed]"),
        ("key sk-proj-abcdefghijklmnop12345", "key [secret removed]"),
        ("token: ghp_abcdefghijklmnopqrstuvwxyz0123456789", "token: [secret removed]"),
        (
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "[token removed]",
        ),
        ("IBAN DE89 3704 0044 0532 0130 00", "IBAN [bank account removed]"),
        ("SSN 123-45-6789", "SSN [SSN removed]"),
    ],
)
def test_secrets_are_masked(text, expected):
    masked = mask_secrets(text)

    assert masked.text == expected
    assert masked.removed


@pytest.mark.parametrize(
    "text",
    [
        "where is my order #1020?",
        "tracking 1Z999AA100123456 has not moved",
        "USPS 9400 1000 0000 0001 2345 67 shows nothing",
        "FedEx 700007998190",
        "call me on +1 415-555-0101",
        "I forgot my password, can you help?",
        "4111 1111 1111 1112 is not a valid card number",  # fails the Luhn check
        "the total was $121.00 on 2026-05-02",
    ],
)
def test_ordinary_text_is_not_masked(text):
    assert mask_secrets(text).text == text
