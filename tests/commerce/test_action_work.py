"""The background work of order actions: queued after commit, left for the sweep when the broker
refuses it, taken over when its runner died, and one note per status even when retried."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone
from kombu.exceptions import OperationalError

from copilot import queueing
from copilot.agents import Agent
from copilot.commerce import services, tasks
from copilot.commerce.models import OrderAction, RefundApproval
from copilot.sandbox.shopify.bucket import buckets
from copilot.sandbox.shopify.models import Refund, gid
from tests.sandbox_shopify.support import order_of

pytestmark = pytest.mark.django_db(transaction=True)

AGENT = Agent(id="user-1", name="Ada Agent", roles=frozenset({"agent"}))
EXECUTE = "copilot.commerce.tasks.execute_order_action"
WRITE_NOTE = "copilot.commerce.tasks.write_action_note"


class Broker:
    """Stands in for Celery's publishing: records what is sent, or refuses it while `down`."""

    def __init__(self) -> None:
        self.down = False
        self.sent: list[tuple[str, tuple]] = []

    def send_task(self, name, args=None, **options):
        if self.down:
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        self.sent.append((name, tuple(args or ())))

    def sent_of(self, task: str) -> list[tuple]:
        return [args for name, args in self.sent if name == task]


@pytest.fixture
def broker(monkeypatch):
    """Tasks are published (not run in process), to a broker the test controls."""
    from copilot.celery import app

    broker = Broker()
    monkeypatch.setattr(queueing.current_app, "send_task", broker.send_task)
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield broker
    app.conf.task_always_eager = eager


def refund(store, order, *, confirmed: str, conversation_id: str = "") -> OrderAction:
    services.order_refund(
        store_id=store.pk,
        order_id=gid("Order", order.pk),
        agent=AGENT,
        idempotency_key=str(uuid.uuid4()),
        confirmed_amount=Decimal(confirmed),
        reason="Never arrived",
        conversation_id=conversation_id,
    )
    return OrderAction.objects.get()


def awaiting_approval(store, fake_shop):
    """A refund above the threshold, waiting for a supervisor; returns it and its order."""
    order = order_of(fake_shop, "alan@example.com", state="unfulfilled")  # $259
    return refund(store, order, confirmed="259.00"), order


def approve(action: OrderAction):
    supervisor = User.objects.create_user("sam", first_name="Sam", last_name="Super")
    supervisor.user_permissions.add(Permission.objects.get(codename="decide_refundapproval"))
    supervisor = User.objects.get(pk=supervisor.pk)
    approval = RefundApproval.objects.get(action=action)
    return services.refund_approval_decide(approval_id=approval.pk, user=supervisor, approve=True)


def test_an_approved_refund_the_broker_refused_is_queued_by_the_sweep(store, fake_shop, broker):
    action, order = awaiting_approval(store, fake_shop)
    broker.down = True

    approved = approve(action)
    action.refresh_from_db()
    refused_then = (action.status, action.needs_queueing)
    broker.down = False
    swept = queueing.work_sweep()
    action.refresh_from_db()

    assert approved.status == "queued"  # the supervisor is not told about the broker
    assert refused_then == ("queued", True)
    assert broker.sent_of(EXECUTE) == [(action.pk,)]
    assert swept["order action"] == 1
    assert not action.needs_queueing
    assert queueing.work_sweep().get("order action") is None  # queued once, not at every sweep

    tasks.execute_order_action.apply(args=(action.pk,))  # the worker gets it

    action.refresh_from_db()
    assert action.status == "succeeded"
    assert Refund.objects.filter(order=order).count() == 1


def test_a_note_whose_task_was_refused_stays_pending_until_the_sweep_writes_it(
    store, fake_shop, fake_kustomer, broker
):
    order = order_of(fake_shop, "grace@example.com", state="fulfilled")
    broker.down = True

    result = services.order_invoice_send(
        store_id=store.pk,
        order_id=gid("Order", order.pk),
        agent=AGENT,
        idempotency_key=str(uuid.uuid4()),
        conversation_id=fake_kustomer.conversation_id,
    )
    action = OrderAction.objects.get()
    pending_then = (action.note_pending, action.needs_queueing)
    broker.down = False
    queueing.work_sweep()
    for args in broker.sent_of(WRITE_NOTE):
        tasks.write_action_note.apply(args=args)  # the worker gets it
    action.refresh_from_db()

    assert result.succeeded  # the agent is not told about the broker
    assert pending_then == (True, True)
    assert broker.sent_of(WRITE_NOTE) == [(action.pk,)]
    assert [note.body for note in fake_kustomer.notes()] == [
        f"Sent the invoice of {order.name} again to grace@example.com — by Ada Agent"
    ]
    assert (action.note_pending, action.notes_written) == (False, ["succeeded"])
    assert queueing.work_sweep().get("order action note") is None


def test_a_retried_note_that_kustomer_already_has_is_recorded_as_written(
    store, fake_shop, fake_kustomer
):
    order = order_of(fake_shop, "katherine@example.com", state="unfulfilled")  # $53
    action = refund(store, order, confirmed="53.00", conversation_id=fake_kustomer.conversation_id)
    written_first = len(fake_kustomer.notes())
    # Kustomer wrote the note but its answer was lost: the row still owes it.
    OrderAction.objects.filter(pk=action.pk).update(notes_written=[], note_pending=True)

    tasks.write_action_note.apply(args=(action.pk,))

    action.refresh_from_db()
    assert written_first == 1
    assert len(fake_kustomer.notes()) == 1
    assert (action.note_pending, action.notes_written) == (False, ["succeeded"])
    assert not action.events.filter(kind="note_failed").exists()


def test_a_busy_shopify_puts_the_action_back_in_the_queue_as_just_queued(store, fake_shop, broker):
    action, order = awaiting_approval(store, fake_shop)
    approve(action)
    long_ago = timezone.now() - timedelta(hours=1)
    OrderAction.objects.filter(pk=action.pk).update(task_at=long_ago)
    buckets.set_available(fake_shop.domain, 0)

    with pytest.raises(services.RetryLater):
        services.order_action_execute(action_id=action.pk)

    action.refresh_from_db()
    assert action.status == "queued"
    assert action.task_at > long_ago  # for the sweep: queued just now, by the task's retry
    assert queueing.work_sweep().get("order action") is None
    assert not Refund.objects.filter(order=order).exists()


def test_a_running_action_whose_runner_died_is_taken_over(store, fake_shop, broker):
    action, order = awaiting_approval(store, fake_shop)
    approve(action)
    OrderAction.objects.filter(pk=action.pk).update(status="running", updated_at=timezone.now())

    while_alive = services.order_action_execute(action_id=action.pk)
    OrderAction.objects.filter(pk=action.pk).update(
        updated_at=timezone.now() - timedelta(minutes=6)
    )
    after_lease = services.order_action_execute(action_id=action.pk)

    assert while_alive.status == "running"
    assert after_lease.status == "succeeded"
    assert Refund.objects.filter(order=order).count() == 1
