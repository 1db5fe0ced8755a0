"""What the card shows of an order: its badges, lines, dates and money in words, and which
actions it offers (or shows disabled, with the reason). Pure: no request is read or written
here but the URLs the buttons open."""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from copilot.commerce.action_lifecycle import Status
from copilot.commerce.models import OrderAction
from copilot.commerce.permissions import (
    ADDRESS_UPDATE,
    CANCEL,
    INVOICE_SEND,
    REFUND,
    agent_may,
)
from copilot.integrations.shopify import Money, Order

KEY = re.compile(r"^[A-Za-z0-9-]{8,64}$")
RECENT_ACTIONS = timedelta(minutes=30)  # an action's sentence stays on its order this long
RELATIVE_DAYS = 7  # dates newer than this read "3 days ago"

FINANCIAL = {
    "PAID": ("Paid", "ok"),
    "PARTIALLY_REFUNDED": ("Partially refunded", "warn"),
    "REFUNDED": ("Refunded", "neutral"),
    "AUTHORIZED": ("Payment authorized", "info"),
    "PENDING": ("Unpaid", "warn"),
    "PARTIALLY_PAID": ("Partially paid", "warn"),
    "VOIDED": ("Payment voided", "neutral"),
    "EXPIRED": ("Payment expired", "bad"),
}
FULFILLMENT = {
    "UNFULFILLED": ("Unfulfilled", "neutral"),
    "FULFILLED": ("Fulfilled", "ok"),
    "PARTIALLY_FULFILLED": ("Partially fulfilled", "info"),
    "IN_PROGRESS": ("In progress", "info"),
    "ON_HOLD": ("On hold", "warn"),
    "SCHEDULED": ("Scheduled", "info"),
    "RESTOCKED": ("Restocked", "neutral"),
}
DELIVERY = {
    "DELIVERED": ("Delivered", "ok"),
    "IN_TRANSIT": ("In transit", "info"),
    "OUT_FOR_DELIVERY": ("Out for delivery", "info"),
    "ATTEMPTED_DELIVERY": ("Delivery attempted", "warn"),
    "FAILURE": ("Delivery failed", "bad"),
    "NOT_DELIVERED": ("Not delivered", "bad"),
    "READY_FOR_PICKUP": ("Ready for pickup", "info"),
    "PICKED_UP": ("Picked up", "ok"),
}
RESULT_TONES = {
    Status.SUCCEEDED: "ok",
    Status.AWAITING_APPROVAL: "warn",
    Status.QUEUED: "",
    Status.RUNNING: "",
    Status.PENDING: "",
}
CANCEL_REASON_WORDS = {
    "CUSTOMER": "The customer changed their mind",
    "DECLINED": "The payment was declined",
    "FRAUD": "Suspected fraud",
    "INVENTORY": "Items unavailable",
    "STAFF": "Staff error",
    "OTHER": "Other",
}


# --- what the templates show -------------------------------------------------------------------


@dataclass(frozen=True)
class When:
    iso: str
    relative: str
    absolute: str


@dataclass(frozen=True)
class Badge:
    label: str
    tone: str


@dataclass(frozen=True)
class Line:
    title: str
    variant: str
    quantity: int
    unit_price: str
    total: str
    refunded_quantity: int


@dataclass(frozen=True)
class ActionButton:
    kind: str
    label: str
    url: str
    reason: str  # why it is disabled ("" when enabled)
    reason_id: str


@dataclass
class OrderView:
    store_id: int
    store_name: str
    order: Order
    dom_id: str
    when: When | None
    badges: list[Badge]
    lines: list[Line]
    total: str
    refunded: str
    tracking: list[tuple[str, str]]
    actions: list[ActionButton] = field(default_factory=list)
    recent: OrderAction | None = None
    open: bool = False

    @property
    def recent_tone(self) -> str:
        return RESULT_TONES.get(self.recent.status, "error") if self.recent else ""


@dataclass(frozen=True)
class Customer:
    """Whose orders: the Kustomer customer id (and conversation) the card is open on."""

    id: str
    conversation_id: str
    email: str

    def query(self, **extra: str) -> str:
        params = {"customer": self.id, **extra}
        if self.conversation_id:
            params["conversation"] = self.conversation_id
        return urlencode(params)


def when(moment: datetime | None) -> When | None:
    """A date for the card: relative when recent, with the absolute one for the hover."""
    if moment is None:
        return None
    local = timezone.localtime(moment)
    absolute = f"{local.day} {local:%B %Y, %H:%M} {local:%Z}".strip()
    seconds = (timezone.now() - moment).total_seconds()
    if seconds < 0:
        relative = f"{local.day} {local:%b %Y}"
    elif seconds < 60:
        relative = "just now"
    elif seconds < 3600:
        minutes = round(seconds / 60)
        relative = f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    elif seconds < 86400:
        hours = round(seconds / 3600)
        relative = f"{hours} hour{'s' if hours != 1 else ''} ago"
    elif seconds < 2 * 86400:
        relative = "yesterday"
    elif seconds < RELATIVE_DAYS * 86400:
        relative = f"{int(seconds // 86400)} days ago"
    else:
        relative = f"{local.day} {local:%b %Y}"
    return When(iso=moment.isoformat(), relative=relative, absolute=absolute)


def money(value: Money | None) -> str:
    return value.display() if value is not None else ""


def words(code: str) -> str:
    return code.replace("_", " ").capitalize()


def badges(order: Order, *, awaiting_approval: bool = False) -> list[Badge]:
    found = []
    if order.is_cancelled:
        found.append(Badge("Cancelled", "bad"))
    if order.financial_status:
        label, tone = FINANCIAL.get(order.financial_status, (words(order.financial_status), ""))
        found.append(Badge(label, tone or "neutral"))
    deliveries = [f.display_status for f in order.fulfillments if f.display_status in DELIVERY]
    if deliveries:
        # The least advanced shipment says where the order is.
        delivered = all(status in {"DELIVERED", "PICKED_UP"} for status in deliveries)
        status = (
            deliveries[0]
            if delivered
            else next(s for s in deliveries if s not in {"DELIVERED", "PICKED_UP"})
        )
        found.append(Badge(*DELIVERY[status]))
    elif order.fulfillment_status and not (
        order.is_cancelled and order.fulfillment_status == "UNFULFILLED"
    ):
        label, tone = FULFILLMENT.get(
            order.fulfillment_status, (words(order.fulfillment_status), "neutral")
        )
        found.append(Badge(label, tone))
    if awaiting_approval:
        found.append(Badge("Refund awaiting approval", "warn"))
    return found


def lines(order: Order) -> list[Line]:
    refunded_any = bool(order.refunded and order.refunded.amount > 0)
    shown = []
    for item in order.line_items:
        unit = item.unit_price
        total = Money(unit.amount * item.quantity, unit.currency_code) if unit else None
        shown.append(
            Line(
                title=item.title,
                variant=item.variant_title if item.variant_title != "Default Title" else "",
                quantity=item.quantity,
                unit_price=money(unit),
                total=money(total),
                refunded_quantity=(
                    item.quantity - item.refundable_quantity
                    if refunded_any and item.refundable_quantity < item.quantity
                    else 0
                ),
            )
        )
    return shown


def tracking(order: Order) -> list[tuple[str, str]]:
    links = []
    for fulfillment in order.fulfillments:
        for info in fulfillment.tracking:
            if info.url.startswith(("https://", "http://")):
                links.append((" ".join(p for p in (info.company, info.number) if p), info.url))
    return links


def refund_refusal(order: Order) -> str:
    if order.can_refund:
        return ""
    if order.financial_status == "REFUNDED":
        return "This order is fully refunded."
    if order.financial_status in {"AUTHORIZED", "PENDING", "EXPIRED"}:
        return "The payment was not captured, so there is nothing to refund."
    if order.financial_status == "VOIDED":
        return "The payment was voided, so there is nothing to refund."
    return "Nothing on this order can be refunded."


def cancel_refusal(order: Order) -> str:
    if order.is_cancelled:
        return "This order is already cancelled."
    if order.has_fulfillments or not order.can_cancel:
        return "This order has shipped, so it can no longer be cancelled."
    return ""


def address_refusal(order: Order) -> str:
    if order.is_cancelled:
        return "This order is cancelled, so its address cannot change."
    if not order.can_edit_shipping_address:
        return "This order has shipped, so its address can no longer change."
    return ""


def invoice_refusal(order: Order) -> str:
    return "" if order.email else "This order has no email address to send the invoice to."


NOT_ALLOWED = {
    REFUND: "You are not allowed to refund orders.",
    CANCEL: "You are not allowed to cancel orders.",
    ADDRESS_UPDATE: "You are not allowed to change shipping addresses.",
    INVOICE_SEND: "You are not allowed to send invoices.",
}
ACTIONS = (
    (REFUND, "Refund", "orders-refund", refund_refusal),
    (CANCEL, "Cancel order", "orders-cancel", cancel_refusal),
    (ADDRESS_UPDATE, "Change address", "orders-address", address_refusal),
    (INVOICE_SEND, "Send invoice again", "orders-invoice", invoice_refusal),
)


def action_buttons(request, store_id: int, order: Order, customer: Customer) -> list[ActionButton]:
    dom_id = order_dom_id(store_id, order)
    buttons = []
    for permission, label, route, refusal in ACTIONS:
        if agent_may(request.card_agent, permission):
            reason = refusal(order)
        else:
            reason = NOT_ALLOWED[permission] + " Ask a supervisor."
        url = reverse(f"cards:{route}", args=[store_id, order.legacy_id or legacy_id(order.id)])
        buttons.append(
            ActionButton(
                kind=permission,
                label=label,
                url=f"{url}?{customer.query()}",
                reason=reason,
                reason_id=f"{dom_id}-{permission}-why",
            )
        )
    return buttons


def legacy_id(order_id: str) -> str:
    return order_id.rsplit("/", 1)[-1]


def order_dom_id(store_id: int, order: Order) -> str:
    return f"order-{store_id}-{order.legacy_id or legacy_id(order.id)}"


def order_view(request, store_id, store_name, order, customer, **extra) -> OrderView:
    return OrderView(
        store_id=store_id,
        store_name=store_name,
        order=order,
        dom_id=order_dom_id(store_id, order),
        when=when(order.created_at),
        badges=badges(order, awaiting_approval=extra.pop("awaiting_approval", False)),
        lines=lines(order),
        total=money(order.total),
        refunded=money(order.refunded) if order.refunded and order.refunded.amount else "",
        tracking=tracking(order),
        actions=action_buttons(request, store_id, order, customer),
        **extra,
    )


# --- plumbing ----------------------------------------------------------------------------------
