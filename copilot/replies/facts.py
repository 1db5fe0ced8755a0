"""The facts a draft may state: the customer, their orders, the store's policies, the shortcuts.

Pure: built from the Shopify client's dataclasses and plain values, no ORM, so that prompts,
grounding and the fallback can be tested and benchmarked alone. The same object feeds the prompt
(`to_prompt`) and the check of every draft against it (`grounding.py`).
"""

import re
from dataclasses import dataclass, field
from datetime import date

from copilot.integrations.shopify import Money, Order

MAX_ITEMS = 10
# Where the agent's name goes in a stored draft: filled when the card shows it (the agent reading
# is known only then), or with REPLIES_SIGN_OFF.
AGENT_PLACEHOLDER = "{agent_first_name}"


@dataclass(frozen=True)
class Item:
    title: str
    variant: str
    quantity: int
    unit_price: Money | None

    @property
    def line_total(self) -> Money | None:
        if self.unit_price is None:
            return None
        return Money(self.unit_price.amount * self.quantity, self.unit_price.currency_code)


@dataclass(frozen=True)
class Shipment:
    status: str
    carrier: str
    tracking_number: str
    tracking_url: str
    shipped_on: date | None


@dataclass(frozen=True)
class RefundFact:
    amount: Money | None
    refunded_on: date | None


@dataclass(frozen=True)
class OrderFacts:
    number: str  # as the store names it, e.g. "#1020"
    store: str
    placed_on: date | None
    financial_status: str
    fulfillment_status: str
    cancelled_on: date | None
    total: Money | None
    subtotal: Money | None
    shipping: Money | None
    refunded: Money | None
    items: tuple[Item, ...] = ()
    shipments: tuple[Shipment, ...] = ()
    refunds: tuple[RefundFact, ...] = ()
    status_url: str = ""

    @property
    def digits(self) -> str:
        return re.sub(r"\D", "", self.number)

    @property
    def tracking(self) -> Shipment | None:
        """The latest shipment that has a tracking number."""
        with_numbers = [shipment for shipment in self.shipments if shipment.tracking_number]
        return with_numbers[-1] if with_numbers else None

    @property
    def status_sentence(self) -> str:
        """The order's state in plain words (English; templates in other languages map codes)."""
        if self.cancelled_on:
            return "cancelled"
        shipment = self.tracking
        if shipment and shipment.status.upper() == "DELIVERED":
            return "delivered"
        if self.fulfillment_status.upper() in {"FULFILLED", "PARTIALLY_FULFILLED"} or shipment:
            return "shipped"
        if self.financial_status.upper() in {"PAID", "AUTHORIZED", "PARTIALLY_PAID"}:
            return "being prepared"
        return self.fulfillment_status.lower().replace("_", " ") or "received"

    @classmethod
    def from_order(cls, order: Order, *, store: str) -> "OrderFacts":
        return cls(
            number=order.name,
            store=store,
            placed_on=order.created_at.date() if order.created_at else None,
            financial_status=order.financial_status,
            fulfillment_status=order.fulfillment_status,
            cancelled_on=order.cancelled_at.date() if order.cancelled_at else None,
            total=order.total,
            subtotal=order.subtotal,
            shipping=order.shipping,
            refunded=order.refunded,
            items=tuple(
                Item(item.title, item.variant_title, item.quantity, item.unit_price)
                for item in order.line_items[:MAX_ITEMS]
            ),
            shipments=tuple(
                Shipment(
                    status=fulfillment.display_status or fulfillment.status,
                    carrier=info.company,
                    tracking_number=info.number,
                    tracking_url=info.url,
                    shipped_on=fulfillment.created_at.date() if fulfillment.created_at else None,
                )
                for fulfillment in order.fulfillments
                for info in fulfillment.tracking or ()
            )
            or tuple(
                Shipment(
                    fulfillment.display_status or fulfillment.status,
                    "",
                    "",
                    "",
                    fulfillment.created_at.date() if fulfillment.created_at else None,
                )
                for fulfillment in order.fulfillments
            ),
            refunds=tuple(
                RefundFact(refund.total, refund.created_at.date() if refund.created_at else None)
                for refund in order.refunds
            ),
            status_url=order.status_page_url,
        )

    def money_values(self) -> list[Money]:
        values = [self.total, self.subtotal, self.shipping, self.refunded]
        for item in self.items:
            values += [item.unit_price, item.line_total]
        values += [refund.amount for refund in self.refunds]
        return [value for value in values if value is not None]

    def dates(self) -> list[date]:
        values = [self.placed_on, self.cancelled_on]
        values += [shipment.shipped_on for shipment in self.shipments]
        values += [refund.refunded_on for refund in self.refunds]
        return [value for value in values if value is not None]


@dataclass(frozen=True)
class Policy:
    key: str
    title: str
    text: str


@dataclass(frozen=True)
class SavedReply:
    """A Kustomer shortcut (saved reply) as the org wrote it, placeholders unfilled."""

    name: str
    text: str


@dataclass(frozen=True)
class Facts:
    customer_first_name: str = ""
    customer_name: str = ""
    customer_email: str = ""
    orders: tuple[OrderFacts, ...] = ()
    # Why orders may be missing or old ("Northwind Goods is busy right now..."), for the prompt.
    orders_notes: tuple[str, ...] = ()
    policies: tuple[Policy, ...] = ()
    shortcuts: tuple[SavedReply, ...] = field(default_factory=tuple)

    def relevant_order(self, text: str = "") -> OrderFacts | None:
        """The order the customer names in `text`, else their latest order."""
        mentioned = set(re.findall(r"\d{3,}", text or ""))
        for order in self.orders:
            if order.digits and order.digits in mentioned:
                return order
        return self.orders[0] if self.orders else None

    def policy_text(self, key: str) -> str:
        return next((policy.text for policy in self.policies if policy.key == key), "")

    def to_prompt(self) -> dict:
        """The facts as the JSON the prompt shows the model (and the fake server reads)."""

        def money(value: Money | None) -> str | None:
            return value.display() if value is not None else None

        def day(value: date | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "customer": {
                "first_name": self.customer_first_name or None,
                "name": self.customer_name or None,
                "email": self.customer_email or None,
            },
            "orders": [
                {
                    "number": order.number,
                    "store": order.store,
                    "placed_on": day(order.placed_on),
                    "payment_status": order.financial_status,
                    "fulfillment_status": order.fulfillment_status,
                    "status": order.status_sentence,
                    "cancelled_on": day(order.cancelled_on),
                    "total": money(order.total),
                    "shipping": money(order.shipping),
                    "refunded": money(order.refunded),
                    "items": [
                        {
                            "title": item.title,
                            "variant": item.variant or None,
                            "quantity": item.quantity,
                            "unit_price": money(item.unit_price),
                        }
                        for item in order.items
                    ],
                    "shipments": [
                        {
                            "status": shipment.status,
                            "carrier": shipment.carrier or None,
                            "tracking_number": shipment.tracking_number or None,
                            "tracking_url": shipment.tracking_url or None,
                            "shipped_on": day(shipment.shipped_on),
                        }
                        for shipment in order.shipments
                    ],
                    "refunds": [
                        {"amount": money(refund.amount), "refunded_on": day(refund.refunded_on)}
                        for refund in order.refunds
                    ],
                    "order_status_url": order.status_url or None,
                }
                for order in self.orders
            ],
            "notes": list(self.orders_notes),
        }
