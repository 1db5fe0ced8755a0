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

The package holds, by what they are: `errors` (what a request raises), `types` (the values
returned), `bucket` (the shared cost bucket), `documents` (the GraphQL sent) and `client`
(`ShopifyClient`). Import from the package itself: every public name is here.
"""

from .bucket import (
    CostBucket,
    LocalCostBucket,
    RedisCostBucket,
    shared_cost_bucket,
)
from .client import (
    DEFAULT_QUERY_COST,
    MUTATION_COST,
    ShopifyClient,
)

# The costs Shopify reported, per query text: the fake Shopify's tests forget them between cases.
from .client import _known_costs as _known_costs
from .documents import (
    CANCEL_REASONS,
    CUSTOMER_ORDERS_QUERY,
    CUSTOMER_QUERY,
    JOB_QUERY,
    ORDER_CANCEL_MUTATION,
    ORDER_FIELDS,
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
    Fulfillment,
    GraphQLResult,
    InvoiceSendResult,
    Job,
    LineItem,
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
    ThrottleStatus,
    TrackingInfo,
    Transaction,
    UserError,
    WebhookSubscriptionResult,
)

__all__ = [
    "CANCEL_REASONS",
    "CUSTOMER_ORDERS_QUERY",
    "CUSTOMER_QUERY",
    "DEFAULT_QUERY_COST",
    "JOB_QUERY",
    "MUTATION_COST",
    "ORDER_CANCEL_MUTATION",
    "ORDER_FIELDS",
    "ORDER_INVOICE_SEND_MUTATION",
    "ORDER_QUERY",
    "ORDER_UPDATE_MUTATION",
    "REFUND_CREATE_MUTATION",
    "SHOP_QUERY",
    "SUGGESTED_REFUND_QUERY",
    "WEBHOOK_SUBSCRIPTION_CREATE_MUTATION",
    "CostBucket",
    "CustomerSummary",
    "Fulfillment",
    "GraphQLResult",
    "InvoiceSendResult",
    "Job",
    "LineItem",
    "LocalCostBucket",
    "MailingAddress",
    "Money",
    "Order",
    "OrderCancelResult",
    "OrderUpdateResult",
    "OrdersPage",
    "ProtectedCustomerDataError",
    "QueryCost",
    "RedisCostBucket",
    "Refund",
    "RefundCreateResult",
    "RefundLineItem",
    "RefundSuggestion",
    "Shop",
    "ShopifyAccessDenied",
    "ShopifyAuthError",
    "ShopifyClient",
    "ShopifyQueryError",
    "ShopifyThrottled",
    "ShopifyUnavailable",
    "SuggestedTransaction",
    "ThrottleStatus",
    "TrackingInfo",
    "Transaction",
    "UserError",
    "WebhookSubscriptionResult",
    "order_gid",
    "search_value",
    "shared_cost_bucket",
]
