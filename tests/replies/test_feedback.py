"""What agents do with drafts, and the acceptance rates the admin shows."""

import pytest

from copilot.agents import Agent
from copilot.inbox.models import InboundMessage
from copilot.replies.models import Draft
from copilot.replies.selectors import acceptance_rates
from copilot.replies.services import (
    FeedbackError,
    draft_feedback_record,
    drafts_shown_record,
)

pytestmark = pytest.mark.django_db

SAM = Agent(id="user-42", name="Sam", roles=frozenset({"agent"}))


@pytest.fixture
def message():
    return InboundMessage.objects.create(
        kustomer_message_id="m1", conversation_id="c1", customer_id="u1", text="where is it"
    )


def draft(message, *, rank=1, source=Draft.Source.MODEL, intent="track_order", generation=0):
    return Draft.objects.create(
        message=message,
        generation=generation,
        rank=rank,
        text="Hi Ada,\n\nYour order #1020 is on its way.\n\nBest,\n{agent_first_name}",
        source=source,
        language="en",
        intent=intent,
    )


def test_a_draft_used_as_is_records_who_and_when(message):
    used = draft(message)

    recorded = draft_feedback_record(draft_id=used.id, action="used", agent=SAM)

    recorded.refresh_from_db()
    assert recorded.status == Draft.Status.USED
    assert recorded.feedback_by == "user-42"
    assert recorded.feedback_at is not None and recorded.shown_at is not None
    assert recorded.edited_text == ""


def test_an_edited_draft_keeps_the_text_that_was_sent(message):
    edited = draft(message)

    draft_feedback_record(
        draft_id=edited.id, action="edited", edited_text="Hi Ada, it ships today!", agent=SAM
    )

    edited.refresh_from_db()
    assert edited.status == Draft.Status.EDITED
    assert edited.edited_text == "Hi Ada, it ships today!"


def test_an_edit_that_changes_only_spacing_counts_as_used_as_is(message):
    same = draft(message)

    draft_feedback_record(
        draft_id=same.id,
        action="edited",
        edited_text="Hi Ada,\nYour order #1020 is on its way.\n\nBest,\nSam  ",
        agent=SAM,
    )

    same.refresh_from_db()
    assert same.status == Draft.Status.USED and same.edited_text == ""


def test_the_last_decision_wins_and_shown_never_undoes_one(message):
    taken = draft(message)

    draft_feedback_record(draft_id=taken.id, action="dismissed", agent=SAM)
    draft_feedback_record(draft_id=taken.id, action="used", agent=SAM)
    draft_feedback_record(draft_id=taken.id, action="shown", agent=SAM)

    taken.refresh_from_db()
    assert taken.status == Draft.Status.USED


@pytest.mark.parametrize(("action", "text"), [("liked", ""), ("edited", ""), ("edited", "   ")])
def test_feedback_that_cannot_be_recorded_says_why(message, action, text):
    with pytest.raises(FeedbackError):
        draft_feedback_record(
            draft_id=draft(message).id, action=action, edited_text=text, agent=SAM
        )


def test_showing_a_set_marks_only_the_new_drafts(message):
    first, second = draft(message), draft(message, rank=2)
    draft_feedback_record(draft_id=first.id, action="dismissed", agent=SAM)

    assert drafts_shown_record(message_id=message.id, generation=0) == 1

    second.refresh_from_db()
    assert second.status == Draft.Status.SHOWN


def test_acceptance_per_source_and_per_intent_counts_seen_drafts_only(message):
    other = InboundMessage.objects.create(
        kustomer_message_id="m2", conversation_id="c2", customer_id="u2", text="refund"
    )
    outcomes = [
        (message, 1, Draft.Source.MODEL, "track_order", "used"),
        (message, 2, Draft.Source.MODEL, "track_order", "shown"),
        (message, 3, Draft.Source.SHORTCUT, "track_order", "dismissed"),
        (other, 1, Draft.Source.MODEL, "get_refund", "edited"),
        (other, 2, Draft.Source.TEMPLATE, "get_refund", None),  # never shown: not counted
    ]
    for owner, rank, source, intent, action in outcomes:
        row = draft(owner, rank=rank, source=source, intent=intent)
        if action:
            draft_feedback_record(draft_id=row.id, action=action, edited_text="changed", agent=SAM)

    by_source = {row.key: row for row in acceptance_rates(by="source")}
    by_intent = {row.key: row for row in acceptance_rates(by="intent")}

    model = by_source["model"]
    assert (model.drafts, model.seen, model.used, model.edited) == (3, 3, 1, 1)
    assert model.rate == pytest.approx(2 / 3)
    assert by_source["shortcut"].rate == 0
    assert by_source["template"].seen == 0 and by_source["template"].rate is None
    assert by_intent["track_order"].rate == pytest.approx(1 / 3)
    assert by_intent["get_refund"].rate == 1.0


def test_the_admin_shows_acceptance_per_intent_and_per_source(message, admin_client):
    used = draft(message)
    draft_feedback_record(draft_id=used.id, action="used", agent=SAM)
    dismissed = draft(message, rank=2, source=Draft.Source.TEMPLATE)
    draft_feedback_record(draft_id=dismissed.id, action="dismissed", agent=SAM)

    response = admin_client.get("/admin/replies/draft/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Per source" in page and "Per intent" in page
    assert "<td>model</td><td>1</td><td>1</td><td>1</td><td>0</td><td>0</td><td>100%</td>" in page
    assert "<td>track_order</td><td>2</td><td>2</td><td>1</td><td>0</td><td>1</td><td>50%</td>" in (
        page
    )
    filtered = admin_client.get("/admin/replies/draft/?source__exact=template").content.decode()
    assert "<td>model</td>" not in filtered


@pytest.mark.parametrize("page", ["storepolicy", "replytemplate", "draft"])
def test_the_admin_pages_open(admin_client, page):
    assert admin_client.get(f"/admin/replies/{page}/").status_code == 200
    if page != "draft":
        assert admin_client.get(f"/admin/replies/{page}/add/").status_code == 200


def test_the_migration_seeds_the_defaults_and_the_command_restores_deleted_ones():
    from django.core.management import call_command

    from copilot.replies import defaults
    from copilot.replies.models import ReplyTemplate, StorePolicy

    assert StorePolicy.objects.count() == len(defaults.POLICIES)
    assert ReplyTemplate.objects.count() == len(defaults.TEMPLATES)
    assert set(ReplyTemplate.objects.values_list("language", flat=True)) == {"en", "es", "fr", "de"}
    StorePolicy.objects.filter(key="returns").update(text="Returns within 60 days.")
    ReplyTemplate.objects.filter(intent="_general").delete()

    call_command("replies_seed")

    assert ReplyTemplate.objects.filter(intent="_general").count() == 4
    assert StorePolicy.objects.get(key="returns").text == "Returns within 60 days."
