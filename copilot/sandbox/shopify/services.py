"""What the fake Shopify's mutations do to its orders, with Shopify's business rules.

Each function returns the objects it made or changed and a list of `userErrors` (dicts with
`field`, `message` and sometimes `code`), exactly what the GraphQL payloads carry. Webhooks go
out after commit.
"""

import hashlib
import json
import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .models import (
    Fulfillment,
    FulfillmentLineItem,
    InvoiceEmail,
    Job,
    LineItem,
    Order,
    Refund,
    RefundLineItem,
    Return,
    ReturnLineItem,
    Shop,
    Transaction,
    WebhookSubscription,
    pk_from_gid,
)
from .money import ZERO, financial_status, order_totals, refundable_by_parent
from .webhooks import order_payload, refund_payload, shop_payload, webhook_send_on_commit

logger = logging.getLogger(__name__)

WEBHOOK_TOPICS = {
    "ORDERS_CREATE",
    "ORDERS_UPDATED",
    "ORDERS_CANCELLED",
    "ORDERS_FULFILLED",
    "ORDERS_PAID",
    "REFUNDS_CREATE",
    "APP_UNINSTALLED",
}


def _error(path: list, message: str, code: str | None = None) -> dict:
    return {
        "field": [str(part) for part in path] if path else None,
        "message": message,
        "code": code,
    }


def _format(amount: Decimal, currency: str) -> str:
    return f"{amount:.2f} {currency}"


def _to_decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError):
        return None


def order_for_shop(shop: Shop, order_id: str | None, *, lock: bool = False) -> Order | None:
    pk = pk_from_gid("Order", order_id)
    if pk is None:
        return None
    queryset = Order.objects.filter(shop=shop, pk=pk)
    if lock:
        queryset = queryset.select_for_update()
    return queryset.first()


def order_changed(order: Order, *, topics: tuple[str, ...] = ("orders/updated",)) -> None:
    """Sends the order's webhooks after commit (with the order as committed)."""
    order_pk = order.pk

    def build() -> dict:
        fresh = Order.objects.select_related("customer", "shop").get(pk=order_pk)
        return order_payload(fresh)

    for topic in topics:
        webhook_send_on_commit(order.shop, topic, build)


def _refresh_financial_status(order: Order) -> None:
    # Relations may be prefetched from before this change: read them again.
    order = Order.objects.get(pk=order.pk)
    Order.objects.filter(pk=order.pk).update(
        financial_status=financial_status(order), updated_at=timezone.now()
    )


# --- refunds ---------------------------------------------------------------------------------


@dataclass
class SuggestedRefundLine:
    line_item: LineItem
    quantity: int
    restock_type: str

    @property
    def subtotal(self) -> Decimal:
        return self.line_item.price * self.quantity


@dataclass
class RefundSuggestion:
    order: Order
    lines: list[SuggestedRefundLine]
    subtotal: Decimal
    shipping: Decimal
    amount: Decimal
    maximum_refundable: Decimal
    transactions: list[tuple[Transaction, Decimal]] = field(default_factory=list)


def refund_suggest(
    order: Order,
    *,
    refund_line_items: list[dict] | None,
    refund_shipping: bool,
    shipping_amount: Decimal | None,
    suggest_full_refund: bool,
) -> RefundSuggestion:
    """`Order.suggestedRefund`: quantities are capped at what can still be refunded."""
    items = {item.pk: item for item in order.line_items.all()}
    lines: list[SuggestedRefundLine] = []
    if suggest_full_refund:
        lines = [
            SuggestedRefundLine(item, item.refundable_quantity, "NO_RESTOCK")
            for item in items.values()
            if item.refundable_quantity > 0
        ]
    else:
        for line in refund_line_items or []:
            item = items.get(pk_from_gid("LineItem", line.get("lineItemId")))
            quantity = min(int(line.get("quantity") or 0), item.refundable_quantity) if item else 0
            if item and quantity > 0:
                lines.append(
                    SuggestedRefundLine(item, quantity, line.get("restockType") or "NO_RESTOCK")
                )
    totals = order_totals(order)
    if suggest_full_refund or refund_shipping:
        shipping = totals.shipping_refundable
    elif shipping_amount is not None:
        shipping = min(max(shipping_amount, ZERO), totals.shipping_refundable)
    else:
        shipping = ZERO
    subtotal = sum((line.subtotal for line in lines), ZERO)
    amount = min(subtotal + shipping, totals.net_payment)
    remaining = amount
    transactions = []
    for parent, refundable in refundable_by_parent(order):
        if remaining <= ZERO:
            break
        share = min(refundable, remaining)
        if share > ZERO:
            transactions.append((parent, share))
            remaining -= share
    return RefundSuggestion(
        order=order,
        lines=lines,
        subtotal=subtotal,
        shipping=shipping,
        amount=amount,
        maximum_refundable=totals.net_payment,
        transactions=transactions,
    )


@dataclass
class RefundOutcome:
    refund: Refund | None
    user_errors: list[dict]


class IdempotencyMismatch(Exception):
    """The key was used before with a different request."""


def _fingerprint(refund_input: dict) -> str:
    return hashlib.sha256(
        json.dumps(refund_input, sort_keys=True, default=str).encode()
    ).hexdigest()


def refund_create(*, shop: Shop, refund_input: dict, idempotency_key: str | None) -> RefundOutcome:
    """`refundCreate`. The same idempotency key returns the first refund and refunds nothing more;
    the same key with a different input raises `IdempotencyMismatch`."""
    fingerprint = _fingerprint(refund_input)
    if idempotency_key:
        existing = Refund.objects.filter(shop=shop, idempotency_key=idempotency_key).first()
        if existing:
            if existing.request_fingerprint != fingerprint:
                raise IdempotencyMismatch(idempotency_key)
            return RefundOutcome(existing, [])
    try:
        with transaction.atomic():
            return _refund_create(shop, refund_input, idempotency_key, fingerprint)
    except IntegrityError:
        # The same key arrived twice at once: the other request made the refund.
        existing = Refund.objects.filter(shop=shop, idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        if existing.request_fingerprint != fingerprint:
            raise IdempotencyMismatch(idempotency_key) from None
        return RefundOutcome(existing, [])


def _refund_create(
    shop: Shop, refund_input: dict, idempotency_key: str | None, fingerprint: str
) -> RefundOutcome:
    order = order_for_shop(shop, refund_input.get("orderId"), lock=True)
    if order is None:
        return RefundOutcome(None, [_error(["orderId"], "Order does not exist.")])
    currency = order.currency_code
    totals = order_totals(order)
    items = {item.pk: item for item in order.line_items.all()}
    errors: list[dict] = []

    lines: list[tuple[LineItem, int, str]] = []
    for index, line in enumerate(refund_input.get("refundLineItems") or []):
        item = items.get(pk_from_gid("LineItem", line.get("lineItemId")))
        if item is None:
            errors.append(
                _error(["refundLineItems", index, "lineItemId"], "Line item does not exist.")
            )
            continue
        quantity = int(line.get("quantity") or 0)
        if quantity < 1:
            errors.append(
                _error(["refundLineItems", index, "quantity"], "Quantity must be at least 1.")
            )
        elif quantity > item.refundable_quantity:
            errors.append(
                _error(
                    ["refundLineItems", index, "quantity"],
                    f"Quantity cannot be greater than the refundable quantity "
                    f"({item.refundable_quantity}) of {item.title}.",
                )
            )
        else:
            lines.append((item, quantity, line.get("restockType") or "NO_RESTOCK"))

    shipping = ZERO
    shipping_input = refund_input.get("shipping") or {}
    if shipping_input.get("fullRefund"):
        shipping = totals.shipping_refundable
    elif shipping_input.get("amount") is not None:
        shipping = _to_decimal(shipping_input["amount"]) or ZERO
        if shipping > totals.shipping_refundable:
            errors.append(
                _error(
                    ["shipping", "amount"],
                    f"Shipping refund amount ({_format(shipping, currency)}) is greater than the "
                    f"refundable shipping ({_format(totals.shipping_refundable, currency)}).",
                )
            )

    parents = dict((t.pk, (t, left)) for t, left in refundable_by_parent(order))
    refunds: list[tuple[Transaction, Decimal, str]] = []
    total = ZERO
    for index, given in enumerate(refund_input.get("transactions") or []):
        amount = _to_decimal(given.get("amount"))
        if given.get("kind") != "REFUND":
            errors.append(_error(["transactions", index, "kind"], "Kind must be REFUND."))
            continue
        if amount is None or amount <= ZERO:
            errors.append(_error(["transactions", index, "amount"], "Amount must be positive."))
            continue
        parent_entry = parents.get(pk_from_gid("OrderTransaction", given.get("parentId")))
        if parent_entry is None:
            errors.append(
                _error(
                    ["transactions", index, "parentId"],
                    "Parent transaction must be a sale or capture of this order.",
                )
            )
            continue
        parent, left = parent_entry
        if amount > left:
            errors.append(
                _error(
                    ["transactions", index, "amount"],
                    f"Amount ({_format(amount, currency)}) is greater than the refundable amount "
                    f"of the transaction ({_format(left, currency)}).",
                )
            )
            continue
        refunds.append((parent, amount, given.get("gateway") or parent.gateway))
        total += amount
    if total > totals.net_payment:
        errors.append(
            _error(
                ["transactions"],
                f"Refund amount ({_format(total, currency)}) is greater than the net payment "
                f"received ({_format(totals.net_payment, currency)}).",
            )
        )
    if not errors and not lines and shipping <= ZERO and not refunds:
        errors.append(_error([], "A refund needs line items, shipping or transactions."))
    if errors:
        return RefundOutcome(None, errors)

    now = timezone.now()
    refund = Refund.objects.create(
        shop=shop,
        order=order,
        note=refund_input.get("note") or "",
        shipping_amount=shipping,
        total_amount=total,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
        created_at=now,
    )
    for item, quantity, restock_type in lines:
        RefundLineItem.objects.create(
            refund=refund,
            line_item=item,
            quantity=quantity,
            restock_type=restock_type,
            subtotal=item.price * quantity,
        )
        LineItem.objects.filter(pk=item.pk).update(
            refunded_quantity=item.refunded_quantity + quantity
        )
    for parent, amount, gateway in refunds:
        Transaction.objects.create(
            order=order,
            kind=Transaction.Kind.REFUND,
            gateway=gateway,
            amount=amount,
            parent=parent,
            refund=refund,
            created_at=now,
        )
    if shipping:
        Order.objects.filter(pk=order.pk).update(
            shipping_refunded=order.shipping_refunded + shipping
        )
    _refresh_financial_status(order)
    refund_pk = refund.pk
    webhook_send_on_commit(
        shop, "refunds/create", lambda: refund_payload(Refund.objects.get(pk=refund_pk))
    )
    order_changed(order)
    return RefundOutcome(refund, [])


# --- cancel ----------------------------------------------------------------------------------


@dataclass
class CancelOutcome:
    job: Job | None
    user_errors: list[dict]


def order_cancel(
    *,
    shop: Shop,
    order_id: str,
    reason: str,
    restock: bool,
    refund: bool,
    notify_customer: bool,
    staff_note: str | None,
) -> CancelOutcome:
    """`orderCancel`: checks, then starts a job that cancels the order after
    `SANDBOX_SHOPIFY_CANCEL_JOB_SECONDS` (asynchronous, like Shopify's)."""
    with transaction.atomic():
        order = order_for_shop(shop, order_id, lock=True)
        if order is None:
            return CancelOutcome(None, [_error(["orderId"], "Order does not exist.", "NOT_FOUND")])
        if order.cancelled_at:
            return CancelOutcome(
                None,
                [
                    _error(
                        ["orderId"],
                        "Order has already been cancelled.",
                        "ORDER_IS_ALREADY_CANCELLED",
                    )
                ],
            )
        if order.cancel_requested_at:
            return CancelOutcome(
                None,
                [_error(["orderId"], "A cancellation of this order is in progress.", "INVALID")],
            )
        if order.fulfillments.filter(status="SUCCESS").exists():
            return CancelOutcome(
                None,
                [
                    _error(
                        ["orderId"],
                        "Cannot cancel an order that has fulfillments. "
                        "Cancel its fulfillments first.",
                        "INVALID",
                    )
                ],
            )
        if staff_note and len(staff_note) > 255:
            return CancelOutcome(
                None,
                [
                    _error(
                        ["staffNote"], "Staff note is too long (maximum 255 characters).", "INVALID"
                    )
                ],
            )
        now = timezone.now()
        delay = max(float(settings.SANDBOX_SHOPIFY_CANCEL_JOB_SECONDS), 0.0)
        job = Job.objects.create(
            shop=shop,
            key=str(uuid.uuid4()),
            order=order,
            params={
                "reason": reason,
                "restock": restock,
                "refund": refund,
                "notify_customer": notify_customer,
                "staff_note": staff_note or "",
            },
            created_at=now,
            done_at=now + timedelta(seconds=delay),
        )
        Order.objects.filter(pk=order.pk).update(cancel_requested_at=now)
    if delay <= 0:
        job_complete(job.pk)
        job.refresh_from_db()
    elif not (connection.vendor == "sqlite" and connection.is_in_memory_db()):
        # An in-memory database cannot be shared with another thread: there the job is
        # completed when it is next looked at (job(id:), or any query), as it is anyway.
        timer = threading.Timer(delay, _complete_in_thread, args=(job.pk,))
        timer.daemon = True
        timer.start()
    return CancelOutcome(job, [])


def _complete_in_thread(job_pk: int) -> None:
    try:
        job_complete(job_pk)
    except Exception:
        logger.exception("sandbox shopify: job %s failed", job_pk)
    finally:
        connection.close()  # this thread's own connection


def job_due(job: Job) -> Job:
    """Completes a job whose time has come (also done by a timer); returns it fresh."""
    if job.completed_at is None and job.done_at <= timezone.now():
        job_complete(job.pk)
        job.refresh_from_db()
    return job


def job_complete(job_pk: int) -> None:
    """Applies the cancellation once, whoever gets here first."""
    now = timezone.now()
    with transaction.atomic():
        claimed = Job.objects.filter(pk=job_pk, completed_at__isnull=True).update(completed_at=now)
        if not claimed:
            return
        job = Job.objects.select_related("order", "shop").get(pk=job_pk)
        order = Order.objects.select_for_update().get(pk=job.order_id)
        params = job.params
        refunded = None
        if params.get("refund"):
            refunded = _refund_everything(order, restock=bool(params.get("restock")), now=now)
        Order.objects.filter(pk=order.pk).update(
            cancelled_at=now,
            cancel_reason=params.get("reason") or "OTHER",
            closed_at=now,
            cancel_requested_at=None,
            updated_at=now,
        )
        if params.get("staff_note"):
            note = f"{order.note}\n{params['staff_note']}".strip()
            Order.objects.filter(pk=order.pk).update(note=note)
        order.cancelled_at = now
        _refresh_financial_status(order)
        if refunded is not None:
            refund_pk = refunded.pk
            webhook_send_on_commit(
                job.shop, "refunds/create", lambda: refund_payload(Refund.objects.get(pk=refund_pk))
            )
        order_changed(order, topics=("orders/cancelled", "orders/updated"))


def _refund_everything(order: Order, *, restock: bool, now) -> Refund | None:
    totals = order_totals(order)
    items = [item for item in order.line_items.all() if item.refundable_quantity > 0]
    if totals.captured <= ZERO:
        if totals.authorized > ZERO:
            authorization = order.transactions.filter(kind=Transaction.Kind.AUTHORIZATION).first()
            Transaction.objects.create(
                order=order,
                kind=Transaction.Kind.VOID,
                gateway=authorization.gateway,
                amount=authorization.amount,
                parent=authorization,
                created_at=now,
            )
        return None
    refund = Refund.objects.create(
        shop=order.shop,
        order=order,
        note="Order cancelled",
        shipping_amount=totals.shipping_refundable,
        total_amount=totals.net_payment,
        created_at=now,
    )
    for item in items:
        RefundLineItem.objects.create(
            refund=refund,
            line_item=item,
            quantity=item.refundable_quantity,
            restock_type="CANCEL" if restock else "NO_RESTOCK",
            subtotal=item.price * item.refundable_quantity,
        )
        LineItem.objects.filter(pk=item.pk).update(refunded_quantity=item.quantity)
    for parent, left in refundable_by_parent(order):
        if left > ZERO:
            Transaction.objects.create(
                order=order,
                kind=Transaction.Kind.REFUND,
                gateway=parent.gateway,
                amount=left,
                parent=parent,
                refund=refund,
                created_at=now,
            )
    Order.objects.filter(pk=order.pk).update(shipping_refunded=order.shipping_price)
    return refund


# --- update, invoice, return -----------------------------------------------------------------

REQUIRED_ADDRESS_FIELDS = ("address1", "city", "countryCode")


@dataclass
class OrderOutcome:
    order: Order | None
    user_errors: list[dict]


def order_update(*, shop: Shop, order_input: dict) -> OrderOutcome:
    """`orderUpdate`: note, tags, email and, while nothing has shipped, the shipping address."""
    with transaction.atomic():
        order = order_for_shop(shop, order_input.get("id"), lock=True)
        if order is None:
            return OrderOutcome(None, [_error(["id"], "Order does not exist.")])
        errors: list[dict] = []
        address = order_input.get("shippingAddress")
        if address is not None:
            shipped = (
                order.fulfillment_status
                in (
                    Order.FulfillmentStatus.FULFILLED,
                    Order.FulfillmentStatus.PARTIALLY_FULFILLED,
                )
                or order.fulfillments.filter(status="SUCCESS").exists()
            )
            if shipped:
                errors.append(
                    _error(
                        ["shippingAddress"],
                        "Shipping address cannot be changed because the order has been fulfilled.",
                    )
                )
            for name in REQUIRED_ADDRESS_FIELDS:
                if not (address.get(name) or "").strip():
                    errors.append(_error(["shippingAddress", name], f"{name} can't be blank."))
        if errors:
            return OrderOutcome(None, errors)
        update: dict = {"updated_at": timezone.now()}
        if address is not None:
            update["shipping_address"] = {key: value or "" for key, value in address.items()}
        for key in ("note", "email"):
            if order_input.get(key) is not None:
                update[key] = order_input[key]
        if order_input.get("tags") is not None:
            update["tags"] = [tag.strip() for tag in order_input["tags"] if tag.strip()]
        Order.objects.filter(pk=order.pk).update(**update)
        order.refresh_from_db()
        order_changed(order)
        return OrderOutcome(order, [])


def order_invoice_send(*, shop: Shop, order_id: str, email: dict | None) -> OrderOutcome:
    """`orderInvoiceSend`: records the email it would have sent."""
    order = order_for_shop(shop, order_id)
    if order is None:
        return OrderOutcome(
            None, [_error(["id"], "Order does not exist.", "ORDER_INVOICE_SEND_UNSUCCESSFUL")]
        )
    email = email or {}
    to = email.get("to") or order.email
    if not to:
        return OrderOutcome(
            None,
            [
                _error(
                    ["email", "to"],
                    "The order has no email address to send the invoice to.",
                    "ORDER_INVOICE_SEND_UNSUCCESSFUL",
                )
            ],
        )
    InvoiceEmail.objects.create(
        order=order,
        to=to,
        subject=email.get("subject") or f"Invoice for order {order.name}",
        custom_message=email.get("customMessage") or "",
        sent_at=timezone.now(),
    )
    return OrderOutcome(order, [])


@dataclass
class ReturnOutcome:
    return_request: Return | None
    user_errors: list[dict]


def return_create(*, shop: Shop, return_input: dict) -> ReturnOutcome:
    """`returnCreate`: a return of fulfilled items, at most what was fulfilled and not returned."""
    with transaction.atomic():
        order = order_for_shop(shop, return_input.get("orderId"), lock=True)
        if order is None:
            return ReturnOutcome(
                None, [_error(["returnInput", "orderId"], "Order does not exist.", "NOT_FOUND")]
            )
        errors: list[dict] = []
        wanted: list[tuple[FulfillmentLineItem, int, dict]] = []
        for index, line in enumerate(return_input.get("returnLineItems") or []):
            pk = pk_from_gid("FulfillmentLineItem", line.get("fulfillmentLineItemId"))
            item = FulfillmentLineItem.objects.filter(pk=pk, fulfillment__order=order).first()
            path = ["returnInput", "returnLineItems", index]
            if item is None:
                errors.append(
                    _error([*path, "fulfillmentLineItemId"], "Item does not exist.", "NOT_FOUND")
                )
                continue
            returned = sum(
                r.quantity for r in ReturnLineItem.objects.filter(fulfillment_line_item=item)
            )
            quantity = int(line.get("quantity") or 0)
            if quantity < 1 or quantity > item.quantity - returned:
                errors.append(
                    _error(
                        [*path, "quantity"],
                        f"Quantity must be between 1 and {item.quantity - returned}.",
                        "INVALID",
                    )
                )
                continue
            wanted.append((item, quantity, line))
        if not errors and not wanted:
            errors.append(
                _error(["returnInput", "returnLineItems"], "No items to return.", "INVALID")
            )
        if errors:
            return ReturnOutcome(None, errors)
        return_request = Return.objects.create(order=order, created_at=timezone.now())
        for item, quantity, line in wanted:
            ReturnLineItem.objects.create(
                return_request=return_request,
                fulfillment_line_item=item,
                quantity=quantity,
                reason=line.get("returnReason") or "UNKNOWN",
                note=line.get("returnReasonNote") or "",
            )
        return ReturnOutcome(return_request, [])


# --- webhooks and the app ---------------------------------------------------------------------


@dataclass
class SubscriptionOutcome:
    subscription: WebhookSubscription | None
    user_errors: list[dict]


def webhook_subscription_create(*, shop: Shop, topic: str, uri: str) -> SubscriptionOutcome:
    if topic not in WEBHOOK_TOPICS:
        return SubscriptionOutcome(None, [_error(["topic"], f"Topic {topic} is not supported.")])
    if not uri.startswith(("https://", "http://")):
        return SubscriptionOutcome(
            None, [_error(["webhookSubscription", "uri"], "Address is invalid.")]
        )
    subscription, created = WebhookSubscription.objects.get_or_create(
        shop=shop, topic=topic, uri=uri
    )
    if not created:
        return SubscriptionOutcome(
            None,
            [
                _error(
                    ["webhookSubscription", "uri"], "Address for this topic has already been taken."
                )
            ],
        )
    return SubscriptionOutcome(subscription, [])


def shop_app_uninstall(*, shop: Shop) -> None:
    """The merchant uninstalls the app: the token stops working and app/uninstalled is sent."""
    with transaction.atomic():
        Shop.objects.filter(pk=shop.pk).update(installed=False)
        webhook_send_on_commit(shop, "app/uninstalled", lambda: shop_payload(shop))


def order_touch(*, order: Order) -> None:
    """An order changed outside the API (admin, seed): bump it and send orders/updated."""
    with transaction.atomic():
        Order.objects.filter(pk=order.pk).update(updated_at=timezone.now())
        order_changed(order)


def fulfillment_create(
    *, order: Order, company: str, number: str, url: str, display_status: str = "IN_TRANSIT"
) -> Fulfillment:
    """Ships every unfulfilled item of the order (used by the seed and the admin)."""
    with transaction.atomic():
        fulfillment = Fulfillment.objects.create(
            order=order,
            tracking_company=company,
            tracking_number=number,
            tracking_url=url,
            display_status=display_status,
            created_at=timezone.now(),
        )
        for item in order.line_items.all():
            FulfillmentLineItem.objects.create(
                fulfillment=fulfillment, line_item=item, quantity=item.quantity
            )
        Order.objects.filter(pk=order.pk).update(
            fulfillment_status=Order.FulfillmentStatus.FULFILLED, updated_at=timezone.now()
        )
        order_changed(order, topics=("orders/fulfilled", "orders/updated"))
    return fulfillment
