"""The values the client returns: money, addresses, orders and each operation's result."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "JPY": "¥"}


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency_code: str

    @classmethod
    def from_node(cls, node: dict | None) -> Money | None:
        """From `MoneyV2` (`{amount, currencyCode}`) or `MoneyBag` (`{shopMoney: {...}}`)."""
        if not node:
            return None
        if "shopMoney" in node:
            node = node["shopMoney"] or {}
        try:
            amount = Decimal(str(node.get("amount")))
        except (InvalidOperation, TypeError):
            return None
        return cls(amount=amount, currency_code=node.get("currencyCode") or "")

    def display(self) -> str:
        """`$42.00`, `€9.50`, or `42.00 CHF` for a currency without a known symbol."""
        amount = f"{self.amount:,.2f}"
        symbol = _CURRENCY_SYMBOLS.get(self.currency_code)
        return f"{symbol}{amount}" if symbol else f"{amount} {self.currency_code}".strip()


@dataclass(frozen=True)
class ThrottleStatus:
    maximum_available: float
    currently_available: float
    restore_rate: float


@dataclass(frozen=True)
class QueryCost:
    requested: int
    actual: int | None
    throttle: ThrottleStatus | None

    @classmethod
    def from_extensions(cls, extensions: dict | None) -> QueryCost | None:
        cost = (extensions or {}).get("cost")
        if not isinstance(cost, dict):
            return None
        throttle = cost.get("throttleStatus") or None
        return cls(
            requested=int(cost.get("requestedQueryCost") or 0),
            actual=cost.get("actualQueryCost"),
            throttle=ThrottleStatus(
                maximum_available=float(throttle["maximumAvailable"]),
                currently_available=float(throttle["currentlyAvailable"]),
                restore_rate=float(throttle["restoreRate"]),
            )
            if throttle
            else None,
        )

    def seconds_until_affordable(self) -> float:
        """Shopify's rule: (requestedQueryCost - currentlyAvailable) / restoreRate."""
        if not self.throttle or self.throttle.restore_rate <= 0:
            return 1.0
        missing = self.requested - self.throttle.currently_available
        return max(missing / self.throttle.restore_rate, 0.1)


@dataclass(frozen=True)
class UserError:
    """A business error of a mutation: `field` is the path to the offending input."""

    field: tuple[str, ...]
    message: str
    code: str | None = None

    @classmethod
    def from_node(cls, node: dict) -> UserError:
        return cls(
            field=tuple(str(part) for part in node.get("field") or ()),
            message=node.get("message") or "",
            code=node.get("code"),
        )


def _parse_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class MailingAddress:
    name: str = ""
    address1: str = ""
    address2: str = ""
    city: str = ""
    province_code: str = ""
    zip: str = ""
    country_code: str = ""
    phone: str = ""

    @classmethod
    def from_node(cls, node: dict | None) -> MailingAddress | None:
        if not node:
            return None
        return cls(
            name=node.get("name") or "",
            address1=node.get("address1") or "",
            address2=node.get("address2") or "",
            city=node.get("city") or "",
            province_code=node.get("provinceCode") or "",
            zip=node.get("zip") or "",
            country_code=node.get("countryCodeV2") or "",
            phone=node.get("phone") or "",
        )

    def to_input(self) -> dict[str, str]:
        """A `MailingAddressInput`. A single `name` is split into first and last name."""
        first, _, last = self.name.strip().partition(" ")
        return {
            "firstName": first,
            "lastName": last,
            "address1": self.address1,
            "address2": self.address2,
            "city": self.city,
            "provinceCode": self.province_code,
            "zip": self.zip,
            "countryCode": self.country_code,
            "phone": self.phone,
        }

    def lines(self) -> list[str]:
        """The address as printed on a parcel."""
        city_line = " ".join(part for part in (self.city, self.province_code, self.zip) if part)
        parts = [self.name, self.address1, self.address2, city_line, self.country_code]
        return [part for part in parts if part]


@dataclass(frozen=True)
class LineItem:
    id: str
    title: str
    variant_title: str
    quantity: int
    sku: str
    refundable_quantity: int
    unit_price: Money | None

    @classmethod
    def from_node(cls, node: dict) -> LineItem:
        return cls(
            id=node["id"],
            title=node.get("title") or "",
            variant_title=node.get("variantTitle") or "",
            quantity=int(node.get("quantity") or 0),
            sku=node.get("sku") or "",
            refundable_quantity=int(node.get("refundableQuantity") or 0),
            unit_price=Money.from_node(node.get("originalUnitPriceSet")),
        )


@dataclass(frozen=True)
class TrackingInfo:
    company: str
    number: str
    url: str


@dataclass(frozen=True)
class Fulfillment:
    status: str
    display_status: str
    created_at: datetime | None
    tracking: tuple[TrackingInfo, ...]

    @classmethod
    def from_node(cls, node: dict) -> Fulfillment:
        return cls(
            status=node.get("status") or "",
            display_status=node.get("displayStatus") or "",
            created_at=_parse_datetime(node.get("createdAt")),
            tracking=tuple(
                TrackingInfo(
                    company=info.get("company") or "",
                    number=info.get("number") or "",
                    url=info.get("url") or "",
                )
                for info in node.get("trackingInfo") or ()
            ),
        )


@dataclass(frozen=True)
class CustomerSummary:
    """The customer as Shopify counts them: lifetime spend and number of orders."""

    id: str
    display_name: str
    email: str
    number_of_orders: int
    amount_spent: Money | None

    @classmethod
    def from_node(cls, node: dict | None) -> CustomerSummary | None:
        if not node:
            return None
        return cls(
            id=node["id"],
            display_name=node.get("displayName") or "",
            email=node.get("email") or "",
            # UnsignedInt64 comes as a string.
            number_of_orders=int(node.get("numberOfOrders") or 0),
            amount_spent=Money.from_node(node.get("amountSpent")),
        )


@dataclass(frozen=True)
class Transaction:
    id: str
    kind: str
    status: str
    gateway: str
    amount: Money | None


@dataclass(frozen=True)
class Refund:
    id: str
    created_at: datetime | None
    note: str
    total: Money | None

    @classmethod
    def from_node(cls, node: dict) -> Refund:
        return cls(
            id=node["id"],
            created_at=_parse_datetime(node.get("createdAt")),
            note=node.get("note") or "",
            total=Money.from_node(node.get("totalRefundedSet")),
        )


@dataclass(frozen=True)
class Order:
    """An order as the card shows it. `source` is the GraphQL node it was read from (cached as is,
    so a cached order reads back through the same `from_node`)."""

    id: str
    legacy_id: str
    name: str
    email: str
    created_at: datetime | None
    updated_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str
    financial_status: str
    fulfillment_status: str
    status_page_url: str
    tags: tuple[str, ...]
    note: str
    subtotal: Money | None
    shipping: Money | None
    total: Money | None
    refunded: Money | None
    customer: CustomerSummary | None
    shipping_address: MailingAddress | None
    line_items: tuple[LineItem, ...]
    more_line_items: bool
    fulfillments: tuple[Fulfillment, ...]
    transactions: tuple[Transaction, ...] = ()
    refunds: tuple[Refund, ...] = ()
    source: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_node(cls, node: dict) -> Order:
        line_items = node.get("lineItems") or {}
        return cls(
            id=node["id"],
            legacy_id=str(node.get("legacyResourceId") or ""),
            name=node.get("name") or "",
            email=node.get("email") or "",
            created_at=_parse_datetime(node.get("createdAt")),
            updated_at=_parse_datetime(node.get("updatedAt")),
            cancelled_at=_parse_datetime(node.get("cancelledAt")),
            cancel_reason=node.get("cancelReason") or "",
            financial_status=node.get("displayFinancialStatus") or "",
            fulfillment_status=node.get("displayFulfillmentStatus") or "",
            status_page_url=node.get("statusPageUrl") or "",
            tags=tuple(node.get("tags") or ()),
            note=node.get("note") or "",
            subtotal=Money.from_node(node.get("currentSubtotalPriceSet")),
            shipping=Money.from_node(node.get("totalShippingPriceSet")),
            total=Money.from_node(node.get("currentTotalPriceSet")),
            refunded=Money.from_node(node.get("totalRefundedSet")),
            customer=CustomerSummary.from_node(node.get("customer")),
            shipping_address=MailingAddress.from_node(node.get("shippingAddress")),
            line_items=tuple(LineItem.from_node(item) for item in line_items.get("nodes") or ()),
            more_line_items=bool((line_items.get("pageInfo") or {}).get("hasNextPage")),
            fulfillments=tuple(Fulfillment.from_node(f) for f in node.get("fulfillments") or ()),
            transactions=tuple(
                Transaction(
                    id=item["id"],
                    kind=item.get("kind") or "",
                    status=item.get("status") or "",
                    gateway=item.get("gateway") or "",
                    amount=Money.from_node(item.get("amountSet")),
                )
                for item in node.get("transactions") or ()
            ),
            refunds=tuple(Refund.from_node(item) for item in node.get("refunds") or ()),
            source=node,
        )

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def has_fulfillments(self) -> bool:
        return bool(self.fulfillments) or self.fulfillment_status in {
            "FULFILLED",
            "PARTIALLY_FULFILLED",
        }

    @property
    def can_edit_shipping_address(self) -> bool:
        """Only before anything shipped (Shopify refuses afterwards)."""
        return not self.is_cancelled and not self.has_fulfillments

    @property
    def can_cancel(self) -> bool:
        return not self.is_cancelled and self.fulfillment_status in {"UNFULFILLED", "ON_HOLD"}

    @property
    def can_refund(self) -> bool:
        return self.financial_status in {"PAID", "PARTIALLY_REFUNDED", "PARTIALLY_PAID"}


@dataclass(frozen=True)
class OrdersPage:
    orders: tuple[Order, ...]
    has_next_page: bool
    end_cursor: str | None
    cost: QueryCost | None


@dataclass(frozen=True)
class RefundLineItem:
    """What to refund of one line item; `restock` puts the items back in stock."""

    line_item_id: str
    quantity: int
    restock: bool = False

    def to_input(self) -> dict:
        return {
            "lineItemId": self.line_item_id,
            "quantity": self.quantity,
            "restockType": "RETURN" if self.restock else "NO_RESTOCK",
        }


@dataclass(frozen=True)
class SuggestedTransaction:
    parent_id: str
    gateway: str
    kind: str
    amount: Money

    def to_input(self, order_id: str) -> dict:
        return {
            "orderId": order_id,
            "parentId": self.parent_id,
            "gateway": self.gateway,
            "kind": "REFUND",
            "amount": str(self.amount.amount),
        }


@dataclass(frozen=True)
class RefundSuggestion:
    """What Shopify suggests refunding (`Order.suggestedRefund`), to show and then to send."""

    amount: Money
    shipping: Money | None
    line_items: tuple[RefundLineItem, ...]
    transactions: tuple[SuggestedTransaction, ...]
    order_name: str = ""
    order_email: str = ""


@dataclass(frozen=True)
class RefundCreateResult:
    refund: Refund | None
    user_errors: tuple[UserError, ...]


@dataclass(frozen=True)
class Job:
    id: str
    done: bool


@dataclass(frozen=True)
class OrderCancelResult:
    job: Job | None
    user_errors: tuple[UserError, ...]


@dataclass(frozen=True)
class OrderUpdateResult:
    order_id: str | None
    user_errors: tuple[UserError, ...]
    order_name: str = ""
    order_email: str = ""


@dataclass(frozen=True)
class InvoiceSendResult:
    order_id: str | None
    user_errors: tuple[UserError, ...]
    order_name: str = ""
    order_email: str = ""


@dataclass(frozen=True)
class WebhookSubscriptionResult:
    id: str | None
    user_errors: tuple[UserError, ...]


@dataclass(frozen=True)
class Shop:
    name: str
    domain: str
    currency_code: str


@dataclass(frozen=True)
class GraphQLResult:
    data: dict
    cost: QueryCost | None
