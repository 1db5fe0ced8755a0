"""The fake Shopify's GraphQL: a real schema (`sdl.SDL`, built with graphql-core), resolvers over
the fake's models, Shopify's query-cost rules and its leaky bucket.

`run(...)` takes one request (`query`, `variables`, `operationName`) for a shop and returns the
HTTP status, the JSON body and extra headers, as Shopify would answer it:

- parse and validation errors: HTTP 200 with `errors` (and no `data`);
- a requested cost above 1,000: `MAX_COST_EXCEEDED`;
- no room in the shop's bucket: `THROTTLED`, with HTTP 200 (or `SANDBOX_SHOPIFY_THROTTLE_STATUS`,
  e.g. 429 with `Retry-After`);
- otherwise `data`, any field errors, and `extensions.cost` with the requested and actual cost
  and the bucket after the refund of the difference.

Costs follow shopify.dev: scalars and enums 0, objects 1, connections 2 plus `first` (or `last`)
times the cost of one node, lists sized by their `first` argument, mutations 10.
"""

import base64
import functools
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    VariableNode,
    build_schema,
    execute,
    get_named_type,
    is_object_type,
    parse,
    validate,
)

from . import services
from .bucket import buckets
from .models import Customer, Job, Order, Shop, WebhookSubscription, gid, legacy_id, pk_from_gid
from .money import ZERO, money, money_bag, order_totals
from .sdl import SDL
from .webhooks import status_page_url

MAX_QUERY_COST = 1000
MAX_PAGE_SIZE = 250
MUTATION_COST = 10
IDEMPOTENCY_REQUIRED_FROM = "2026-04"
PROTECTED_DATA_MESSAGE = (
    "This app is not approved to access the Customer object's personal fields. Access to "
    "protected customer data (names, emails, phone numbers and addresses) requires approval: "
    "https://shopify.dev/docs/apps/launch/protected-customer-data"
)


@dataclass
class Context:
    shop: Shop
    api_version: str
    variables: dict
    totals: dict = field(default_factory=dict)
    customer_stats: dict = field(default_factory=dict)


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _totals(info, order: Order):
    cache = info.context.totals
    if order.pk not in cache:
        cache[order.pk] = order_totals(order)
    return cache[order.pk]


def _protected(info) -> None:
    """Names, emails, phones and addresses need the protected-customer-data approval."""
    if not settings.SANDBOX_SHOPIFY_PROTECTED_CUSTOMER_DATA:
        raise GraphQLError(PROTECTED_DATA_MESSAGE, extensions={"code": "ACCESS_DENIED"})


def _cursor(index: int) -> str:
    return base64.b64encode(f"offset:{index}".encode()).decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.b64decode(cursor).decode().split(":", 1)[1]) + 1
    except (ValueError, IndexError) as error:
        raise GraphQLError("Invalid cursor.", extensions={"code": "BAD_REQUEST"}) from error


def connection(items: list, *, first=None, after=None, last=None, before=None) -> dict:
    """A Relay connection over a list, with offset cursors."""
    start = _offset(after)
    end = len(items)
    if before:
        end = min(end, _offset(before) - 1)
    window = list(enumerate(items))[start:end]
    has_next = has_previous = False
    if first is not None:
        has_next = len(window) > first
        window = window[:first]
    elif last is not None:
        has_previous = len(window) > last
        window = window[-last:] if last else []
    return {
        "nodes": [item for _, item in window],
        "edges": [{"cursor": _cursor(index), "node": item} for index, item in window],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous or start > 0,
            "startCursor": _cursor(window[0][0]) if window else None,
            "endCursor": _cursor(window[-1][0]) if window else None,
        },
    }


# --- Shopify's search syntax -----------------------------------------------------------------


def search_terms(query: str | None) -> list[tuple[str | None, str]]:
    """`email:ada@example.com name:"#1001" shoes` → [("email", ...), ("name", ...), (None, ...)]."""
    terms: list[tuple[str | None, str]] = []
    token, quoted, escaped = "", False, False
    tokens: list[str] = []
    for char in query or "":
        if escaped:
            token += char
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char.isspace() and not quoted:
            if token:
                tokens.append(token)
            token = ""
        else:
            token += char
    if token:
        tokens.append(token)
    for item in tokens:
        if item.upper() in {"AND", "OR"}:
            continue
        name, sep, value = item.partition(":")
        terms.append((name.lower(), value) if sep else (None, item))
    return terms


def _date_filter(field_name: str, value: str) -> Q:
    for prefix, lookup in ((">=", "gte"), ("<=", "lte"), (">", "gt"), ("<", "lt")):
        if value.startswith(prefix):
            value, suffix = value[len(prefix) :], lookup
            break
    else:
        suffix = "date"
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return Q(pk__in=[])
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if suffix == "date":
        return Q(**{f"{field_name}__date": moment.date()})
    return Q(**{f"{field_name}__{suffix}": moment})


def _order_filter(terms) -> tuple[Q, list[str]]:
    condition, tags = Q(), []
    for name, value in terms:
        if name == "email":
            condition &= Q(email__iexact=value) | Q(customer__email__iexact=value)
        elif name == "name":
            number = value.lstrip("#")
            condition &= Q(number=int(number)) if number.isdigit() else Q(pk__in=[])
        elif name == "id":
            condition &= Q(pk=pk_from_gid("Order", value) or 0)
        elif name == "customer_id":
            condition &= Q(customer_id=pk_from_gid("Customer", value) or 0)
        elif name == "status":
            if value == "open":
                condition &= Q(closed_at__isnull=True, cancelled_at__isnull=True)
            elif value == "closed":
                condition &= Q(closed_at__isnull=False)
            elif value == "cancelled":
                condition &= Q(cancelled_at__isnull=False)
        elif name == "financial_status":
            condition &= Q(financial_status__iexact=value)
        elif name == "fulfillment_status":
            mapped = {"shipped": "FULFILLED", "partial": "PARTIALLY_FULFILLED"}.get(value, value)
            condition &= Q(fulfillment_status__iexact=mapped)
        elif name in {"created_at", "updated_at"}:
            condition &= _date_filter(name, value)
        elif name == "tag":
            tags.append(value.lower())
        elif name is None:
            text = value.lstrip("#")
            text_match = (
                Q(email__icontains=value)
                | Q(customer__first_name__icontains=value)
                | Q(customer__last_name__icontains=value)
            )
            if text.isdigit():
                text_match |= Q(number=int(text))
            condition &= text_match
    return condition, tags


# --- resolvers -------------------------------------------------------------------------------

ORDER_SORT = {
    "CREATED_AT": ("created_at", "pk"),
    "PROCESSED_AT": ("created_at", "pk"),
    "UPDATED_AT": ("updated_at", "pk"),
    "ORDER_NUMBER": ("number",),
    "ID": ("pk",),
    "TOTAL_PRICE": ("pk",),
}


def _orders_queryset(shop: Shop):
    queryset = (
        Order.objects.filter(shop=shop)
        .select_related("customer", "shop")
        .prefetch_related("line_items", "fulfillments", "transactions", "refunds")
    )
    if not shop.read_all_orders:
        queryset = queryset.filter(created_at__gte=timezone.now() - timedelta(days=60))
    return queryset


def resolve_orders(_root, info, query=None, sortKey="ID", reverse=False, **page):
    condition, tags = _order_filter(search_terms(query))
    ordering = ORDER_SORT.get(sortKey, ("pk",))
    if reverse:
        ordering = tuple(f"-{name}" for name in ordering)
    orders = list(_orders_queryset(info.context.shop).filter(condition).order_by(*ordering))
    if tags:
        orders = [o for o in orders if all(t in {x.lower() for x in o.tags} for t in tags)]
    return connection(orders, **page)


def resolve_order(_root, info, id):
    pk = pk_from_gid("Order", id)
    return _orders_queryset(info.context.shop).filter(pk=pk).first() if pk else None


def resolve_customers(_root, info, query=None, sortKey="ID", reverse=False, **page):
    condition = Q()
    for name, value in search_terms(query):
        if name == "email":
            condition &= Q(email__iexact=value)
        elif name == "id":
            condition &= Q(pk=pk_from_gid("Customer", value) or 0)
        elif name in {"first_name", "last_name"}:
            condition &= Q(**{f"{name}__iexact": value})
        elif name is None:
            condition &= (
                Q(email__icontains=value)
                | Q(first_name__icontains=value)
                | Q(last_name__icontains=value)
            )
    ordering = {"CREATED_AT": "created_at", "NAME": "last_name"}.get(sortKey, "pk")
    customers = list(
        Customer.objects.filter(shop=info.context.shop)
        .filter(condition)
        .order_by(f"-{ordering}" if reverse else ordering, "pk")
    )
    return connection(customers, **page)


def resolve_customer(_root, info, id):
    pk = pk_from_gid("Customer", id)
    return Customer.objects.filter(shop=info.context.shop, pk=pk).first() if pk else None


def resolve_job(_root, info, id):
    key = str(id).rsplit("/", 1)[-1]
    job = Job.objects.filter(shop=info.context.shop, key=key).first()
    if job is None:
        return None
    job = services.job_due(job)
    return {"id": job.gid, "done": job.completed_at is not None}


def resolve_webhook_subscriptions(_root, info, **page):
    subscriptions = list(WebhookSubscription.objects.filter(shop=info.context.shop).order_by("pk"))
    return connection(subscriptions, **page)


def _currency(obj) -> str:
    return getattr(obj, "_currency", "USD")


def _with_currency(items, currency: str) -> list:
    items = list(items)
    for item in items:
        item._currency = currency
    return items


def _customer_stats(info, customer: Customer) -> tuple[int, Decimal]:
    cache = info.context.customer_stats
    if customer.pk not in cache:
        orders = Order.objects.filter(customer=customer).prefetch_related(
            "line_items", "transactions"
        )
        spent = sum((order_totals(order).net_payment for order in orders), ZERO)
        cache[customer.pk] = (len(orders), spent)
    return cache[customer.pk]


def _shipping_address(order: Order) -> dict | None:
    address = order.shipping_address
    if not address:
        return None
    first, last = address.get("firstName") or "", address.get("lastName") or ""
    return {
        "name": f"{first} {last}".strip() or None,
        "firstName": first,
        "lastName": last,
        "address1": address.get("address1"),
        "address2": address.get("address2") or None,
        "city": address.get("city"),
        "provinceCode": address.get("provinceCode") or None,
        "zip": address.get("zip"),
        "countryCodeV2": address.get("countryCode") or None,
        "phone": address.get("phone") or None,
    }


def _protected_field(resolve):
    def resolver(obj, info, **kwargs):
        _protected(info)
        return resolve(obj, info, **kwargs)

    return resolver


def _suggested_refund(order: Order, info, **kwargs) -> dict:
    amount = kwargs.get("shippingAmount")
    suggestion = services.refund_suggest(
        order,
        refund_line_items=kwargs.get("refundLineItems"),
        refund_shipping=bool(kwargs.get("refundShipping")),
        shipping_amount=Decimal(str(amount)) if amount is not None else None,
        suggest_full_refund=bool(kwargs.get("suggestFullRefund")),
    )
    currency = order.currency_code
    totals = _totals(info, order)
    for line in suggestion.lines:
        line.line_item._currency = currency
    return {
        "amountSet": money_bag(suggestion.amount, currency),
        "subtotalSet": money_bag(suggestion.subtotal, currency),
        "maximumRefundableSet": money_bag(suggestion.maximum_refundable, currency),
        "shipping": {
            "amountSet": money_bag(suggestion.shipping, currency),
            "maximumRefundableSet": money_bag(totals.shipping_refundable, currency),
        },
        "refundLineItems": [
            {
                "id": None,
                "lineItem": line.line_item,
                "quantity": line.quantity,
                "restockType": line.restock_type,
                "restocked": False,
                "subtotalSet": money_bag(line.subtotal, currency),
            }
            for line in suggestion.lines
        ],
        "suggestedTransactions": [
            {
                "parentTransaction": _with_currency([parent], currency)[0],
                "gateway": parent.gateway,
                "kind": "SUGGESTED_REFUND",
                "amountSet": money_bag(share, currency),
                "maximumRefundableSet": money_bag(share, currency),
            }
            for parent, share in suggestion.transactions
        ],
    }


def _order_money(name: str):
    def resolver(order: Order, info):
        totals = _totals(info, order)
        value = {
            "subtotalPriceSet": totals.subtotal,
            "currentSubtotalPriceSet": totals.current_subtotal,
            "totalShippingPriceSet": totals.shipping,
            "totalPriceSet": totals.total,
            "currentTotalPriceSet": totals.current_total,
            "totalRefundedSet": totals.refunded,
            "totalReceivedSet": totals.captured,
            "netPaymentSet": totals.net_payment,
        }[name]
        return money_bag(value, order.currency_code)

    return resolver


def _line_items(order: Order, info, **page):
    return connection(_with_currency(order.line_items.all(), order.currency_code), **page)


def _sized(items, first):
    items = list(items)
    return items[:first] if first is not None else items


RESOLVERS: dict[str, dict[str, Any]] = {
    "Query": {
        "orders": resolve_orders,
        "order": resolve_order,
        "customers": resolve_customers,
        "customer": resolve_customer,
        "job": resolve_job,
        "shop": lambda _root, info: info.context.shop,
        "webhookSubscriptions": resolve_webhook_subscriptions,
    },
    "Shop": {
        "id": lambda shop, _info: gid("Shop", shop.pk),
        "myshopifyDomain": lambda shop, _info: shop.domain,
        "currencyCode": lambda shop, _info: shop.currency_code,
    },
    "Order": {
        "id": lambda o, _info: gid("Order", o.pk),
        "legacyResourceId": lambda o, _info: str(o.legacy_id),
        "email": _protected_field(lambda o, _info: o.email or None),
        "phone": _protected_field(lambda o, _info: None),
        "createdAt": lambda o, _info: _iso(o.created_at),
        "updatedAt": lambda o, _info: _iso(o.updated_at),
        "processedAt": lambda o, _info: _iso(o.created_at),
        "closedAt": lambda o, _info: _iso(o.closed_at),
        "closed": lambda o, _info: o.closed_at is not None,
        "cancelledAt": lambda o, _info: _iso(o.cancelled_at),
        "cancelReason": lambda o, _info: o.cancel_reason or None,
        "displayFinancialStatus": lambda o, _info: o.financial_status,
        "displayFulfillmentStatus": lambda o, _info: o.fulfillment_status,
        "statusPageUrl": lambda o, _info: status_page_url(o),
        "note": lambda o, _info: o.note or None,
        "currencyCode": lambda o, _info: o.currency_code,
        "refundable": lambda o, info: _totals(info, o).net_payment > ZERO,
        **{
            name: _order_money(name)
            for name in (
                "subtotalPriceSet",
                "currentSubtotalPriceSet",
                "totalShippingPriceSet",
                "totalPriceSet",
                "currentTotalPriceSet",
                "totalRefundedSet",
                "totalReceivedSet",
                "netPaymentSet",
            )
        },
        "customer": lambda o, _info: o.customer,
        "shippingAddress": _protected_field(lambda o, _info: _shipping_address(o)),
        "lineItems": _line_items,
        "fulfillments": lambda o, _info, first=None: _with_currency(
            _sized(o.fulfillments.all(), first), o.currency_code
        ),
        "refunds": lambda o, _info, first=None: _with_currency(
            _sized(o.refunds.all(), first), o.currency_code
        ),
        "transactions": lambda o, _info, first=None: _with_currency(
            _sized(o.transactions.all(), first), o.currency_code
        ),
        "suggestedRefund": _suggested_refund,
    },
    "Customer": {
        "id": lambda c, _info: gid("Customer", c.pk),
        "legacyResourceId": lambda c, _info: str(legacy_id("Customer", c.pk)),
        "displayName": _protected_field(lambda c, _info: c.display_name),
        "firstName": _protected_field(lambda c, _info: c.first_name),
        "lastName": _protected_field(lambda c, _info: c.last_name),
        "email": _protected_field(lambda c, _info: c.email),
        "phone": _protected_field(lambda c, _info: c.phone or None),
        # UnsignedInt64 travels as a string.
        "numberOfOrders": lambda c, info: str(_customer_stats(info, c)[0]),
        "amountSpent": lambda c, info: money(_customer_stats(info, c)[1], c.shop.currency_code),
        "createdAt": lambda c, _info: _iso(c.created_at),
    },
    "LineItem": {
        "id": lambda i, _info: gid("LineItem", i.pk),
        "name": lambda i, _info: f"{i.title} - {i.variant_title}" if i.variant_title else i.title,
        "variantTitle": lambda i, _info: i.variant_title or None,
        "sku": lambda i, _info: i.sku or None,
        "currentQuantity": lambda i, _info: i.refundable_quantity,
        "refundableQuantity": lambda i, _info: i.refundable_quantity,
        "originalUnitPriceSet": lambda i, _info: money_bag(i.price, _currency(i)),
        "originalTotalSet": lambda i, _info: money_bag(i.price * i.quantity, _currency(i)),
    },
    "Fulfillment": {
        "id": lambda f, _info: gid("Fulfillment", f.pk),
        "name": lambda f, _info: f"F{f.pk}",
        "displayStatus": lambda f, _info: f.display_status or None,
        "createdAt": lambda f, _info: _iso(f.created_at),
        "trackingInfo": lambda f, _info, first=None: _sized(
            [{"company": f.tracking_company, "number": f.tracking_number, "url": f.tracking_url}]
            if f.tracking_number
            else [],
            first,
        ),
        "fulfillmentLineItems": lambda f, _info, **page: connection(
            _with_currency(f.items.select_related("line_item"), _currency(f)), **page
        ),
    },
    "FulfillmentLineItem": {
        "id": lambda i, _info: gid("FulfillmentLineItem", i.pk),
        "lineItem": lambda i, _info: _with_currency([i.line_item], _currency(i))[0],
    },
    "OrderTransaction": {
        "id": lambda t, _info: gid("OrderTransaction", t.pk),
        "amountSet": lambda t, _info: money_bag(t.amount, _currency(t)),
        "createdAt": lambda t, _info: _iso(t.created_at),
        "parentTransaction": lambda t, _info: (
            _with_currency([t.parent], _currency(t))[0] if t.parent_id else None
        ),
    },
    "Refund": {
        "id": lambda r, _info: gid("Refund", r.pk),
        "legacyResourceId": lambda r, _info: str(legacy_id("Refund", r.pk)),
        "createdAt": lambda r, _info: _iso(r.created_at),
        "note": lambda r, _info: r.note or None,
        "totalRefundedSet": lambda r, _info: money_bag(r.total_amount, _currency(r)),
        "refundLineItems": lambda r, _info, **page: connection(
            [
                {
                    "id": gid("RefundLineItem", item.pk),
                    "lineItem": _with_currency([item.line_item], _currency(r))[0],
                    "quantity": item.quantity,
                    "restockType": item.restock_type,
                    "restocked": item.restock_type in {"RETURN", "CANCEL"},
                    "subtotalSet": money_bag(item.subtotal, _currency(r)),
                }
                for item in r.items.select_related("line_item")
            ],
            **page,
        ),
        "transactions": lambda r, _info, **page: connection(
            _with_currency(r.transactions.all(), _currency(r)), **page
        ),
        "order": lambda r, info: resolve_order(None, info, gid("Order", r.order_id)),
    },
    "WebhookSubscription": {
        "id": lambda s, _info: gid("WebhookSubscription", s.pk),
        "format": lambda s, _info: "JSON",
        "createdAt": lambda s, _info: _iso(s.created_at),
    },
}


# --- mutations -------------------------------------------------------------------------------


def _directive_argument(info, directive: str, argument: str) -> str | None:
    """A directive's argument on the current field, e.g. `@idempotent(key: ...)`."""
    for node in info.field_nodes[0].directives or ():
        if node.name.value != directive:
            continue
        for arg in node.arguments:
            if arg.name.value != argument:
                continue
            if isinstance(arg.value, StringValueNode):
                return arg.value.value
            if isinstance(arg.value, VariableNode):
                value = info.context.variables.get(arg.value.name.value)
                return str(value) if value is not None else None
    return None


def resolve_refund_create(_root, info, input):
    key = _directive_argument(info, "idempotent", "key")
    version = info.context.api_version
    if not key and (version == "unstable" or version >= IDEMPOTENCY_REQUIRED_FROM):
        raise GraphQLError(
            "The @idempotent directive with a key is required on refundCreate "
            f"(from API version {IDEMPOTENCY_REQUIRED_FROM}).",
            extensions={"code": "BAD_REQUEST"},
        )
    try:
        outcome = services.refund_create(
            shop=info.context.shop, refund_input=input, idempotency_key=key
        )
    except services.IdempotencyMismatch as error:
        raise GraphQLError(
            "This idempotency key was already used with different parameters.",
            extensions={"code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"},
        ) from error
    refund = outcome.refund
    if refund is not None:
        refund._currency = refund.order.currency_code
    return {
        "refund": refund,
        "order": resolve_order(None, info, gid("Order", refund.order_id)) if refund else None,
        "userErrors": outcome.user_errors,
    }


def resolve_order_cancel(
    _root,
    info,
    orderId,
    reason,
    restock,
    refundMethod=None,
    notifyCustomer=None,
    staffNote=None,
    refund=None,
):
    outcome = services.order_cancel(
        shop=info.context.shop,
        order_id=orderId,
        reason=reason,
        restock=bool(restock),
        refund=bool((refundMethod or {}).get("originalPaymentMethodsRefund")) or bool(refund),
        notify_customer=bool(notifyCustomer),
        staff_note=staffNote,
    )
    job = outcome.job
    return {
        "job": {"id": job.gid, "done": job.completed_at is not None} if job else None,
        "orderCancelUserErrors": outcome.user_errors,
        "userErrors": [
            {"field": error["field"], "message": error["message"]} for error in outcome.user_errors
        ],
    }


def resolve_order_update(_root, info, input):
    outcome = services.order_update(shop=info.context.shop, order_input=input)
    order = outcome.order
    return {
        "order": resolve_order(None, info, gid("Order", order.pk)) if order else None,
        "userErrors": outcome.user_errors,
    }


def resolve_order_invoice_send(_root, info, id, email=None):
    outcome = services.order_invoice_send(shop=info.context.shop, order_id=id, email=email)
    order = outcome.order
    return {
        "order": resolve_order(None, info, gid("Order", order.pk)) if order else None,
        "userErrors": outcome.user_errors,
    }


def resolve_return_create(_root, info, returnInput):
    outcome = services.return_create(shop=info.context.shop, return_input=returnInput)
    created = outcome.return_request
    payload = None
    if created is not None:
        number = created.order.returns.filter(pk__lte=created.pk).count()
        payload = {
            "id": gid("Return", created.pk),
            "name": f"{created.order.name}-R{number}",
            "status": created.status,
            "order": resolve_order(None, info, gid("Order", created.order_id)),
            "totalQuantity": sum(item.quantity for item in created.items.all()),
        }
    return {"return": payload, "userErrors": outcome.user_errors}


def resolve_webhook_subscription_create(_root, info, topic, webhookSubscription):
    uri = webhookSubscription.get("uri") or webhookSubscription.get("callbackUrl") or ""
    outcome = services.webhook_subscription_create(shop=info.context.shop, topic=topic, uri=uri)
    return {"webhookSubscription": outcome.subscription, "userErrors": outcome.user_errors}


RESOLVERS["Mutation"] = {
    "refundCreate": resolve_refund_create,
    "orderCancel": resolve_order_cancel,
    "orderUpdate": resolve_order_update,
    "orderInvoiceSend": resolve_order_invoice_send,
    "returnCreate": resolve_return_create,
    "webhookSubscriptionCreate": resolve_webhook_subscription_create,
}


def _build() -> Any:
    schema = build_schema(SDL)
    for type_name, fields in RESOLVERS.items():
        graphql_type = schema.get_type(type_name)
        for field_name, resolver in fields.items():
            graphql_type.fields[field_name].resolve = resolver
    return schema


SCHEMA = _build()


# --- cost ------------------------------------------------------------------------------------


class CostError(Exception):
    """The query cannot be costed (e.g. a connection without `first` or `last`)."""


def _fields(selection_set, fragments: dict, variables: dict) -> list[FieldNode]:
    result: list[FieldNode] = []
    for selection in selection_set.selections if selection_set else ():
        if not _included(selection, variables):
            continue
        if isinstance(selection, FieldNode):
            result.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            result.extend(_fields(selection.selection_set, fragments, variables))
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                result.extend(_fields(fragment.selection_set, fragments, variables))
    return result


def _included(node, variables: dict) -> bool:
    for directive in node.directives or ():
        if directive.name.value not in {"skip", "include"}:
            continue
        value = _argument(directive, "if", variables)
        if (directive.name.value == "skip") == bool(value):
            return False
    return True


def _argument(node, name: str, variables: dict):
    for arg in node.arguments or ():
        if arg.name.value != name:
            continue
        value = arg.value
        if isinstance(value, VariableNode):
            return variables.get(value.name.value)
        if isinstance(value, IntValueNode):
            return int(value.value)
        return getattr(value, "value", None)
    return None


def _page_size(field_node: FieldNode, variables: dict) -> int | None:
    for name in ("first", "last"):
        value = _argument(field_node, name, variables)
        if value is not None:
            size = int(value)
            if size < 0 or size > MAX_PAGE_SIZE:
                raise CostError(
                    f"The page size of {field_node.name.value} must be between 0 and "
                    f"{MAX_PAGE_SIZE}."
                )
            return size
    return None


def _is_list(graphql_type) -> bool:
    if isinstance(graphql_type, GraphQLNonNull):
        graphql_type = graphql_type.of_type
    return isinstance(graphql_type, GraphQLList)


def _node_selection(field_node: FieldNode, fragments, variables) -> tuple[str, Any] | None:
    """For a connection field: which sub-field carries the nodes (`nodes`, or `edges.node`)."""
    for child in _fields(field_node.selection_set, fragments, variables):
        if child.name.value == "nodes":
            return "nodes", child.selection_set
    for child in _fields(field_node.selection_set, fragments, variables):
        if child.name.value == "edges":
            for grandchild in _fields(child.selection_set, fragments, variables):
                if grandchild.name.value == "node":
                    return "edges", grandchild.selection_set
    return None


def requested_cost(parent: GraphQLObjectType, selection_set, fragments, variables) -> int:
    total = 0
    for node in _fields(selection_set, fragments, variables):
        name = node.name.value
        if name.startswith("__"):
            continue
        definition = parent.fields[name]
        named = get_named_type(definition.type)
        if not is_object_type(named):
            continue
        if named.name.endswith("Connection"):
            size = _page_size(node, variables)
            if size is None:
                raise CostError(f"You must provide one of first or last for {name}.")
            node_type = get_named_type(named.fields["nodes"].type)
            inner = _node_selection(node, fragments, variables)
            per_node = 1 + requested_cost(node_type, inner[1], fragments, variables) if inner else 0
            total += 2 + size * per_node
        elif _is_list(definition.type):
            size = _page_size(node, variables)
            size = 1 if size is None else size
            total += size * (1 + requested_cost(named, node.selection_set, fragments, variables))
        else:
            total += 1 + requested_cost(named, node.selection_set, fragments, variables)
    return total


def actual_cost(parent: GraphQLObjectType, selection_set, fragments, variables, data) -> int:
    if not isinstance(data, dict):
        return 0
    total = 0
    for node in _fields(selection_set, fragments, variables):
        name = node.name.value
        if name.startswith("__"):
            continue
        value = data.get(node.alias.value if node.alias else name)
        definition = parent.fields[name]
        named = get_named_type(definition.type)
        if not is_object_type(named) or value is None:
            continue
        if named.name.endswith("Connection"):
            node_type = get_named_type(named.fields["nodes"].type)
            inner = _node_selection(node, fragments, variables)
            total += 2
            if inner:
                key, selection = inner
                items = value.get(key) or []
                if key == "edges":
                    items = [(edge or {}).get("node") for edge in items]
                total += sum(
                    1 + actual_cost(node_type, selection, fragments, variables, item)
                    for item in items
                )
        elif isinstance(value, list):
            total += sum(
                1 + actual_cost(named, node.selection_set, fragments, variables, item)
                for item in value
            )
        else:
            total += 1 + actual_cost(named, node.selection_set, fragments, variables, value)
    return total


# --- one request -----------------------------------------------------------------------------


def _error(message: str, code: str | None = None, **extensions) -> dict:
    error: dict[str, Any] = {"message": message}
    if code:
        error["extensions"] = {"code": code, **extensions}
    return error


def _cost(requested: int, actual: int | None, status) -> dict:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": status.as_dict(),
        }
    }


@functools.lru_cache(maxsize=256)
def _parsed(query: str):
    """Parsed and validated once per query text (clients send the same few queries)."""
    try:
        document = parse(query)
    except GraphQLError as error:
        return None, [error.formatted]
    errors = validate(SCHEMA, document)
    return document, [error.formatted for error in errors]


def run(
    *,
    shop: Shop,
    api_version: str,
    query: str,
    variables: dict | None,
    operation_name: str | None,
) -> tuple[int, dict, dict]:
    """Answers one GraphQL request for `shop`: (HTTP status, JSON body, extra headers)."""
    variables = variables or {}
    document, errors = _parsed(query)
    if errors:
        return 200, {"errors": errors}, {}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        return 200, {"errors": [_error("An operation name is required.", "BAD_REQUEST")]}, {}
    operation = operations[0]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }

    is_mutation = operation.operation == OperationType.MUTATION
    try:
        if is_mutation:
            roots = _fields(operation.selection_set, fragments, variables)
            requested = MUTATION_COST * len([f for f in roots if not f.name.value.startswith("__")])
        else:
            requested = requested_cost(
                SCHEMA.query_type, operation.selection_set, fragments, variables
            )
    except CostError as error:
        return 200, {"errors": [_error(str(error), "BAD_REQUEST")]}, {}

    if requested > MAX_QUERY_COST:
        _, status = buckets.take(shop.domain, 0)
        body = {
            "errors": [
                _error(
                    f"Query cost is {requested}, which exceeds the single query max cost limit "
                    f"({MAX_QUERY_COST}).",
                    "MAX_COST_EXCEEDED",
                    cost=requested,
                    maxCost=MAX_QUERY_COST,
                )
            ],
            "extensions": _cost(requested, None, status),
        }
        return 200, body, {}

    taken, status = buckets.take(shop.domain, requested)
    if not taken:
        body = {
            "errors": [
                _error(
                    "Throttled",
                    "THROTTLED",
                    documentation="https://shopify.dev/api/usage/limits#rate-limits",
                )
            ],
            "extensions": _cost(requested, None, status),
        }
        http_status = int(settings.SANDBOX_SHOPIFY_THROTTLE_STATUS)
        headers = {}
        if http_status == 429:
            wait = (requested - status.currently_available) / max(status.restore_rate, 1e-9)
            headers["Retry-After"] = str(max(math.ceil(wait), 1))
        return http_status, body, headers

    _complete_due_jobs(shop)
    context = Context(shop=shop, api_version=api_version, variables=variables)
    result = execute(
        SCHEMA,
        document,
        context_value=context,
        variable_values=variables,
        operation_name=operation_name,
    )
    if is_mutation:
        actual = requested
    else:
        actual = actual_cost(
            SCHEMA.query_type, operation.selection_set, fragments, variables, result.data
        )
    status = buckets.give_back(shop.domain, requested - actual)
    body: dict[str, Any] = {}
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    if result.data is not None:
        body["data"] = result.data
    body["extensions"] = _cost(requested, actual, status)
    return 200, body, {}


def _complete_due_jobs(shop: Shop) -> None:
    """Jobs whose time has come are applied before anything reads the orders."""
    for job in Job.objects.filter(
        shop=shop, completed_at__isnull=True, done_at__lte=timezone.now()
    ):
        services.job_complete(job.pk)
