"""`ShopifyClient`: one shop's GraphQL Admin API (see the package's docstring)."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import httpx

from ..http import tls_context
from .bucket import CostBucket
from .documents import (
    CANCEL_REASONS,
    CUSTOMER_ORDERS_QUERY,
    CUSTOMER_QUERY,
    JOB_QUERY,
    ORDER_CANCEL_MUTATION,
    ORDER_INVOICE_SEND_MUTATION,
    ORDER_QUERY,
    ORDER_UPDATE_MUTATION,
    REFUND_CREATE_MUTATION,
    SHOP_QUERY,
    SUGGESTED_REFUND_QUERY,
    WEBHOOK_SUBSCRIPTION_CREATE_MUTATION,
    order_gid,
    search_value,
)
from .errors import (
    ProtectedCustomerDataError,
    ShopifyAccessDenied,
    ShopifyAuthError,
    ShopifyQueryError,
    ShopifyThrottled,
    ShopifyUnavailable,
)
from .types import (
    CustomerSummary,
    GraphQLResult,
    InvoiceSendResult,
    Job,
    MailingAddress,
    Money,
    Order,
    OrderCancelResult,
    OrdersPage,
    OrderUpdateResult,
    QueryCost,
    Refund,
    RefundCreateResult,
    RefundLineItem,
    RefundSuggestion,
    Shop,
    SuggestedTransaction,
    UserError,
    WebhookSubscriptionResult,
)

logger = logging.getLogger(__name__)

# Requested cost assumed for a query the process has not sent yet (mutations cost 10).
DEFAULT_QUERY_COST = 50
MUTATION_COST = 10

# Requested cost of each query text, as Shopify last reported it (the same in every process).
_known_costs: dict[str, int] = {}


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
