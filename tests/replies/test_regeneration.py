"""The card's "new drafts" button: the request is stored, queued after commit and answered once,
even when the broker refuses it at first."""

import pytest

from copilot import queueing
from copilot.replies import selectors
from copilot.replies.models import Draft, DraftRegeneration
from copilot.replies.services import drafts_generate_for_message, drafts_regenerate_request
from copilot.replies.tasks import regenerate_drafts

pytestmark = pytest.mark.django_db(transaction=True)

TASK = "copilot.replies.tasks.regenerate_drafts"
WHERE_IS_IT = "Hi, where is my order? It still has not arrived."


@pytest.fixture
def message(ada, inbound):
    """A message of Ada's with its first set of drafts (from the templates: no model)."""
    message = inbound(ada, WHERE_IS_IT)
    drafts_generate_for_message(message_id=message.id)
    return message


def test_the_card_can_ask_for_new_drafts_and_the_old_ones_stay(llm, ada, inbound):
    message = inbound(ada, WHERE_IS_IT)
    drafts_generate_for_message(message_id=message.id)

    generation = drafts_regenerate_request(message_id=message.id, requested_by="agent-7")

    assert generation == 1
    shown = selectors.drafts_for_message(message_id=message.id, agent_name="Sam")
    assert shown.generation == 1 and shown.state == selectors.READY
    assert shown.drafts[0].text.endswith("Best,\nSam")
    assert Draft.objects.filter(message=message).count() == 6
    assert len(llm.requests()) == 2
    request = DraftRegeneration.objects.get(message=message)
    assert (request.generation, request.requested_by) == (1, "agent-7")
    assert request.status == DraftRegeneration.Status.DONE and request.finished_at is not None


def test_asking_again_before_the_new_drafts_exist_asks_once(message, broker):
    assert drafts_regenerate_request(message_id=message.id) == 1
    assert drafts_regenerate_request(message_id=message.id) == 1

    assert broker.tasks(TASK) == [(message.id, 1)]
    assert selectors.drafts_for_message(message_id=message.id).state == selectors.REGENERATING
    request = DraftRegeneration.objects.get(message=message)
    assert request.status == DraftRegeneration.Status.PENDING and not request.needs_queueing


def test_a_refused_publish_leaves_the_request_for_the_sweep(message, broker):
    broker.down = True

    assert drafts_regenerate_request(message_id=message.id, requested_by="agent-7") == 1

    request = DraftRegeneration.objects.get(message=message)
    assert request.status == DraftRegeneration.Status.PENDING and request.needs_queueing
    assert selectors.drafts_for_message(message_id=message.id).state == selectors.REGENERATING

    broker.down = False
    assert queueing.work_sweep()["draft regeneration"] == 1

    assert broker.tasks(TASK) == [(message.id, 1)]
    request.refresh_from_db()
    assert not request.needs_queueing
    assert "draft regeneration" not in queueing.work_sweep()  # queued once, not at every sweep


def test_running_the_task_twice_makes_one_set(message, broker):
    drafts_regenerate_request(message_id=message.id)

    first = regenerate_drafts.apply(args=(message.id, 1)).get()
    again = regenerate_drafts.apply(args=(message.id, 1)).get()

    assert first == again == Draft.objects.filter(message=message, generation=1).count() > 0
    assert DraftRegeneration.objects.get(message=message).status == DraftRegeneration.Status.DONE
    assert selectors.drafts_for_message(message_id=message.id).state == selectors.READY
    assert "draft regeneration" not in queueing.work_sweep()
