"""Why the model chose an intent: intents.explanation, intents.text_origins and
intents.prediction.explain, on the demo store's model (trained once for this module from
intents/fixtures/demo_intents.csv, about five seconds).

Explaining a message costs about 1 ms on the development machine, cleaning included; measure it
with:

    .venv/bin/python -c "
    import timeit
    from intents.importing import read_labelled_file
    from intents.training import train
    from intents.explanation import evidence
    rows = read_labelled_file('intents/fixtures/demo_intents.csv')
    model = train([r.text for r in rows], [r.intent for r in rows]).classifier
    text = \\"where is my order 1042, the tracking hasn't moved\\"
    print(min(timeit.repeat(lambda: evidence(model, text), number=100, repeat=5)) * 10, 'ms')"
"""

import ast
import itertools
import time
from pathlib import Path

import numpy as np
import pytest

from intents.artifacts import serialize
from intents.explanation import contributions, evidence
from intents.importing import read_labelled_file
from intents.models import ModelVersion
from intents.prediction import NoActiveModel, explain
from intents.services import model_version_activate
from intents.text_cleaning import clean_text
from intents.text_origins import clean_text_with_origins
from intents.training import train

DEMO_EXAMPLES = Path(__file__).parents[2] / "intents" / "fixtures" / "demo_intents.csv"
ORDER_QUESTION = "where is my order 1042, the tracking hasn't moved"


@pytest.fixture(scope="module")
def demo_rows():
    return read_labelled_file(DEMO_EXAMPLES)


@pytest.fixture(scope="module")
def demo_model(demo_rows):
    return train([row.text for row in demo_rows], [row.intent for row in demo_rows]).classifier


@pytest.fixture
def active_demo_model(db, demo_model):
    artifact, sha256 = serialize(demo_model)
    version = ModelVersion.objects.create(
        number=1, status=ModelVersion.Status.READY, artifact=artifact, artifact_sha256=sha256
    )
    return model_version_activate(version_id=version.id)


def _highlighted(text: str, spans) -> list[str]:
    return [text[start:end] for start, end, _ in spans]


def test_order_question_highlights_its_question_words_and_never_the_order_number(demo_model):
    spans = evidence(demo_model, ORDER_QUESTION)

    words = [word.lower() for word in _highlighted(ORDER_QUESTION, spans)]
    assert {"where", "order", "tracking"} <= set(words)
    strongest = max(spans, key=lambda span: span.weight)
    assert ORDER_QUESTION[strongest.start : strongest.end] in {"where", "order", "tracking"}
    number = ORDER_QUESTION.index("1042")
    assert all(end <= number or start >= number + 4 for start, end, _ in spans)


@pytest.mark.parametrize(
    ("text", "cut_at"),
    [
        (
            "Can you cancel it please?\n\nOn Tue, Jan 2, 2024 at 10:00 AM Northwind "
            "<help@shop.com> wrote:\n> Where is my order? Your tracking number is "
            "1Z999AA10123456784.\n> Your order has shipped.",
            "On Tue",
        ),
        (
            "Please cancel the order.\n\n-----Original Message-----\nFrom: Northwind\n"
            "Sent: Monday\nYour refund has been processed, where is my parcel",
            "-----Original",
        ),
        ("Please cancel my order.\n-- \nJane Doe\nTracking & Delivery Team", "-- \n"),
    ],
)
def test_quoted_history_and_signatures_are_never_highlighted(demo_model, text, cut_at):
    spans = evidence(demo_model, text)

    assert spans
    assert all(end <= text.index(cut_at) for _, end, _ in spans)


def test_quoted_lines_between_the_customers_words_are_never_highlighted(demo_model):
    text = "Any news?\n> Where is my order? The tracking has not moved.\nIt is for a birthday"

    spans = evidence(demo_model, text, intent="track_order")

    quote = (text.index(">"), text.index("moved.") + len("moved."))
    assert spans
    assert all(end <= quote[0] or start >= quote[1] for start, end, _ in spans)


def test_spans_are_inside_the_text_sorted_apart_and_weighted_against_the_strongest(
    demo_model, demo_rows
):
    for row in demo_rows[::10]:
        spans = evidence(demo_model, row.text)

        assert 1 <= len(spans) <= 5, row.text
        assert all(0 <= start < end <= len(row.text) for start, end, _ in spans)
        assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
        assert max(span.weight for span in spans) == 1.0
        assert all(0 < span.weight <= 1 for span in spans)


def test_the_limit_keeps_the_strongest_spans(demo_model):
    everything = evidence(demo_model, ORDER_QUESTION, limit=10)
    two = evidence(demo_model, ORDER_QUESTION, limit=2)

    assert len(two) == 2
    assert set(two) <= set(everything)
    assert min(span.weight for span in two) >= max(
        span.weight for span in everything if span not in two
    )


def test_translated_words_highlight_the_customers_own_phrase(demo_model):
    text = "¿Dónde está mi pedido?"

    spans = evidence(demo_model, text, intent="track_order")

    assert {"Dónde está", "pedido"} <= set(_highlighted(text, spans))


def test_an_alternative_intent_is_explained_by_its_own_words(demo_model):
    text = "Where is my order? If it is lost I want my money back"

    refund = _highlighted(text, evidence(demo_model, text, intent="get_refund"))
    track = _highlighted(text, evidence(demo_model, text, intent="track_order"))

    assert any("money back" in words for words in refund)
    assert not any("money back" in words for words in track)
    assert "Where" in track


def test_words_shares_add_up_to_the_decision_score(demo_model, demo_rows):
    model = demo_model.fitted_model
    for row in demo_rows[::25]:
        cleaned = clean_text(row.text)
        scores = model.scores([cleaned])[0]
        for intent in (row.intent, demo_model.labels[int(np.argmin(scores))]):
            parts = contributions(demo_model, cleaned, intent)

            assert parts.total == pytest.approx(scores[model.classes.index(intent)], abs=1e-4)


def test_an_unknown_intent_cannot_be_explained(demo_model):
    with pytest.raises(ValueError, match="does not know the intent 'teleport_parcel'"):
        evidence(demo_model, ORDER_QUESTION, intent="teleport_parcel")


def test_an_empty_message_has_no_evidence(demo_model):
    assert evidence(demo_model, "") == []
    assert evidence(demo_model, "   ") == []


def test_explaining_a_message_takes_less_than_five_milliseconds(demo_model):
    evidence(demo_model, ORDER_QUESTION)  # the word caches fill on first use
    timings = []
    for _ in range(30):
        started = time.perf_counter()
        evidence(demo_model, ORDER_QUESTION)
        timings.append(time.perf_counter() - started)

    assert min(timings) < 0.005


def _cleaning_test_messages() -> list[str]:
    source = (Path(__file__).parent / "test_text_cleaning.py").read_text()
    return [
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


TRICKY_MESSAGES = [
    "<p>Hi<br>I&#39;d like a refund for the caf&eacute; mug &amp; plate</p><blockquote>old",
    "Hi there,\n¿Dónde está mi pedido #1042?\n\nEnviado desde mi iPhone",
    "Rückerstattung bitte!!! Bestellung 10593, 45,99 €",
    "I want my money back... what?, really.,",
    "email jo.doe@example.com or see www.shop.com/orders?id=9 on 2024-01-02",
    "tracking no. 9400111899223197428490 and 1Z999AA10123456784 😀😀",
    "e\u0301nvio stra\u00dfe \u00a0 ΟΔΟΣ İstanbul",
    "> only quoted text here",
    "Thanks!",
]


def test_cleaning_with_origins_gives_exactly_the_cleaned_text(demo_rows):
    for text in [row.text for row in demo_rows] + _cleaning_test_messages() + TRICKY_MESSAGES:
        cleaned = clean_text_with_origins(text)

        assert cleaned.text == clean_text(text), text
        assert len(cleaned.starts) == len(cleaned.ends) == len(cleaned.text)


def test_placeholders_stand_for_nothing_and_kept_words_for_themselves():
    text = "Hi,\nwhere is order #1042? I paid $45.99"
    cleaned = clean_text_with_origins(text)

    def origin_of(word: str):
        start = cleaned.text.index(word)
        return cleaned.origin(start, start + len(word))

    assert cleaned.text == "where is order ordernum ? i paid amount"
    assert origin_of("ordernum") is None
    assert origin_of("amount") is None
    assert origin_of("where") == (text.index("where"), text.index("where") + 5)
    assert origin_of("order") == (text.index("order"), text.index("order") + 5)


def test_explain_uses_the_active_model_and_gives_the_top_three(active_demo_model):
    explanation = explain(ORDER_QUESTION)

    prediction = explanation.classification.prediction
    assert explanation.classification.version_number == active_demo_model.number
    assert explanation.intent == prediction.intent == "track_order"
    assert len(prediction.top) == 3
    assert prediction.top[0][0] == "track_order"
    assert all(0 <= probability <= 1 for _, probability in prediction.top)
    assert "tracking" in _highlighted(ORDER_QUESTION, explanation.spans)


def test_an_abstained_message_is_explained_by_its_best_guess(active_demo_model):
    text = "Quick question about my stuff"

    explanation = explain(text)

    prediction = explanation.classification.prediction
    assert prediction.abstained and prediction.intent is None
    assert explanation.intent == prediction.top[0][0]
    assert explanation.spans


def test_explain_an_alternative_the_card_shows(active_demo_model):
    explanation = explain(ORDER_QUESTION, intent="order_not_received_confirmation")

    assert explanation.intent == "order_not_received_confirmation"
    assert explanation.classification.prediction.intent == "track_order"


def test_explain_an_intent_the_active_model_does_not_know(active_demo_model):
    with pytest.raises(ValueError, match="Model v1 does not know the intent 'teleport_parcel'"):
        explain(ORDER_QUESTION, intent="teleport_parcel")


def test_explain_without_an_active_model_says_so(db):
    with pytest.raises(NoActiveModel):
        explain(ORDER_QUESTION)
