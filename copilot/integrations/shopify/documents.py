"""The GraphQL documents the client sends, and the helpers that fill in their variables."""

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
