"""The card's actions against the fake Shopify: permissions, audit rows, approvals, notes,
Shopify's userErrors as sentences, and a double click that acts once."""

import threading
import time
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import PermissionDenied
from django.db import connection

from copilot.agents import Agent
from copilot.commerce import services, tasks
from copilot.commerce.models import OrderAction, RefundApproval
from copilot.commerce.permissions import agent_allowed_actions
from copilot.commerce.selectors import RefundLine
from copilot.integrations.http import PermanentError, TransientError
from copilot.integrations.shopify import MailingAddress
from copilot.sandbox.shopify.bucket import buckets
from copilot.sandbox.shopify.models import InvoiceEmail, Refund, gid
from tests.sandbox_shopify.support import forget_our_bucket, order_of, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

AGENT = Agent(id="user-1", name="Ada Agent", roles=frozenset({"agent"}))


def key() -> str:
    return str(uuid.uuid4())


def refund(store, order, *, confirmed, idempotency_key=None, **options):
    return services.order_refund(
        store_id=store.pk,
        order_id=gid("Order", order.pk),
        agent=options.pop("agent", AGENT),
        idempotency_key=idempotency_key or key(),
        confirmed_amount=confirmed,
        reason=options.pop("reason", "Arrived damaged"),
        conversation_id=options.pop("conversation_id", "conv-1"),
        **options,
    )


def test_a_refund_below_the_threshold_is_sent_audited_and_noted(store, fake_shop, kustomer_notes):
    order = order_of(fake_shop, "katherine@example.com", state="unfulfilled")  # $45 + $8

    preview = services.refund_preview(store_id=store.pk, order_id=gid("Order", order.pk))
    result = refund(store, order, confirmed=preview.amount.amount)

    assert preview.amount.display() == "$53.00"
    assert not preview.needs_approval
    assert result.succeeded
    assert result.message == f"Refunded $53.00 on {order.name}."
    assert Refund.objects.filter(order=order).count() == 1
    action = OrderAction.objects.get()
    assert (action.kind, action.status, action.amount) == ("refund", "succeeded", Decimal("53.00"))
    assert action.agent_name == "Ada Agent"
    assert [event.kind for event in action.events.all()] == [
        "requested",
        "succeeded",
        "note_written",
    ]
    assert kustomer_notes.notes == [
        {
            "conversation_id": "conv-1",
            "body": f"Refunded $53.00 on {order.name} — Arrived damaged — by Ada Agent",
            "external_id": f"copilot-shopify-action-{action.pk}-succeeded",
        }
    ]


def test_a_double_submitted_refund_refunds_once(store, fake_shop, kustomer_notes):
    order = order_of(fake_shop, "katherine@example.com", state="unfulfilled")
    same_key = key()
    results = []

    def submit():
        results.append(refund(store, order, confirmed=Decimal("53.00"), idempotency_key=same_key))
        connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    again = refund(store, order, confirmed=Decimal("53.00"), idempotency_key=same_key)

    assert Refund.objects.filter(order=order).count() == 1
    # Shopify got the confirmation's key (and the attempt) as its idempotency key.
    assert Refund.objects.get(order=order).idempotency_key == f"{same_key}.1"
    assert OrderAction.objects.count() == 1
    assert again.succeeded
    assert {r.action_id for r in results} == {again.action_id}
    assert len(kustomer_notes.notes) == 1


def test_a_partial_refund_by_line_item_with_shipping(store, fake_shop):
    order = order_of(fake_shop, "ada@example.com", state="unfulfilled")  # sweater $89, beanie $24
    beanie = order.line_items.get(title="Wool Blend Beanie")
    lines = [RefundLine(gid("LineItem", beanie.pk), 1, restock=True)]

    preview = services.refund_preview(
        store_id=store.pk, order_id=gid("Order", order.pk), line_items=lines, refund_shipping=True
    )
    result = refund(
        store, order, confirmed=preview.amount.amount, line_items=lines, refund_shipping=True
    )

    assert preview.amount.amount == Decimal("32.00")
    assert result.succeeded
    beanie.refresh_from_db()
    assert beanie.refunded_quantity == 1
    order.refresh_from_db()
    assert order.financial_status == "PARTIALLY_REFUNDED"


def test_shopifys_user_errors_reach_the_agent_as_a_sentence(store, fake_shop):
    order = order_of(fake_shop, "tim@example.com", state="partially_refunded")
    refunded = order.line_items.get(refunded_quantity=1)  # the tote: 1 bought, 1 refunded
    lines = [RefundLine(gid("LineItem", refunded.pk), 1)]

    result = refund(store, order, confirmed=Decimal("0.00"), line_items=lines)

    assert result.status == "failed"
    assert result.message == (
        f"Shopify refused to refund {order.name}: Quantity cannot be greater than the refundable "
        "quantity (0) of Waxed Canvas Tote."
    )
    assert OrderAction.objects.get().retryable


def test_a_changed_amount_is_not_refunded(store, fake_shop):
    order = order_of(fake_shop, "katherine@example.com", state="unfulfilled")

    result = refund(store, order, confirmed=Decimal("40.00"))

    assert result.status == "failed"
    assert "now comes to $53.00, not the $40.00 you confirmed" in result.message
    assert not Refund.objects.filter(order=order).exists()


def test_a_large_refund_waits_for_approval_then_is_sent(store, fake_shop, kustomer_notes):
    order = order_of(fake_shop, "alan@example.com", state="unfulfilled")  # $259
    supervisor = User.objects.create_user("sam", first_name="Sam", last_name="Super")
    supervisor.user_permissions.add(Permission.objects.get(codename="decide_refundapproval"))
    supervisor = User.objects.get(pk=supervisor.pk)

    requested = refund(store, order, confirmed=Decimal("259.00"), reason="Never arrived")
    approval = RefundApproval.objects.get()
    approved = services.refund_approval_decide(
        approval_id=approval.pk, user=supervisor, approve=True
    )

    assert requested.status == "awaiting_approval"
    assert "need a supervisor's approval" in requested.message
    assert approved.status == "queued"  # sent by the background task (in process here)
    action = OrderAction.objects.get()
    assert action.status == "succeeded"
    assert Refund.objects.filter(order=order).count() == 1
    assert [note["body"] for note in kustomer_notes.notes] == [
        f"Refund of $259.00 on {order.name} is waiting for a supervisor's approval — Never arrived"
        " — requested by Ada Agent",
        f"Refunded $259.00 on {order.name} — Never arrived — by Ada Agent, approved by Sam Super",
    ]


def test_a_rejected_refund_is_not_sent(store, fake_shop, kustomer_notes):
    order = order_of(fake_shop, "alan@example.com", state="unfulfilled")
    supervisor = User.objects.create_superuser("root", password="x")
    refund(store, order, confirmed=Decimal("259.00"))
    approval = RefundApproval.objects.get()

    rejected = services.refund_approval_decide(
        approval_id=approval.pk, user=supervisor, approve=False, comment="Ship a replacement"
    )
    twice = services.refund_approval_decide(approval_id=approval.pk, user=supervisor, approve=True)

    assert rejected.status == twice.status == "rejected"
    assert not Refund.objects.filter(order=order).exists()
    assert "was not approved by root: Ship a replacement" in kustomer_notes.notes[-1]["body"]


def test_only_supervisors_decide_approvals(store, fake_shop):
    order = order_of(fake_shop, "alan@example.com", state="unfulfilled")
    refund(store, order, confirmed=Decimal("259.00"))

    with pytest.raises(PermissionDenied):
        services.refund_approval_decide(
            approval_id=RefundApproval.objects.get().pk,
            user=User.objects.create_user("agent"),
            approve=True,
        )


def test_an_agent_without_permission_is_refused_and_audited(
    store, fake_shop, settings, fake_requests
):
    settings.SHOPIFY_ACTION_PERMISSIONS = {
        "refund": ["role:supervisor", "user:boss"],
        "cancel": ["*"],
    }
    order = order_of(fake_shop, "katherine@example.com", state="unfulfilled")

    result = refund(store, order, confirmed=Decimal("53.00"))

    assert result.status == "denied"
    assert result.message == "You are not allowed to refund orders. Ask a supervisor."
    assert fake_requests.count == 0
    assert OrderAction.objects.get().status == "denied"
    assert agent_allowed_actions(AGENT) == {"cancel"}
    assert "refund" in agent_allowed_actions(Agent(id="boss", name="Boss"))


def test_a_busy_shopify_changes_nothing_and_the_same_confirmation_can_try_again(store, fake_shop):
    order = order_of(fake_shop, "katherine@example.com", state="unfulfilled")
    same_key = key()
    buckets.set_available(fake_shop.domain, 0)

    busy = refund(store, order, confirmed=Decimal("53.00"), idempotency_key=same_key)
    buckets.set_available(fake_shop.domain, 2000)
    forget_our_bucket()  # as time would: the bucket refilled
    retried = refund(store, order, confirmed=Decimal("53.00"), idempotency_key=same_key)

    assert busy.status == "failed"
    assert busy.message.startswith("Shopify is busy right now, so nothing was changed. Try again")
    assert retried.succeeded
    assert retried.action_id == busy.action_id
    assert Refund.objects.filter(order=order).count() == 1


@pytest.fixture
def slow_mutations(monkeypatch):
    """Shopify takes 0.6 s over every mutation (reads stay quick), like a slow network."""
    from copilot.sandbox.shopify import schema

    run = schema.run

    def slow_run(**kwargs):
        if kwargs["query"].lstrip().startswith("mutation"):
            time.sleep(0.6)
        return run(**kwargs)

    monkeypatch.setattr(schema, "run", slow_run)


@pytest.fixture
def eager_retries():
    """Tasks run in process retry in process (instead of raising Retry at the caller)."""
    from copilot.celery import app

    propagates = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = propagates


def test_an_unconfirmed_refund_is_resent_with_the_same_key_and_refunds_once(
    store, fake_shop, settings, slow_mutations
):
    order = order_of(fake_shop, "katherine@example.com", state="unfulfilled")
    preview = services.refund_preview(store_id=store.pk, order_id=gid("Order", order.pk))
    settings.SHOPIFY_CARD_TIMEOUT_SECONDS = 0.3  # we stop waiting before Shopify answers

    result = refund(store, order, confirmed=preview.amount.amount)

    assert result.status == "queued"
    assert wait_until(lambda: OrderAction.objects.get().status == "succeeded", timeout=10)
    assert Refund.objects.filter(order=order).count() == 1


def test_cancel_follows_the_job_to_its_end(store, fake_shop, kustomer_notes):
    order = order_of(fake_shop, "ada@example.com", state="unfulfilled")

    result = services.order_cancel(
        store_id=store.pk,
        order_id=gid("Order", order.pk),
        agent=AGENT,
        idempotency_key=key(),
        reason="CUSTOMER",
        restock=True,
        notify_customer=True,
        staff_note="Ordered the wrong size",
        conversation_id="conv-7",
    )

    assert result.status == "running"  # the agent sees it is under way
    action = OrderAction.objects.get()
    assert action.status == "succeeded"  # followed in the background (in process here)
    assert (
        action.result_message
        == f"Cancelled {order.name} (customer, refunded, restocked, customer notified)."
    )
    order.refresh_from_db()
    assert order.cancelled_at is not None
    assert kustomer_notes.notes[0]["body"] == (
        f"Cancelled {order.name} (customer, refunded, restocked, customer notified)"
        " — Ordered the wrong size — by Ada Agent"
    )


def test_cancelling_a_cancelled_order_says_so(store, fake_shop):
    order = order_of(fake_shop, "grace@example.com", state="cancelled")

    result = services.order_cancel(
        store_id=store.pk,
        order_id=gid("Order", order.pk),
        agent=AGENT,
        idempotency_key=key(),
        reason="CUSTOMER",
        restock=False,
        notify_customer=False,
    )

    assert result.status == "failed"
    assert (
        result.message == "Shopify refused to cancel the order: Order has already been cancelled."
    )


NEW_ADDRESS = MailingAddress(
    name="Ada Lovelace",
    address1="1 New Street",
    city="Salem",
    province_code="OR",
    zip="97301",
    country_code="US",
)


def test_the_shipping_address_changes_before_fulfillment(store, fake_shop, kustomer_notes):
    order = order_of(fake_shop, "ada@example.com", state="unfulfilled")

    result = services.order_shipping_address_update(
        store_id=store.pk,
        order_id=gid("Order", order.pk),
        agent=AGENT,
        idempotency_key=key(),
        address=NEW_ADDRESS,
        reason="Customer moved",
        conversation_id="conv-2",
    )

    assert result.succeeded
    assert (
        result.message
        == f"Changed the shipping address of {order.name} to Ada Lovelace, 1 New Street, "
        "Salem OR 97301, US."
    )
    order.refresh_from_db()
    assert order.shipping_address["address1"] == "1 New Street"
    assert kustomer_notes.notes[0]["body"].endswith("— Customer moved — by Ada Agent")


def test_the_shipping_address_of_a_shipped_order_is_refused_in_a_sentence(store, fake_shop):
    order = order_of(fake_shop, "ada@example.com", state="fulfilled")

    result = services.order_shipping_address_update(
        store_id=store.pk,
        order_id=gid("Order", order.pk),
        agent=AGENT,
        idempotency_key=key(),
        address=NEW_ADDRESS,
    )

    assert result.status == "failed"
    assert "cannot be changed because the order has been fulfilled" in result.message


def test_the_invoice_is_sent_once_per_confirmation(store, fake_shop, kustomer_notes):
    order = order_of(fake_shop, "grace@example.com", state="fulfilled")
    same_key = key()

    first = services.order_invoice_send(
        store_id=store.pk,
        order_id=gid("Order", order.pk),
        agent=AGENT,
        idempotency_key=same_key,
        conversation_id="conv-3",
    )
    second = services.order_invoice_send(
        store_id=store.pk,
        order_id=gid("Order", order.pk),
        agent=AGENT,
        idempotency_key=same_key,
        conversation_id="conv-3",
    )

    assert first.succeeded and second.succeeded
    assert first.message == f"Sent the invoice of {order.name} to grace@example.com again."
    assert InvoiceEmail.objects.count() == 1
    assert len(kustomer_notes.notes) == 1


def test_an_unconfirmed_invoice_is_never_sent_again(store, fake_shop, settings):
    order = order_of(fake_shop, "grace@example.com", state="fulfilled")
    settings.SHOPIFY_CARD_TIMEOUT_SECONDS = 0.3
    settings.SANDBOX_SHOPIFY_LATENCY_MS = 600
    same_key = key()

    result = services.order_invoice_send(
        store_id=store.pk, order_id=gid("Order", order.pk), agent=AGENT, idempotency_key=same_key
    )
    settings.SANDBOX_SHOPIFY_LATENCY_MS = 0
    again = services.order_invoice_send(
        store_id=store.pk, order_id=gid("Order", order.pk), agent=AGENT, idempotency_key=same_key
    )

    assert result.status == again.status == "unknown"
    assert "Check the order's timeline" in result.message
    assert wait_until(lambda: InvoiceEmail.objects.count() == 1)  # the first one got through


def test_the_note_task_retries_only_transient_errors_and_writes_one_note(
    store, fake_shop, kustomer_notes, eager_retries
):
    order = order_of(fake_shop, "katherine@example.com", state="unfulfilled")
    kustomer_notes.failures = [TransientError("Kustomer timed out")]

    refund(store, order, confirmed=Decimal("53.00"))  # the note task retries once, then writes
    action = OrderAction.objects.get()
    tasks.write_action_note.delay(action.pk)  # a redelivery

    assert len(kustomer_notes.notes) == 1
    assert kustomer_notes.notes[0]["external_id"] == f"copilot-shopify-action-{action.pk}-succeeded"


def test_a_permanent_note_error_is_recorded_not_retried(store, fake_shop, kustomer_notes):
    order = order_of(fake_shop, "katherine@example.com", state="unfulfilled")
    kustomer_notes.failures = [PermanentError("conversation not found")]

    refund(store, order, confirmed=Decimal("53.00"))

    action = OrderAction.objects.get()
    assert action.status == "succeeded"
    assert kustomer_notes.notes == []
    assert action.events.filter(kind="note_failed").exists()


def test_a_confirmation_key_cannot_be_reused_for_another_action(store, fake_shop):
    order = order_of(fake_shop, "grace@example.com", state="fulfilled")
    same_key = key()
    services.order_invoice_send(
        store_id=store.pk, order_id=gid("Order", order.pk), agent=AGENT, idempotency_key=same_key
    )

    result = refund(store, order, confirmed=Decimal("1.00"), idempotency_key=same_key)

    assert result.status == "failed"
    assert "already used for another action" in result.message
    assert not Refund.objects.filter(order=order, idempotency_key__isnull=False).exists()
