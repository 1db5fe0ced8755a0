"""The life of an order action's audit row, the same for every kind of action.

A confirmation from the card opens one row (`action_open`: a repeated key finds the row again; a
refused agent or a store that is not connected ends there). One request claims it
(`action_claim`) and talks to Shopify. Every change of status goes through `status_set`, which
records the event, forgets the customer's cached orders once Shopify changed something, and
queues after commit the work the new status calls for: the note the conversation is owed and,
when the caller says so, the action's execution or the following of a cancellation job. That
work is declared below for `copilot.queueing`, so a task the broker refused or lost is queued
again by the sweep. `failure` turns an error met while the agent waits into a sentence.
"""

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from copilot import queueing
from copilot.agents import Agent
from copilot.integrations.http import IntegrationError
from copilot.integrations.shopify import (
    Money,
    ProtectedCustomerDataError,
    ShopifyAccessDenied,
    ShopifyAuthError,
    ShopifyClient,
    ShopifyThrottled,
    ShopifyUnavailable,
    UserError,
    order_gid,
)

from . import order_cache
from .clients import client_for_store
from .models import OrderAction, OrderActionEvent, Store
from .permissions import agent_may
from .stores import store_token_rejected

logger = logging.getLogger(__name__)

Status = OrderAction.Status
Kind = OrderAction.Kind

# The statuses that leave an internal note on the action's Kustomer conversation.
NOTE_STATUSES = {Status.SUCCEEDED, Status.AWAITING_APPROVAL, Status.REJECTED}
FINAL_STATUSES = {Status.SUCCEEDED, Status.FAILED, Status.REJECTED, Status.UNKNOWN, Status.DENIED}
# A background run that has held an action this long without finishing died: take it over.
RUNNING_LEASE = timedelta(minutes=5)

ORDER_ACTION_EXECUTION = queueing.Work(
    name="order action",
    task="copilot.commerce.tasks.execute_order_action",
    model=OrderAction,
    unfinished=Q(status=Status.QUEUED),
)
ORDER_CANCEL_FOLLOWING = queueing.Work(
    name="order cancellation",
    task="copilot.commerce.tasks.follow_order_cancel",
    model=OrderAction,
    unfinished=Q(kind=Kind.CANCEL, status=Status.RUNNING) & ~Q(shopify_id=""),
)
ORDER_ACTION_NOTE = queueing.Work(
    name="order action note",
    task="copilot.commerce.tasks.write_action_note",
    model=OrderAction,
    unfinished=Q(note_pending=True),
)


@dataclass(frozen=True)
class ActionResult:
    """What the card shows after an action."""

    action_id: int | None
    status: str
    message: str

    @property
    def succeeded(self) -> bool:
        return self.status == Status.SUCCEEDED

    @property
    def in_progress(self) -> bool:
        """Accepted, not finished: waiting for approval, queued, or running (poll it with
        `selectors.order_action_get(action_id)`)."""
        return self.status in {
            Status.PENDING,
            Status.AWAITING_APPROVAL,
            Status.QUEUED,
            Status.RUNNING,
        }


class RetryLater(Exception):
    """Background work that should run again in `countdown` seconds."""

    def __init__(self, countdown: float) -> None:
        super().__init__(f"retry in {countdown:.1f} s")
        self.countdown = countdown


Send = Callable[[OrderAction, ShopifyClient], ActionResult]


@dataclass(frozen=True)
class ActionSpec:
    """What sets one kind of action apart; everything else the four kinds share."""

    kind: str
    permission: str  # its name in SHOPIFY_ACTION_PERMISSIONS
    denied_verb: str  # "You are not allowed to <denied_verb> orders."
    send: Send  # the first send, while the agent waits
    what: str  # names it in a failure: "Shopify refused to <what>: ..."
    # Sends a queued action in the background: an approved refund, or a first send that Shopify
    # did not confirm. None for an action that could act twice if sent again.
    send_again: Send | None

    @property
    def resend(self) -> str:
        """What a send that Shopify did not confirm becomes (see `failure`)."""
        return "queue" if self.send_again is not None else "unknown"


@dataclass(frozen=True)
class Confirmation:
    """One confirmation from the card: who acts on which order, from which conversation.
    `idempotency_key` is the confirmation form's (a double submit acts once)."""

    store_id: int
    order_id: str
    agent: Agent
    idempotency_key: str
    conversation_id: str = ""
    customer_email: str = ""


def action_result(action: OrderAction) -> ActionResult:
    return ActionResult(action_id=action.pk, status=action.status, message=action.result_message)


def action_event(action: OrderAction, kind: str, message: str = "", actor: str = "") -> None:
    OrderActionEvent.objects.create(action=action, kind=kind, message=message[:2000], actor=actor)


def order_label(action: OrderAction) -> str:
    return action.order_name or "the order"


def amount_display(action: OrderAction) -> str:
    if action.amount is None:
        return ""
    return Money(action.amount, action.currency).display()


def note_owed(action: OrderAction) -> bool:
    """Whether the conversation is owed a note for the action's current status."""
    return (
        bool(action.conversation_id)
        and action.status in NOTE_STATUSES
        and action.status not in (action.notes_written or [])
    )


def status_set(
    action: OrderAction,
    status: str,
    message: str,
    *,
    retryable: bool = False,
    queue: queueing.Work | None = None,
    **fields,
) -> ActionResult:
    """Moves the action to `status` and records the event. After commit: forgets the customer's
    cached orders when something changed in Shopify, queues the note the new status owes, and
    queues `queue` (the action's execution, or the following of its cancellation job)."""
    action.status = status
    action.result_message = message
    action.retryable = retryable
    for name, value in fields.items():
        setattr(action, name, value)
    if status in FINAL_STATUSES:
        action.completed_at = timezone.now()
    action.note_pending = note_owed(action)
    if action.note_pending or queue is not None:
        # Its task is queued now: the sweep leaves the row alone until that task could be lost.
        action.task_at = timezone.now()
    action.save()
    action_event(action, status, message)
    if status == Status.SUCCEEDED and action.customer_email:
        store = action.store
        email = action.customer_email
        # Forgetting cached orders must never turn a done action into an error for the agent.
        transaction.on_commit(lambda: order_cache.drop(store, email), robust=True)
    if action.note_pending:
        queueing.enqueue_on_commit(ORDER_ACTION_NOTE, action.pk)
    if queue is not None:
        queueing.enqueue_on_commit(queue, action.pk)
    return action_result(action)


def action_open(
    spec: ActionSpec, confirmation: Confirmation, *, params: dict, reason: str = ""
) -> tuple[OrderAction | None, ActionResult | None]:
    """The audit row of this confirmation: (row to act on, None), or (None, result to return as
    is) for a repeated key, a refused agent or a store that is not connected."""
    key = (confirmation.idempotency_key or "").strip()
    if not 8 <= len(key) <= 64:
        raise ValueError("idempotency_key must be 8 to 64 characters (a UUID from the card).")
    store = Store.objects.filter(pk=confirmation.store_id).first()
    if store is None or not store.is_connected:
        return None, ActionResult(None, Status.FAILED, "This store is not connected.")
    agent = confirmation.agent
    order_id = order_gid(confirmation.order_id)
    try:
        with transaction.atomic():
            action = OrderAction.objects.create(
                store=store,
                kind=spec.kind,
                idempotency_key=key,
                order_id=order_id,
                customer_email=(confirmation.customer_email or "").strip().lower(),
                agent_id=agent.id,
                agent_name=agent.name,
                agent_roles=sorted(agent.roles),
                conversation_id=confirmation.conversation_id or "",
                reason=reason or "",
                params=params,
            )
    except IntegrityError:
        action = OrderAction.objects.get(idempotency_key=key)
        if action.kind != spec.kind or action.order_id != order_id:
            return None, ActionResult(
                action.pk,
                Status.FAILED,
                "This confirmation was already used for another action: open the action again.",
            )
        if action.status == Status.FAILED and action.retryable:
            # Nothing happened in Shopify last time: the same confirmation may try again.
            reopened = OrderAction.objects.filter(
                pk=action.pk, status=Status.FAILED, retryable=True
            ).update(status=Status.PENDING, retryable=False, completed_at=None, params=params)
            if reopened:
                action.refresh_from_db()
                action_event(action, "retried", actor=agent.name)
                return action, None
        return None, action_result(action)
    action_event(action, "requested", actor=agent.name)
    if not agent_may(agent, spec.permission):
        message = f"You are not allowed to {spec.denied_verb} orders. Ask a supervisor."
        return None, status_set(action, Status.DENIED, message)
    return action, None


def action_claim(action: OrderAction, *, from_statuses: Sequence[str]) -> bool:
    """Takes the action to RUNNING if nobody else did; a RUNNING action whose runner vanished
    (no update for RUNNING_LEASE) can be taken over."""
    now = timezone.now()
    claimed = OrderAction.objects.filter(pk=action.pk, status__in=list(from_statuses)).update(
        status=Status.RUNNING, attempts=F("attempts") + 1, updated_at=now
    )
    if not claimed:
        claimed = OrderAction.objects.filter(
            pk=action.pk, status=Status.RUNNING, updated_at__lt=now - RUNNING_LEASE
        ).update(attempts=F("attempts") + 1, updated_at=now)
    if claimed:
        action.refresh_from_db()
    return bool(claimed)


def send_once(spec: ActionSpec, action: OrderAction) -> ActionResult:
    """Sends a newly opened action with `spec.send` if this request is the one that takes it out
    of "pending" (a concurrent duplicate gets the action as the first request left it); an error
    becomes the action's failure."""
    if not action_claim(action, from_statuses=[Status.PENDING]):
        action.refresh_from_db()
        return action_result(action)
    # The card's short timeout: an agent is waiting for the answer.
    client = client_for_store(action.store, timeout=settings.SHOPIFY_CARD_TIMEOUT_SECONDS)
    try:
        return spec.send(action, client)
    except Exception as error:
        return failure(action, error, what=spec.what, resend=spec.resend)


def refusal(what: str, errors: Sequence[UserError]) -> str:
    """Shopify's userErrors as one sentence."""
    details = "; ".join(error.message.strip().rstrip(".") for error in errors if error.message)
    return f"Shopify refused to {what}: {details or 'no reason given'}."


def failure(action: OrderAction, error: Exception, *, what: str, resend: str) -> ActionResult:
    """A request-level failure while the agent waits, as a sentence.

    `resend` says what to do when Shopify may have received the request without our knowing
    the outcome: "queue" (safe to send again: it cannot act twice), or "unknown" (it could).
    """
    store_name = action.store.display_name
    if isinstance(error, ShopifyThrottled):
        seconds = max(math.ceil(error.retry_after), 1)
        return status_set(
            action,
            Status.FAILED,
            f"Shopify is busy right now, so nothing was changed. Try again in {seconds} "
            f"second{'s' if seconds != 1 else ''}.",
            retryable=True,
        )
    if isinstance(error, ShopifyUnavailable):
        if not error.reached_shopify:
            return status_set(
                action,
                Status.FAILED,
                f"{store_name} could not be reached, so nothing was changed. "
                "Try again in a moment.",
                retryable=True,
            )
        if resend == "queue":
            return status_set(
                action,
                Status.QUEUED,
                f"Shopify did not confirm in time. The copilot is making sure it is done exactly "
                f"once and will note the result on the conversation ({what}).",
                queue=ORDER_ACTION_EXECUTION,
            )
        return status_set(
            action,
            Status.UNKNOWN,
            f"Shopify did not confirm in time whether it could {what}. Check the order's timeline "
            "in Shopify before trying again.",
        )
    if isinstance(error, ShopifyAuthError):
        store_token_rejected(store_id=action.store_id, detail=str(error))
        return status_set(
            action,
            Status.FAILED,
            f"{store_name} refused the copilot's access: an admin needs to reconnect the store.",
        )
    if isinstance(error, ProtectedCustomerDataError):
        return status_set(
            action,
            Status.FAILED,
            f"{store_name} has not approved the copilot for protected customer data.",
        )
    if isinstance(error, ShopifyAccessDenied | IntegrationError):
        return status_set(action, Status.FAILED, f"Shopify refused to {what}: {error}")
    # A bug of ours: say so instead of breaking the card, and leave the trace in the log.
    logger.error("order action %s failed", action.pk, exc_info=error)
    return status_set(
        action,
        Status.UNKNOWN,
        f"Something went wrong in the copilot while trying to {what}. Check the order in "
        "Shopify before trying again.",
    )
