"""A typed client for Shopify's GraphQL Admin API (https://shopify.dev/docs/api/admin-graphql).

One `ShopifyClient` talks to one shop: `POST {base}/admin/api/{version}/graphql.json` with the
`X-Shopify-Access-Token` header. Methods mirror the operations the copilot uses and return
dataclasses; nothing here touches the database (the commerce app builds clients from its Store
rows).

Two kinds of failure come back from Shopify and are kept apart:

- Business errors (`userErrors`, HTTP 200) are returned inside the mutation's result, for the
  caller to show as a sentence.
- Request-level errors (top-level `errors[]` with `extensions.code`, or an HTTP error status) are
  raised, using the shared hierarchy of `copilot.integrations.http`.

Rate limits are cost based (https://shopify.dev/docs/api/usage/limits): every answer reports the
shop's bucket in `extensions.cost.throttleStatus`. The client keeps that bucket per shop in Redis
(shared by every process) and reserves a query's cost before sending it; when the bucket has no
room it raises `ShopifyThrottled` at once without sending anything, and a THROTTLED answer
(usually HTTP 200, sometimes 429) raises the same error. The client never sleeps: a request that
a person waits on shows what it has, and background tasks retry after `retry_after`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import httpx
import redis

from .http import PermanentError, RateLimited, TransientError, tls_context

logger = logging.getLogger(__name__)

# Requested cost assumed for a query the process has not sent yet (mutations cost 10).
DEFAULT_QUERY_COST = 50
MUTATION_COST = 10

# --- errors --------------------------------------------------------------------------------------


class ShopifyThrottled(RateLimited):
    """The shop's cost bucket has no room: wait `retry_after` seconds.

    Raised for a THROTTLED answer (HTTP 200 or 429) and, without sending anything, when our own
    copy of the bucket says the request would be throttled. Either way Shopify did not act.
    """

    def __init__(self, message: str, *, retry_after: float, status: int | None = None) -> None:
        super().__init__(message, retry_after=retry_after, status=status)


class ShopifyUnavailable(TransientError):
    """A timeout, a connection failure or a 5xx. `reached_shopify` is False only when the request
    certainly never arrived (so that retrying a mutation cannot act twice)."""

    def __init__(self, message: str, *, reached_shopify: bool, status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.reached_shopify = reached_shopify


class ShopifyAuthError(PermanentError):
    """Shopify refused the access token (401/403): the app was uninstalled or the token revoked."""


class ShopifyAccessDenied(PermanentError):
    """The token lacks a scope or an approval for what was asked (`ACCESS_DENIED`)."""


class ProtectedCustomerDataError(ShopifyAccessDenied):
    """The app is not approved for protected customer data (names, emails, addresses)."""


class ShopifyQueryError(PermanentError):
    """Shopify rejected the request itself (bad query, cost over the single-query limit...)."""

    def __init__(self, message: str, *, codes: Sequence[str] = (), status: int | None = None):
        super().__init__(message, status=status)
        self.codes = tuple(codes)


# --- values --------------------------------------------------------------------------------------

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


# --- the cost bucket, shared by every process ------------------------------------------------

# KEYS: the shop's bucket hash. ARGV: cost to reserve, expiry ms. Returns "0" when reserved, else
# the seconds to wait (as a string: Lua numbers would be truncated to integers). An unknown bucket
# lets the request through, since its answer will tell us the bucket. Uses the Redis clock.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'available', 'maximum', 'rate', 'at')
if not state[1] then return '0' end
local maximum = tonumber(state[2])
local rate = tonumber(state[3])
local available = math.min(maximum, tonumber(state[1]) + (now - tonumber(state[4])) / 1000 * rate)
local cost = tonumber(ARGV[1])
if available < cost then
  if rate <= 0 then return '1' end
  return tostring((cost - available) / rate)
end
redis.call('HSET', KEYS[1], 'available', tostring(available - cost), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return '0'
"""

# KEYS: the shop's bucket hash. ARGV: available, maximum, rate, expiry ms. Shopify's word wins.
_OBSERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], 'available', ARGV[1], 'maximum', ARGV[2], 'rate', ARGV[3],
           'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
"""

_BUCKET_EXPIRY_MS = 15 * 60 * 1000


class CostBucket(Protocol):
    def reserve(self, shop_domain: str, cost: float) -> float:
        """Takes `cost` points and returns 0, or returns the seconds to wait and takes nothing."""

    def observe(self, shop_domain: str, status: ThrottleStatus) -> None:
        """Records the bucket as Shopify reported it."""


class RedisCostBucket:
    """Each shop's bucket in a Redis hash, so that every web and worker process sees one bucket."""

    def __init__(self, client: redis.Redis, *, namespace: str = "copilot:shopify:bucket") -> None:
        self.namespace = namespace
        self._reserve = client.register_script(_RESERVE)
        self._observe = client.register_script(_OBSERVE)

    def reserve(self, shop_domain: str, cost: float) -> float:
        wait = self._reserve(
            keys=[f"{self.namespace}:{shop_domain}"], args=[cost, _BUCKET_EXPIRY_MS]
        )
        return float(wait)

    def observe(self, shop_domain: str, status: ThrottleStatus) -> None:
        self._observe(
            keys=[f"{self.namespace}:{shop_domain}"],
            args=[
                status.currently_available,
                status.maximum_available,
                status.restore_rate,
                _BUCKET_EXPIRY_MS,
            ],
        )


class LocalCostBucket:
    """The same bucket in process memory, for a single-process deployment without Redis."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float, float, float]] = {}

    def reserve(self, shop_domain: str, cost: float) -> float:
        with self._lock:
            state = self._state.get(shop_domain)
            if state is None:
                return 0.0
            available, maximum, rate, at = state
            now = time.monotonic()
            available = min(maximum, available + (now - at) * rate)
            if available < cost:
                return (cost - available) / rate if rate > 0 else 1.0
            self._state[shop_domain] = (available - cost, maximum, rate, now)
            return 0.0

    def observe(self, shop_domain: str, status: ThrottleStatus) -> None:
        with self._lock:
            self._state[shop_domain] = (
                status.currently_available,
                status.maximum_available,
                status.restore_rate,
                time.monotonic(),
            )

    def clear(self) -> None:
        with self._lock:
            self._state.clear()


_shared_buckets: dict[str, CostBucket] = {}
_shared_buckets_lock = threading.Lock()


def shared_cost_bucket(redis_url: str, *, socket_timeout: float = 2.0) -> CostBucket:
    """The process's bucket store: in Redis when `redis_url` is set, else in memory."""
    with _shared_buckets_lock:
        if redis_url not in _shared_buckets:
            if redis_url:
                client = redis.Redis.from_url(
                    redis_url, socket_connect_timeout=socket_timeout, socket_timeout=socket_timeout
                )
                _shared_buckets[redis_url] = RedisCostBucket(client)
            else:
                _shared_buckets[redis_url] = LocalCostBucket()
        return _shared_buckets[redis_url]


# Requested cost of each query text, as Shopify last reported it (the same in every process).
_known_costs: dict[str, int] = {}

# --- queries -----------------------------------------------------------------------------------

_MONEY = "shopMoney { amount currencyCode }"

ORDER_FIELDS = f"""
fragment CardOrder on Order {{
  id legacyResourceId name email createdAt updatedAt cancelledAt cancelReason
  displayFinancialStatus displayFulfillmentStatus statusPageUrl tags note
  currentSubtotalPriceSet {{ {_MONEY} }}
  totalShippingPriceSet {{ {_MONEY} }}
  currentTotalPriceSet {{ {_MONEY} }}
  totalRefundedSet {{ {_MONEY} }}
  customer {{ id displayName email numberOfOrders amountSpent {{ amount currencyCode }} }}
  shippingAddress {{ name address1 address2 city provinceCode zip countryCodeV2 phone }}
  fulfillments(first: 3) {{
    status displayStatus createdAt trackingInfo(first: 2) {{ company number url }}
  }}
}}
"""

CUSTOMER_ORDERS_QUERY = (
    """
query CustomerOrders($q: String!, $first: Int!) {
  orders(first: $first, query: $q, sortKey: CREATED_AT, reverse: true) {
    pageInfo { hasNextPage endCursor }
    nodes {
      ...CardOrder
      lineItems(first: 10) {
        pageInfo { hasNextPage }
        nodes {
          id title variantTitle quantity sku refundableQuantity
          originalUnitPriceSet { shopMoney { amount currencyCode } }
        }
      }
    }
  }
}
"""
    + ORDER_FIELDS
)

ORDER_QUERY = (
    """
query OrderDetail($id: ID!) {
  order(id: $id) {
    ...CardOrder
    lineItems(first: 50) {
      pageInfo { hasNextPage }
      nodes {
        id title variantTitle quantity sku refundableQuantity
        originalUnitPriceSet { shopMoney { amount currencyCode } }
      }
    }
    transactions(first: 10) {
      id kind status gateway amountSet { shopMoney { amount currencyCode } }
    }
    refunds(first: 10) { id createdAt note totalRefundedSet { shopMoney { amount currencyCode } } }
  }
}
"""
    + ORDER_FIELDS
)

CUSTOMER_QUERY = """
query CustomerByEmail($q: String!) {
  customers(first: 1, query: $q) {
    nodes { id displayName email numberOfOrders amountSpent { amount currencyCode } }
  }
}
"""

SUGGESTED_REFUND_QUERY = """
query SuggestedRefund(
  $id: ID!, $lineItems: [RefundLineItemInput!], $refundShipping: Boolean, $full: Boolean
) {
  order(id: $id) {
    name email
    suggestedRefund(
      refundLineItems: $lineItems, refundShipping: $refundShipping, suggestFullRefund: $full
    ) {
      amountSet { shopMoney { amount currencyCode } }
      shipping { amountSet { shopMoney { amount currencyCode } } }
      refundLineItems { lineItem { id } quantity restockType }
      suggestedTransactions {
        parentTransaction { id } gateway kind amountSet { shopMoney { amount currencyCode } }
      }
    }
  }
}
"""

REFUND_CREATE_MUTATION = """
mutation RefundCreate($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) {
    refund { id createdAt note totalRefundedSet { shopMoney { amount currencyCode } } }
    userErrors { field message }
  }
}
"""

ORDER_CANCEL_MUTATION = """
mutation OrderCancel(
  $orderId: ID!, $reason: OrderCancelReason!, $restock: Boolean!, $notify: Boolean,
  $staffNote: String, $refundMethod: OrderCancelRefundMethodInput
) {
  orderCancel(
    orderId: $orderId, reason: $reason, restock: $restock, notifyCustomer: $notify,
    staffNote: $staffNote, refundMethod: $refundMethod
  ) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}
"""

JOB_QUERY = "query Job($id: ID!) { job(id: $id) { id done } }"

ORDER_UPDATE_MUTATION = """
mutation OrderUpdate($input: OrderInput!) {
  orderUpdate(input: $input) { order { id name email } userErrors { field message } }
}
"""

ORDER_INVOICE_SEND_MUTATION = """
mutation OrderInvoiceSend($id: ID!, $email: EmailInput) {
  orderInvoiceSend(id: $id, email: $email) {
    order { id name email }
    userErrors { field message code }
  }
}
"""

WEBHOOK_SUBSCRIPTION_CREATE_MUTATION = """
mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
    webhookSubscription { id }
    userErrors { field message }
  }
}
"""

SHOP_QUERY = "query Shop { shop { name myshopifyDomain currencyCode } }"

CANCEL_REASONS = ("CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "STAFF", "OTHER")


def search_value(value: str) -> str:
    """A value for Shopify's search syntax, quoted when it holds anything but plain characters."""
    if value and all(ch.isalnum() or ch in "@._+-" for ch in value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def order_gid(order_id: str | int) -> str:
    """`gid://shopify/Order/<id>` from a global or a numeric (REST, webhook) id."""
    text = str(order_id)
    return text if text.startswith("gid://") else f"gid://shopify/Order/{text}"


# --- the client -------------------------------------------------------------------------------


class ShopifyClient:
    """One shop's GraphQL Admin API.

    `transport` lets tests route requests anywhere (an `httpx.MockTransport`, a WSGI app);
    `bucket` is where the shop's cost bucket is kept (`shared_cost_bucket(...)`); without one the
    client keeps none and relies on Shopify's answers alone.
    """

    def __init__(
        self,
        *,
        shop_domain: str,
        access_token: str,
        api_version: str,
        base_url: str = "",
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        bucket: CostBucket | None = None,
    ) -> None:
        self.shop_domain = shop_domain
        self.api_version = api_version
        self.bucket = bucket
        base = (base_url or f"https://{shop_domain}").rstrip("/")
        self.endpoint = f"{base}/admin/api/{api_version}/graphql.json"
        self._http = httpx.Client(
            headers={
                "X-Shopify-Access-Token": access_token,
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": "kustomer-copilot/0.1",
            },
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            verify=tls_context(),
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ShopifyClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- plumbing -----------------------------------------------------------------------------

    def execute(self, query: str, variables: dict | None = None) -> GraphQLResult:
        """Sends one GraphQL document; returns its `data` and cost, or raises (see module doc)."""
        is_mutation = query.lstrip().startswith("mutation")
        query_key = hashlib.sha1(query.encode(), usedforsecurity=False).hexdigest()
        expected_cost = MUTATION_COST if is_mutation else _known_costs.get(query_key)
        self._reserve(expected_cost if expected_cost is not None else DEFAULT_QUERY_COST)

        started = time.perf_counter()
        try:
            response = self._http.post(
                self.endpoint, content=json.dumps({"query": query, "variables": variables or {}})
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            raise ShopifyUnavailable(
                f"Could not reach Shopify for {self.shop_domain}: {error}", reached_shopify=False
            ) from None
        except httpx.TimeoutException as error:
            raise ShopifyUnavailable(
                f"Shopify did not answer in time for {self.shop_domain}: {error}",
                reached_shopify=True,
            ) from None
        except httpx.TransportError as error:
            raise ShopifyUnavailable(
                f"The connection to Shopify failed for {self.shop_domain}: {error}",
                reached_shopify=True,
            ) from None
        elapsed_ms = (time.perf_counter() - started) * 1000

        payload = _json_or_none(response)
        cost = QueryCost.from_extensions(payload.get("extensions")) if payload else None
        logger.info(
            "shopify %s %s %.0fms cost=%s/%s available=%s",
            self.shop_domain,
            response.status_code,
            elapsed_ms,
            cost.actual if cost else "-",
            cost.requested if cost else "-",
            cost.throttle.currently_available if cost and cost.throttle else "-",
        )
        if cost:
            if not is_mutation and cost.requested:
                _known_costs[query_key] = cost.requested
            if cost.throttle and self.bucket is not None:
                self.bucket.observe(self.shop_domain, cost.throttle)

        self._raise_for_status(response, payload, cost)
        errors = payload.get("errors") if payload else None
        if errors:
            self._raise_for_errors(errors, cost, status=response.status_code)
        data = payload.get("data") if payload else None
        if not isinstance(data, dict):
            raise ShopifyUnavailable(
                f"Shopify answered {self.shop_domain} without data.",
                reached_shopify=True,
                status=response.status_code,
            )
        return GraphQLResult(data=data, cost=cost)

    def _reserve(self, cost: float) -> None:
        if self.bucket is None:
            return
        wait = self.bucket.reserve(self.shop_domain, cost)
        if wait > 0:
            raise ShopifyThrottled(
                f"{self.shop_domain}'s Shopify cost bucket is empty for now "
                f"(room again in {wait:.1f} s); nothing was sent.",
                retry_after=wait,
            )

    def _raise_for_status(
        self, response: httpx.Response, payload: dict | None, cost: QueryCost | None
    ) -> None:
        status = response.status_code
        if status == 429:
            retry_after = _retry_after_header(response) or (
                cost.seconds_until_affordable() if cost else 1.0
            )
            raise ShopifyThrottled(
                f"Shopify throttled {self.shop_domain} (429).", retry_after=retry_after, status=429
            )
        if status in (401, 403):
            raise ShopifyAuthError(
                f"Shopify refused the access token of {self.shop_domain} ({status}): "
                "the app may have been uninstalled or the token revoked.",
                status=status,
            )
        if status >= 500:
            raise ShopifyUnavailable(
                f"Shopify failed for {self.shop_domain} ({status}).",
                reached_shopify=True,
                status=status,
            )
        if status >= 400:
            raise ShopifyQueryError(
                f"Shopify refused the request for {self.shop_domain} ({status}): "
                f"{_error_messages(payload)}",
                status=status,
            )
        if payload is None:
            raise ShopifyUnavailable(
                f"Shopify answered {self.shop_domain} with a body that is not JSON.",
                reached_shopify=True,
                status=status,
            )

    def _raise_for_errors(self, errors: Any, cost: QueryCost | None, *, status: int) -> None:
        if not isinstance(errors, list):
            raise ShopifyQueryError(f"Shopify refused the request: {errors}", status=status)
        codes = [str(((error or {}).get("extensions") or {}).get("code") or "") for error in errors]
        message = "; ".join(str((error or {}).get("message") or "") for error in errors)
        if "THROTTLED" in codes:
            retry_after = cost.seconds_until_affordable() if cost else 1.0
            raise ShopifyThrottled(
                f"Shopify throttled {self.shop_domain}.", retry_after=retry_after, status=status
            )
        lowered = message.lower()
        if "protected customer data" in lowered or "protected-customer-data" in lowered:
            raise ProtectedCustomerDataError(f"{self.shop_domain}: {message}", status=status)
        if "ACCESS_DENIED" in codes:
            raise ShopifyAccessDenied(f"{self.shop_domain}: {message}", status=status)
        if "INTERNAL_SERVER_ERROR" in codes:
            raise ShopifyUnavailable(
                f"Shopify failed for {self.shop_domain}: {message}",
                reached_shopify=True,
                status=status,
            )
        raise ShopifyQueryError(
            f"Shopify refused the request for {self.shop_domain}: {message}",
            codes=[code for code in codes if code],
            status=status,
        )

    # --- reads ----------------------------------------------------------------------------------

    def customer_orders(self, email: str, *, first: int = 10) -> OrdersPage:
        """The customer's most recent orders (newest first), with everything the card shows."""
        result = self.execute(
            CUSTOMER_ORDERS_QUERY, {"q": f"email:{search_value(email)}", "first": first}
        )
        connection = result.data.get("orders") or {}
        page_info = connection.get("pageInfo") or {}
        return OrdersPage(
            orders=tuple(Order.from_node(node) for node in connection.get("nodes") or ()),
            has_next_page=bool(page_info.get("hasNextPage")),
            end_cursor=page_info.get("endCursor"),
            cost=result.cost,
        )

    def order(self, order_id: str) -> Order | None:
        """One order in detail (all line items, transactions and refunds), or None."""
        node = self.execute(ORDER_QUERY, {"id": order_gid(order_id)}).data.get("order")
        return Order.from_node(node) if node else None

    def customer_by_email(self, email: str) -> CustomerSummary | None:
        """The customer's lifetime spend and order count, or None when Shopify has no such email."""
        result = self.execute(CUSTOMER_QUERY, {"q": f"email:{search_value(email)}"})
        nodes = (result.data.get("customers") or {}).get("nodes") or []
        return CustomerSummary.from_node(nodes[0]) if nodes else None

    def shop(self) -> Shop:
        """The shop the token belongs to (a cheap way to check a token)."""
        node = self.execute(SHOP_QUERY).data.get("shop") or {}
        return Shop(
            name=node.get("name") or "",
            domain=node.get("myshopifyDomain") or "",
            currency_code=node.get("currencyCode") or "",
        )

    def job(self, job_id: str) -> Job:
        """An asynchronous job (e.g. a cancellation); one Shopify no longer knows counts as done."""
        node = self.execute(JOB_QUERY, {"id": job_id}).data.get("job")
        if not node:
            return Job(id=job_id, done=True)
        return Job(id=node["id"], done=bool(node.get("done")))

    def suggested_refund(
        self,
        order_id: str,
        *,
        line_items: Sequence[RefundLineItem] | None = None,
        refund_shipping: bool = False,
    ) -> RefundSuggestion | None:
        """Shopify's computation of a refund: everything refundable when `line_items` is None,
        else those items (and the shipping when asked). None when the order does not exist."""
        variables = {
            "id": order_gid(order_id),
            "lineItems": [item.to_input() for item in line_items] if line_items else None,
            "refundShipping": refund_shipping,
            "full": line_items is None,
        }
        order = self.execute(SUGGESTED_REFUND_QUERY, variables).data.get("order")
        if not order or not order.get("suggestedRefund"):
            return None
        node = order["suggestedRefund"]
        amount = Money.from_node(node.get("amountSet"))
        restock = {
            item["lineItem"]["id"]: item.get("restockType") == "RETURN"
            for item in node.get("refundLineItems") or ()
        }
        return RefundSuggestion(
            amount=amount or Money(Decimal("0"), ""),
            shipping=Money.from_node((node.get("shipping") or {}).get("amountSet")),
            line_items=tuple(
                RefundLineItem(
                    line_item_id=item["lineItem"]["id"],
                    quantity=int(item.get("quantity") or 0),
                    restock=restock.get(item["lineItem"]["id"], False),
                )
                for item in node.get("refundLineItems") or ()
            ),
            transactions=tuple(
                SuggestedTransaction(
                    parent_id=(item.get("parentTransaction") or {}).get("id") or "",
                    gateway=item.get("gateway") or "",
                    kind=item.get("kind") or "",
                    amount=Money.from_node(item.get("amountSet")) or Money(Decimal("0"), ""),
                )
                for item in node.get("suggestedTransactions") or ()
            ),
            order_name=order.get("name") or "",
            order_email=order.get("email") or "",
        )

    # --- mutations ------------------------------------------------------------------------------

    def refund_create(
        self,
        *,
        order_id: str,
        idempotency_key: str,
        line_items: Sequence[RefundLineItem] = (),
        shipping_amount: Decimal | None = None,
        transactions: Sequence[SuggestedTransaction] = (),
        notify: bool = False,
        note: str = "",
    ) -> RefundCreateResult:
        """Creates a refund. The same `idempotency_key` always yields the same single refund, so a
        retry after a timeout is safe (Shopify requires the key from 2026-04)."""
        gid = order_gid(order_id)
        refund_input: dict[str, Any] = {
            "orderId": gid,
            "notify": notify,
            "note": note or None,
            "refundLineItems": [item.to_input() for item in line_items],
            "transactions": [item.to_input(gid) for item in transactions],
        }
        if shipping_amount is not None:
            refund_input["shipping"] = {"amount": str(shipping_amount)}
        data = self.execute(REFUND_CREATE_MUTATION, {"input": refund_input, "key": idempotency_key})
        payload = data.data.get("refundCreate") or {}
        refund = payload.get("refund")
        return RefundCreateResult(
            refund=Refund.from_node(refund) if refund else None,
            user_errors=_user_errors(payload.get("userErrors")),
        )

    def order_cancel(
        self,
        *,
        order_id: str,
        reason: str,
        restock: bool,
        notify_customer: bool,
        staff_note: str = "",
        refund: bool = True,
    ) -> OrderCancelResult:
        """Starts cancelling an order (asynchronous: follow `job` until done, then re-read the
        order). `refund` refunds to the original payment methods."""
        if reason not in CANCEL_REASONS:
            raise ValueError(f"reason must be one of {', '.join(CANCEL_REASONS)}")
        variables = {
            "orderId": order_gid(order_id),
            "reason": reason,
            "restock": restock,
            "notify": notify_customer,
            "staffNote": staff_note[:255] or None,
            "refundMethod": {"originalPaymentMethodsRefund": True} if refund else None,
        }
        payload = self.execute(ORDER_CANCEL_MUTATION, variables).data.get("orderCancel") or {}
        job = payload.get("job")
        return OrderCancelResult(
            job=Job(id=job["id"], done=bool(job.get("done"))) if job else None,
            user_errors=_user_errors(payload.get("orderCancelUserErrors")),
        )

    def order_update(
        self,
        *,
        order_id: str,
        shipping_address: MailingAddress | None = None,
        note: str | None = None,
        tags: Sequence[str] | None = None,
    ) -> OrderUpdateResult:
        """Changes the shipping address, the note or the tags (only the ones given)."""
        order_input: dict[str, Any] = {"id": order_gid(order_id)}
        if shipping_address is not None:
            order_input["shippingAddress"] = shipping_address.to_input()
        if note is not None:
            order_input["note"] = note
        if tags is not None:
            order_input["tags"] = list(tags)
        payload = self.execute(ORDER_UPDATE_MUTATION, {"input": order_input}).data
        result = payload.get("orderUpdate") or {}
        order = result.get("order") or {}
        return OrderUpdateResult(
            order_id=order.get("id"),
            user_errors=_user_errors(result.get("userErrors")),
            order_name=order.get("name") or "",
            order_email=order.get("email") or "",
        )

    def order_invoice_send(
        self, order_id: str, *, to: str = "", custom_message: str = ""
    ) -> InvoiceSendResult:
        """Emails the order's invoice again (to the order's email unless `to` is given)."""
        email: dict[str, str] = {}
        if to:
            email["to"] = to
        if custom_message:
            email["customMessage"] = custom_message
        variables = {"id": order_gid(order_id), "email": email or None}
        result = self.execute(ORDER_INVOICE_SEND_MUTATION, variables).data
        payload = result.get("orderInvoiceSend") or {}
        order = payload.get("order") or {}
        return InvoiceSendResult(
            order_id=order.get("id"),
            user_errors=_user_errors(payload.get("userErrors")),
            order_name=order.get("name") or "",
            order_email=order.get("email") or "",
        )

    def webhook_subscription_create(self, *, topic: str, uri: str) -> WebhookSubscriptionResult:
        """Subscribes `uri` to a topic, e.g. `ORDERS_UPDATED` (JSON bodies)."""
        result = self.execute(WEBHOOK_SUBSCRIPTION_CREATE_MUTATION, {"topic": topic, "uri": uri})
        payload = result.data.get("webhookSubscriptionCreate") or {}
        return WebhookSubscriptionResult(
            id=(payload.get("webhookSubscription") or {}).get("id"),
            user_errors=_user_errors(payload.get("userErrors")),
        )


def _user_errors(nodes: Any) -> tuple[UserError, ...]:
    return tuple(UserError.from_node(node) for node in nodes or () if isinstance(node, dict))


def _json_or_none(response: httpx.Response) -> dict | None:
    try:
        payload = response.json()
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def _retry_after_header(response: httpx.Response) -> float | None:
    try:
        return max(float(response.headers.get("Retry-After", "")), 0.1)
    except ValueError:
        return None


def _error_messages(payload: dict | None) -> str:
    errors = (payload or {}).get("errors")
    if isinstance(errors, list):
        return "; ".join(str((error or {}).get("message") or error) for error in errors)
    return str(errors or "no details")
