"""The actions agents take on orders from the card: refund, cancel, change the shipping address,
send the invoice again. They share one shape:

    result = order_refund(
        store_id=store.id, order_id=order.id, agent=Agent(id="u1", name="Ada Agent"),
        idempotency_key=form_key,            # one per confirmation form: a double submit acts once
        confirmed_amount=Decimal("42.00"),   # the amount the agent saw (refund_preview)
        reason="Arrived damaged", conversation_id="c1",
    )
    result.status   # "succeeded", "awaiting_approval", "running", "queued", "failed", "denied"...
    result.message  # one plain sentence for the agent, Shopify's userErrors included

Each call checks the agent's permission (SHOPIFY_ACTION_PERMISSIONS), leaves an audit row
(`OrderAction`, with its events), and, once done, an internal note on the Kustomer conversation
("Refunded $42.00 on #1042 — Arrived damaged — by Ada Agent"). None of them waits for Shopify's
cost bucket: a busy Shopify comes back as a failed, retryable result ("try again in 3 seconds")
and submitting the same key again tries again. Nothing that could act twice is retried: refunds are
retried only with the same Shopify idempotency key, and an invoice email whose sending could not
be confirmed is reported as unknown, never sent again.

What sets each kind apart is one `ActionSpec` in `ACTIONS`; the life of the audit row is in
`action_lifecycle`, the refund's sending in `refunds`.
"""

import time
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from copilot.agents import Agent
from copilot.integrations.http import IntegrationError
from copilot.integrations.shopify import (
    CANCEL_REASONS,
    MailingAddress,
    ShopifyThrottled,
    ShopifyUnavailable,
)

from . import permissions
from .action_lifecycle import (
    ORDER_CANCEL_FOLLOWING,
    ActionResult,
    ActionSpec,
    Confirmation,
    Kind,
    RetryLater,
    Status,
    action_claim,
    action_open,
    action_result,
    order_label,
    refusal,
    send_once,
    status_set,
)
from .clients import client_for_store
from .models import OrderAction
from .refunds import refund_first_send, refund_send_again
from .selectors import RefundLine

# --- what each kind sends ----------------------------------------------------------------------


def _cancel_send(action: OrderAction, client, *, resending: bool = False) -> ActionResult:
    params = action.params
    result = client.order_cancel(
        order_id=action.order_id,
        reason=params["reason"],
        restock=params["restock"],
        notify_customer=params["notify_customer"],
        staff_note=params.get("staff_note") or "",
        refund=params.get("refund", True),
    )
    if result.job is None:
        codes = {error.code for error in result.user_errors}
        if resending and "ORDER_IS_ALREADY_CANCELLED" in codes:
            # Our first, unconfirmed request did it.
            return _cancel_succeeded(action, client)
        return status_set(
            action,
            Status.FAILED,
            refusal(f"cancel {order_label(action)}", result.user_errors),
            retryable=True,
        )
    # Shopify cancels asynchronously: a background task follows the job to its end.
    return status_set(
        action,
        Status.RUNNING,
        f"Cancelling {order_label(action)}: Shopify is processing it.",
        queue=ORDER_CANCEL_FOLLOWING,
        shopify_id=result.job.id,
    )


def _cancel_send_again(action: OrderAction, client) -> ActionResult:
    """A cancellation is sent again only if the order is not cancelled already."""
    order = client.order(action.order_id)
    if order is not None and order.cancelled_at is not None:
        return _cancel_succeeded(action, client)
    return _cancel_send(action, client, resending=True)


def _cancel_succeeded(action: OrderAction, client) -> ActionResult:
    order = client.order(action.order_id)
    if order is None or order.cancelled_at is None:
        return status_set(
            action,
            Status.FAILED,
            f"Shopify finished the cancellation job, but {order_label(action)} is not cancelled.",
        )
    action.order_name = order.name or action.order_name
    action.customer_email = action.customer_email or order.email.lower()
    params = action.params
    details = [params["reason"].lower()]
    if params.get("refund"):
        details.append("refunded")
    if params.get("restock"):
        details.append("restocked")
    if params.get("notify_customer"):
        details.append("customer notified")
    return status_set(action, Status.SUCCEEDED, f"Cancelled {order.name} ({', '.join(details)}).")


def _address_send(action: OrderAction, client) -> ActionResult:
    address = action.params["address"]
    name = f"{address.get('firstName', '')} {address.get('lastName', '')}".strip()
    result = client.order_update(
        order_id=action.order_id,
        shipping_address=MailingAddress(
            name=name,
            address1=address.get("address1", ""),
            address2=address.get("address2", ""),
            city=address.get("city", ""),
            province_code=address.get("provinceCode", ""),
            zip=address.get("zip", ""),
            country_code=address.get("countryCode", ""),
            phone=address.get("phone", ""),
        ),
    )
    action.order_name = result.order_name or action.order_name
    action.customer_email = action.customer_email or result.order_email.lower()
    if result.user_errors or not result.order_id:
        return status_set(
            action,
            Status.FAILED,
            refusal(f"change the shipping address of {order_label(action)}", result.user_errors),
            retryable=True,
        )
    lines = ", ".join(action.params.get("address_lines") or [])
    return status_set(
        action,
        Status.SUCCEEDED,
        f"Changed the shipping address of {order_label(action)} to {lines}.",
    )


def _invoice_send(action: OrderAction, client) -> ActionResult:
    to = action.params.get("to") or ""
    result = client.order_invoice_send(
        action.order_id, to=to, custom_message=action.params.get("custom_message") or ""
    )
    action.order_name = result.order_name or action.order_name
    action.customer_email = action.customer_email or result.order_email.lower()
    if result.user_errors or not result.order_id:
        return status_set(
            action,
            Status.FAILED,
            refusal(f"send the invoice of {order_label(action)}", result.user_errors),
            retryable=True,
        )
    recipient = to or result.order_email or "the customer"
    action.params = {**action.params, "sent_to": recipient}
    return status_set(
        action,
        Status.SUCCEEDED,
        f"Sent the invoice of {order_label(action)} to {recipient} again.",
    )


ACTIONS: dict[str, ActionSpec] = {
    spec.kind: spec
    for spec in (
        ActionSpec(
            kind=Kind.REFUND,
            permission=permissions.REFUND,
            denied_verb="refund",
            send=refund_first_send,
            what="refund the order",
            # Sent again with the same Shopify idempotency key: it refunds once.
            send_again=refund_send_again,
        ),
        ActionSpec(
            kind=Kind.CANCEL,
            permission=permissions.CANCEL,
            denied_verb="cancel",
            send=_cancel_send,
            what="cancel the order",
            send_again=_cancel_send_again,
        ),
        ActionSpec(
            kind=Kind.ADDRESS_UPDATE,
            permission=permissions.ADDRESS_UPDATE,
            denied_verb="change the shipping address of",
            send=_address_send,
            what="change the shipping address",
            # Setting the same address twice changes nothing more: safe to send again.
            send_again=_address_send,
        ),
        ActionSpec(
            kind=Kind.INVOICE_SEND,
            permission=permissions.INVOICE_SEND,
            denied_verb="send invoices for",
            send=_invoice_send,
            what="send the invoice",
            # A second email could reach the customer: never sent again.
            send_again=None,
        ),
    )
}


def _act(kind: str, confirmation: Confirmation, *, params: dict, reason: str = "") -> ActionResult:
    spec = ACTIONS[kind]
    action, result = action_open(spec, confirmation, params=params, reason=reason)
    if result is not None:
        return result
    return send_once(spec, action)


# --- the four actions --------------------------------------------------------------------------


def order_refund(
    *,
    store_id: int,
    order_id: str,
    agent: Agent,
    idempotency_key: str,
    confirmed_amount: Decimal | str | None,
    line_items: Sequence[RefundLine] | None = None,
    refund_shipping: bool = False,
    restock: bool = False,
    reason: str = "",
    notify_customer: bool = True,
    conversation_id: str = "",
    customer_email: str = "",
) -> ActionResult:
    """Refunds an order: everything refundable when `line_items` is None, else those items and
    quantities (and the shipping with `refund_shipping`), to the original payment methods.

    Shopify computes the amount (`suggestedRefund`); if it is not `confirmed_amount` (what the
    agent confirmed from `refund_preview`) nothing is sent. Above
    SHOPIFY_REFUND_APPROVAL_THRESHOLD the refund waits for a supervisor (status
    "awaiting_approval") and is sent once approved in the admin. The same `idempotency_key`
    refunds once, however often it is submitted.
    """
    params = {
        "line_items": [
            {"line_item_id": line.line_item_id, "quantity": line.quantity, "restock": line.restock}
            for line in line_items
        ]
        if line_items is not None
        else None,
        "refund_shipping": refund_shipping,
        "restock": restock,
        "notify_customer": notify_customer,
        "confirmed_amount": str(confirmed_amount) if confirmed_amount is not None else None,
    }
    confirmation = Confirmation(
        store_id, order_id, agent, idempotency_key, conversation_id, customer_email
    )
    return _act(Kind.REFUND, confirmation, params=params, reason=reason)


def order_cancel(
    *,
    store_id: int,
    order_id: str,
    agent: Agent,
    idempotency_key: str,
    reason: str,
    restock: bool,
    notify_customer: bool,
    refund: bool = True,
    staff_note: str = "",
    conversation_id: str = "",
    customer_email: str = "",
) -> ActionResult:
    """Cancels an order that has not shipped. `reason` is Shopify's: CUSTOMER, DECLINED, FRAUD,
    INVENTORY, STAFF or OTHER; `restock` puts the items back in stock; `notify_customer` emails
    the customer; `refund` refunds the payment to its original method; `staff_note` (at most 255
    characters) is kept on the order and in the audit row.

    Shopify cancels asynchronously: the result is "running" with a message, and a background task
    follows the job to its end (then the action is "succeeded" and the note is written).
    """
    if reason not in CANCEL_REASONS:
        raise ValueError(f"reason must be one of {', '.join(CANCEL_REASONS)}")
    params = {
        "reason": reason,
        "restock": restock,
        "notify_customer": notify_customer,
        "refund": refund,
        "staff_note": staff_note[:255],
    }
    confirmation = Confirmation(
        store_id, order_id, agent, idempotency_key, conversation_id, customer_email
    )
    return _act(Kind.CANCEL, confirmation, params=params, reason=staff_note)


def order_shipping_address_update(
    *,
    store_id: int,
    order_id: str,
    agent: Agent,
    idempotency_key: str,
    address: MailingAddress,
    reason: str = "",
    conversation_id: str = "",
    customer_email: str = "",
) -> ActionResult:
    """Changes where an order ships. Shopify refuses once anything has shipped; its refusal comes
    back as the result's message."""
    params = {"address": address.to_input(), "address_lines": address.lines()}
    confirmation = Confirmation(
        store_id, order_id, agent, idempotency_key, conversation_id, customer_email
    )
    return _act(Kind.ADDRESS_UPDATE, confirmation, params=params, reason=reason)


def order_invoice_send(
    *,
    store_id: int,
    order_id: str,
    agent: Agent,
    idempotency_key: str,
    to: str = "",
    custom_message: str = "",
    conversation_id: str = "",
    customer_email: str = "",
) -> ActionResult:
    """Emails the order's invoice again (to the order's email unless `to` is given). Never sent
    twice for one key; when Shopify does not confirm in time the result is "unknown"."""
    params = {"to": to, "custom_message": custom_message}
    confirmation = Confirmation(
        store_id, order_id, agent, idempotency_key, conversation_id, customer_email
    )
    return _act(Kind.INVOICE_SEND, confirmation, params=params)


# --- in the background -------------------------------------------------------------------------


def order_action_execute(*, action_id: int) -> ActionResult:
    """Background: sends a queued action (an approved refund, or one whose first attempt Shopify
    did not confirm). Raises RetryLater when Shopify is busy or unreachable; every resend is
    safe (the same refund key, an address set again, a cancellation checked first)."""
    action = OrderAction.objects.select_related("store").get(pk=action_id)
    if not action_claim(action, from_statuses=[Status.QUEUED]):
        return action_result(action)
    if not action.store.is_connected:
        return status_set(action, Status.FAILED, f"{action.store.display_name} is not connected.")
    client = client_for_store(action.store)
    send_again = ACTIONS[action.kind].send_again
    try:
        if send_again is None:
            return status_set(
                action, Status.UNKNOWN, "This action is never sent again automatically."
            )
        return send_again(action, client)
    except (ShopifyThrottled, ShopifyUnavailable) as error:
        # Queued again, as of now: the task's retry sends it, and the sweep counts from here.
        OrderAction.objects.filter(pk=action.pk).update(
            status=Status.QUEUED, task_at=timezone.now()
        )
        countdown = error.retry_after if isinstance(error, ShopifyThrottled) else 5.0
        raise RetryLater(countdown) from error
    except IntegrationError as error:
        return status_set(action, Status.FAILED, f"Shopify refused: {error}")


def order_action_give_up(*, action_id: int) -> None:
    """Background retries ran out: the outcome in Shopify is unknown."""
    action = OrderAction.objects.select_related("store").get(pk=action_id)
    if action.status in {Status.QUEUED, Status.RUNNING}:
        status_set(
            action,
            Status.UNKNOWN,
            f"Shopify stayed unreachable: check {order_label(action)} in Shopify.",
        )


def order_cancel_follow(*, action_id: int, wait_seconds: float = 20.0) -> bool:
    """Follows a cancellation job until done (polling for at most `wait_seconds`), then checks
    the order. Returns False while the job runs on; raises transient errors for a later retry."""
    action = OrderAction.objects.select_related("store").get(pk=action_id)
    if action.status != Status.RUNNING or not action.shopify_id:
        return True
    client = client_for_store(action.store)
    deadline = time.monotonic() + wait_seconds
    pause = 0.2
    while True:
        job = client.job(action.shopify_id)
        if job.done:
            break
        if time.monotonic() + pause > deadline:
            OrderAction.objects.filter(pk=action.pk).update(updated_at=timezone.now())
            return False
        time.sleep(pause)
        pause = min(pause * 2, 2.0)
    with transaction.atomic():
        action = OrderAction.objects.select_for_update().get(pk=action_id)
        if action.status != Status.RUNNING:
            return True
        _cancel_succeeded(action, client)
    return True
