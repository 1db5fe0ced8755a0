"""Agents' verdicts on a message's intent (intents.services.intent_feedback_record) and the
pending training example that follows each verdict."""

import threading

import pytest
from django.db import connection

from copilot.agents import Agent
from intents.classifier import IntentPrediction
from intents.models import (
    Intent,
    IntentFeedback,
    LabeledExample,
    ModelVersion,
    text_fingerprint,
)
from intents.prediction import Classification
from intents.selectors import intent_choices, intent_feedback_for_message
from intents.services import (
    FeedbackError,
    intent_feedback_record,
    intents_ensure,
    prediction_record,
)

pytestmark = pytest.mark.django_db

MESSAGE = "msg-1"
TEXT = "Where is my order 1042? The tracking hasn't moved."
ADA = Agent(id="agent-ada", name="Ada Lovelace")
GRACE = Agent(id="agent-grace", name="Grace Hopper")


@pytest.fixture
def intents(db):
    return intents_ensure(
        definitions=[(name, "") for name in ("track_order", "get_refund", "cancel_order")]
    )


def _classified(
    *, message_id: str = MESSAGE, text: str = TEXT, top=None, abstained: bool = False
) -> None:
    top = top or [("track_order", 0.93), ("get_refund", 0.04), ("cancel_order", 0.02)]
    version, _ = ModelVersion.objects.get_or_create(
        number=1, defaults={"status": ModelVersion.Status.ACTIVE}
    )
    prediction = IntentPrediction(
        intent=None if abstained else top[0][0],
        confidence=top[0][1],
        top=top,
        abstained=abstained,
    )
    prediction_record(
        text=text,
        classification=Classification(prediction, version.id, version.number, 0.4),
        kustomer_message_id=message_id,
        kustomer_conversation_id="conv-1",
    )


@pytest.fixture
def classified_message(intents):
    _classified()


def _pending_examples() -> list[LabeledExample]:
    return list(
        LabeledExample.objects.filter(
            kustomer_message_id=MESSAGE,
            source=LabeledExample.Source.AGENT_FEEDBACK,
            status=LabeledExample.Status.PENDING_REVIEW,
        ).select_related("intent")
    )


def test_right_adds_one_pending_example_with_the_predicted_intent(classified_message):
    feedback = intent_feedback_record(kustomer_message_id=MESSAGE, agent=ADA, confirm=True)

    assert feedback.verdict == IntentFeedback.Verdict.RIGHT
    assert feedback.predicted_intent == "track_order"
    assert feedback.intent.name == "track_order"
    assert feedback.kustomer_conversation_id == "conv-1"
    assert feedback.prediction.text == TEXT
    [example] = _pending_examples()
    assert example.text == TEXT
    assert example.intent.name == "track_order"
    assert example.labelled_by == ADA.id
    assert example.kustomer_conversation_id == "conv-1"


@pytest.mark.parametrize(
    ("picked", "verdict"),
    [
        ("track_order", IntentFeedback.Verdict.RIGHT),
        ("get_refund", IntentFeedback.Verdict.CORRECTED),
    ],
)
def test_picking_an_intent_is_right_or_a_correction(classified_message, picked, verdict):
    feedback = intent_feedback_record(kustomer_message_id=MESSAGE, agent=ADA, intent_name=picked)

    assert feedback.verdict == verdict
    assert [example.intent.name for example in _pending_examples()] == [picked]


def test_a_change_of_mind_replaces_the_verdict_and_the_examples_intent(classified_message):
    intent_feedback_record(kustomer_message_id=MESSAGE, agent=ADA, confirm=True)
    [first] = _pending_examples()

    feedback = intent_feedback_record(
        kustomer_message_id=MESSAGE, agent=ADA, intent_name="cancel_order"
    )

    assert IntentFeedback.objects.count() == 1
    assert feedback.verdict == IntentFeedback.Verdict.CORRECTED
    assert feedback.intent.name == "cancel_order"
    [example] = _pending_examples()
    assert example.pk == first.pk
    assert example.intent.name == "cancel_order"
    assert example.labelled_at >= first.labelled_at


def test_none_of_these_keeps_the_feedback_and_removes_the_pending_example(classified_message):
    intent_feedback_record(kustomer_message_id=MESSAGE, agent=ADA, intent_name="get_refund")

    feedback = intent_feedback_record(kustomer_message_id=MESSAGE, agent=ADA, intent_name=None)

    assert feedback.verdict == IntentFeedback.Verdict.NONE_OF_THESE
    assert feedback.intent is None
    assert IntentFeedback.objects.get() == feedback
    assert _pending_examples() == []
    assert LabeledExample.objects.count() == 0


def test_a_verdict_after_none_of_these_brings_the_example_back(classified_message):
    intent_feedback_record(kustomer_message_id=MESSAGE, agent=ADA)

    intent_feedback_record(kustomer_message_id=MESSAGE, agent=ADA, confirm=True)

    assert [example.intent.name for example in _pending_examples()] == ["track_order"]


def test_the_last_agent_wins_and_is_recorded(classified_message):
    intent_feedback_record(kustomer_message_id=MESSAGE, agent=ADA, confirm=True)

    intent_feedback_record(kustomer_message_id=MESSAGE, agent=GRACE, intent_name="get_refund")

    feedback = IntentFeedback.objects.get()
    assert (feedback.agent_id, feedback.agent_name) == (GRACE.id, GRACE.name)
    assert feedback.intent.name == "get_refund"
    [example] = _pending_examples()
    assert example.labelled_by == GRACE.id
    assert feedback.updated_at >= feedback.created_at


@pytest.mark.parametrize(
    ("name", "sentence"),
    [
        ("teleport_parcel", "There is no intent named 'teleport_parcel'; pick one from the list."),
        ("cancel_order", "The intent 'cancel_order' is retired; pick an active one from the list."),
    ],
)
def test_an_unknown_or_retired_intent_is_refused_with_a_sentence(
    classified_message, name, sentence
):
    Intent.objects.filter(name="cancel_order").update(active=False)

    with pytest.raises(FeedbackError) as error:
        intent_feedback_record(kustomer_message_id=MESSAGE, agent=ADA, intent_name=name)

    assert str(error.value) == sentence
    assert not IntentFeedback.objects.exists()
    assert not LabeledExample.objects.exists()


def test_feedback_on_a_message_without_a_prediction_is_refused(intents):
    with pytest.raises(FeedbackError, match="Message 'msg-404' has no intent prediction"):
        intent_feedback_record(kustomer_message_id="msg-404", agent=ADA, confirm=True)


def test_confirming_while_picking_another_intent_is_refused(classified_message):
    with pytest.raises(FeedbackError, match="Confirming means 'track_order'"):
        intent_feedback_record(
            kustomer_message_id=MESSAGE, agent=ADA, intent_name="get_refund", confirm=True
        )


def test_confirming_an_abstained_prediction_confirms_its_best_guess(intents):
    _classified(top=[("get_refund", 0.41), ("track_order", 0.39)], abstained=True)

    feedback = intent_feedback_record(kustomer_message_id=MESSAGE, agent=ADA, confirm=True)

    assert feedback.predicted_intent == ""
    assert feedback.verdict == IntentFeedback.Verdict.RIGHT
    assert feedback.intent.name == "get_refund"


def test_a_text_that_is_already_a_trusted_example_keeps_its_label(classified_message):
    trusted = LabeledExample.objects.create(
        text="where is my order 1042?  the tracking hasn't moved.",  # same text, other spacing
        text_sha256=text_fingerprint(TEXT),
        intent=Intent.objects.get(name="track_order"),
    )

    feedback = intent_feedback_record(
        kustomer_message_id=MESSAGE, agent=ADA, intent_name="get_refund"
    )

    assert feedback.intent.name == "get_refund"
    assert list(LabeledExample.objects.all()) == [trusted]
    trusted.refresh_from_db()
    assert trusted.intent.name == "track_order"
    assert trusted.status == LabeledExample.Status.TRUSTED


def test_a_reviewed_example_is_left_alone_on_a_change_of_mind(classified_message):
    intent_feedback_record(kustomer_message_id=MESSAGE, agent=ADA, confirm=True)
    LabeledExample.objects.update(status=LabeledExample.Status.TRUSTED)

    intent_feedback_record(kustomer_message_id=MESSAGE, agent=ADA, intent_name="get_refund")

    [example] = LabeledExample.objects.select_related("intent")
    assert (example.status, example.intent.name) == ("trusted", "track_order")
    assert IntentFeedback.objects.get().intent.name == "get_refund"


def test_two_messages_with_the_same_text_make_one_example(classified_message):
    _classified(message_id="msg-2")

    intent_feedback_record(kustomer_message_id=MESSAGE, agent=ADA, confirm=True)
    intent_feedback_record(kustomer_message_id="msg-2", agent=GRACE, intent_name="get_refund")

    assert IntentFeedback.objects.count() == 2
    [example] = LabeledExample.objects.select_related("intent")
    assert (example.kustomer_message_id, example.intent.name) == (MESSAGE, "track_order")


@pytest.mark.django_db(transaction=True)
def test_concurrent_verdicts_on_one_message_leave_one_row(classified_message):
    start = threading.Barrier(2)
    errors = []

    def give_verdict(agent: Agent, intent_name: str) -> None:
        try:
            start.wait(timeout=10)
            intent_feedback_record(
                kustomer_message_id=MESSAGE, agent=agent, intent_name=intent_name
            )
        except Exception as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=give_verdict, args=(ADA, "get_refund")),
        threading.Thread(target=give_verdict, args=(GRACE, "cancel_order")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    feedback = IntentFeedback.objects.select_related("intent").get()
    [example] = _pending_examples()
    assert example.intent == feedback.intent
    assert example.labelled_by == feedback.agent_id


def test_feedback_for_a_message_is_found_by_its_kustomer_id(classified_message):
    assert intent_feedback_for_message(MESSAGE) is None

    intent_feedback_record(kustomer_message_id=MESSAGE, agent=ADA, confirm=True)

    found = intent_feedback_for_message(MESSAGE)
    assert found.verdict == IntentFeedback.Verdict.RIGHT
    assert found.intent.display_name == "Track order"


def test_intent_choices_are_the_active_intents_by_human_name(intents):
    Intent.objects.create(name="order_not_received_confirmation")
    Intent.objects.create(name="old-intent", active=False)

    assert [tuple(choice) for choice in intent_choices()] == [
        ("cancel_order", "Cancel order"),
        ("get_refund", "Get refund"),
        ("order_not_received_confirmation", "Order not received confirmation"),
        ("track_order", "Track order"),
    ]


def test_the_admin_shows_feedback_read_only(classified_message, admin_client):
    intent_feedback_record(kustomer_message_id=MESSAGE, agent=ADA, confirm=True)
    feedback = IntentFeedback.objects.get()

    listing = admin_client.get("/admin/intents/intentfeedback/")
    detail = admin_client.get(f"/admin/intents/intentfeedback/{feedback.pk}/change/")
    adding = admin_client.get("/admin/intents/intentfeedback/add/")

    assert listing.status_code == 200 and MESSAGE in listing.content.decode()
    assert detail.status_code == 200 and b'name="verdict"' not in detail.content
    assert adding.status_code == 403


# --- trusted labellers ---------------------------------------------------------------------------

LEAD = Agent(id="agent-lead", name="Lea Lead", roles=frozenset({"org.admin"}))


@pytest.mark.parametrize("trusted_as", [["role:org.admin"], ["user:agent-lead"]])
def test_a_trusted_labellers_label_is_a_trusted_example_at_once(
    classified_message, settings, trusted_as
):
    settings.INTENT_TRUSTED_LABELLERS = trusted_as

    intent_feedback_record(kustomer_message_id=MESSAGE, agent=LEAD, intent_name="get_refund")

    [example] = LabeledExample.objects.select_related("intent")
    assert (example.status, example.intent.name, example.labelled_by) == (
        "trusted",
        "get_refund",
        "agent-lead",
    )


def test_an_agent_who_is_not_named_still_waits_for_review(classified_message, settings):
    settings.INTENT_TRUSTED_LABELLERS = ["role:org.admin", "user:agent-grace"]

    intent_feedback_record(kustomer_message_id=MESSAGE, agent=ADA, confirm=True)

    assert [example.intent.name for example in _pending_examples()] == ["track_order"]


def test_a_trusted_labellers_change_of_mind_replaces_their_example(classified_message, settings):
    settings.INTENT_TRUSTED_LABELLERS = ["role:org.admin"]
    intent_feedback_record(kustomer_message_id=MESSAGE, agent=LEAD, confirm=True)

    intent_feedback_record(kustomer_message_id=MESSAGE, agent=LEAD, intent_name="cancel_order")

    [example] = LabeledExample.objects.select_related("intent")
    assert (example.status, example.intent.name) == ("trusted", "cancel_order")

    intent_feedback_record(kustomer_message_id=MESSAGE, agent=LEAD, intent_name=None)

    assert not LabeledExample.objects.exists()
