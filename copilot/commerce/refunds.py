"""How a refund is sent: checked against the amount the agent confirmed, held for a supervisor
above SHOPIFY_REFUND_APPROVAL_THRESHOLD, and kept on the row as the exact request sent, so that a
resend is the same request with the same Shopify idempotency key and refunds once."""

from decimal import Decimal

from django.db import transaction

from copilot.integrations.shopify import (
    Money,
    RefundLineItem,
    RefundSuggestion,
    ShopifyUnavailable,
    SuggestedTransaction,
)

from .action_lifecycle import (
    ActionResult,
    Status,
    amount_display,
    failure,
    order_label,
    refusal,
    status_set,
)
from .models import OrderAction, RefundApproval
from .selectors import refund_approval_threshold


def _requested_lines(action: OrderAction) -> list[RefundLineItem] | None:
    """The line items the agent picked; None for everything refundable."""
    requested = action.params.get("line_items")
    if requested is None:
        return None
    return [
        RefundLineItem(item["line_item_id"], int(item["quantity"]), bool(item["restock"]))
        for item in requested
    ]


def _refund_request(action: OrderAction, suggestion: RefundSuggestion) -> dict:
    """What refundCreate will send, kept on the row so that a resend is exactly the same request
    with the same Shopify idempotency key. A new request (after Shopify refused the previous one,
    or nothing was sent) gets a key of its own, since Shopify may remember a key's first answer."""
    requested = action.params.get("line_items")
    restock = bool(action.params.get("restock"))
    if requested is None:
        lines = [
            {"line_item_id": item.line_item_id, "quantity": item.quantity, "restock": restock}
            for item in suggestion.line_items
        ]
    else:
        lines = [
            {
                "line_item_id": item["line_item_id"],
                "quantity": int(item["quantity"]),
                "restock": bool(item.get("restock", restock)),
            }
            for item in requested
        ]
    shipping = suggestion.shipping.amount if suggestion.shipping else Decimal("0")
    return {
        # `attempts` grows with every run of the action, so each new request has its own key.
        "idempotency_key": f"{action.idempotency_key}.{action.attempts}",
        "line_items": lines,
        "shipping_amount": str(shipping) if shipping > 0 else None,
        "transactions": [
            {
                "parent_id": t.parent_id,
                "gateway": t.gateway,
                "amount": str(t.amount.amount),
                "currency": t.amount.currency_code,
            }
            for t in suggestion.transactions
        ],
        "notify": bool(action.params.get("notify_customer")),
        "note": action.reason[:255],
    }


def _refund_send(action: OrderAction, client) -> ActionResult:
    """Sends the refund kept on the row, with the row's key as Shopify's idempotency key."""
    request = action.params["refund_request"]
    result = client.refund_create(
        order_id=action.order_id,
        idempotency_key=request["idempotency_key"],
        line_items=[
            RefundLineItem(item["line_item_id"], item["quantity"], item["restock"])
            for item in request["line_items"]
        ],
        shipping_amount=Decimal(request["shipping_amount"]) if request["shipping_amount"] else None,
        transactions=[
            SuggestedTransaction(
                parent_id=t["parent_id"],
                gateway=t["gateway"],
                kind="REFUND",
                amount=Money(Decimal(t["amount"]), t["currency"]),
            )
            for t in request["transactions"]
        ],
        notify=request["notify"],
        note=request["note"],
    )
    if result.user_errors or result.refund is None:
        return status_set(
            action,
            Status.FAILED,
            refusal(f"refund {order_label(action)}", result.user_errors),
            retryable=True,
        )
    total = result.refund.total
    return status_set(
        action,
        Status.SUCCEEDED,
        f"Refunded {total.display() if total else amount_display(action)} on "
        f"{order_label(action)}.",
        shopify_id=result.refund.id,
        amount=total.amount if total else action.amount,
        currency=total.currency_code if total else action.currency,
    )


def refund_first_send(action: OrderAction, client) -> ActionResult:
    """The card's refund: Shopify computes the amount (`suggestedRefund`); a different amount
    than the agent confirmed sends nothing, an amount above the threshold waits for approval,
    and anything else is sent at once."""
    params = action.params
    try:
        suggestion = client.suggested_refund(
            action.order_id,
            line_items=_requested_lines(action),
            refund_shipping=bool(params.get("refund_shipping")),
        )
    except Exception as error:
        # Only a read so far: whatever happened, nothing changed in Shopify.
        if isinstance(error, ShopifyUnavailable):
            error.reached_shopify = False
        return failure(action, error, what=f"refund {action.order_id}", resend="unknown")
    if suggestion is None:
        return status_set(action, Status.FAILED, f"{action.store.display_name} has no such order.")
    action.order_name = suggestion.order_name
    action.customer_email = action.customer_email or suggestion.order_email.lower()
    action.amount = suggestion.amount.amount
    action.currency = suggestion.amount.currency_code
    label = order_label(action)
    confirmed_amount = params.get("confirmed_amount")
    if confirmed_amount is not None and Decimal(confirmed_amount) != action.amount:
        confirmed = Money(Decimal(confirmed_amount), action.currency).display()
        return status_set(
            action,
            Status.FAILED,
            f"The refund now comes to {suggestion.amount.display()}, not the {confirmed} you "
            f"confirmed: {label} changed. Check it and confirm again.",
            retryable=True,
        )
    if action.amount <= 0 and params.get("line_items") is None:
        return status_set(action, Status.FAILED, f"There is nothing left to refund on {label}.")
    action.params = {**action.params, "refund_request": _refund_request(action, suggestion)}
    threshold = refund_approval_threshold()
    if action.amount > threshold:
        with transaction.atomic():
            RefundApproval.objects.get_or_create(action=action)
            return status_set(
                action,
                Status.AWAITING_APPROVAL,
                f"Refunds above {Money(threshold, action.currency).display()} need a supervisor's "
                f"approval: the refund of {amount_display(action)} on {label} is waiting for one.",
            )
    action.params = {**action.params, "refund_sent": True}
    action.save()
    try:
        return _refund_send(action, client)
    except Exception as error:
        return failure(action, error, what=f"refund {label}", resend="queue")


def refund_send_again(action: OrderAction, client) -> ActionResult:
    """Background: sends an approved refund (checked again against the approved amount), or
    exactly the request sent before without a confirmation (same key)."""
    if "refund_request" not in action.params:
        return status_set(action, Status.FAILED, "The refund has no request to send.")
    if action.params.get("refund_sent"):
        return _refund_send(action, client)
    approved = action.amount
    suggestion = client.suggested_refund(
        action.order_id,
        line_items=_requested_lines(action),
        refund_shipping=bool(action.params.get("refund_shipping")),
    )
    if suggestion is None or suggestion.amount.amount != approved:
        now_amount = suggestion.amount.display() if suggestion else "nothing"
        return status_set(
            action,
            Status.FAILED,
            f"{order_label(action)} changed since the refund was approved (it would now refund "
            f"{now_amount}, not {amount_display(action)}), so nothing was sent.",
        )
    action.params = {
        **action.params,
        "refund_request": _refund_request(action, suggestion),
        "refund_sent": True,
    }
    action.save(update_fields=["params", "updated_at"])
    return _refund_send(action, client)
