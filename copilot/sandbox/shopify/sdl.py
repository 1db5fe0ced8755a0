"""The fake's schema in GraphQL SDL: the part of Shopify's GraphQL Admin API (2026-10) that the
copilot uses. Names, types and nullability follow shopify.dev; other fields are left out."""

SDL = """
directive @idempotent(key: String!) on FIELD

scalar DateTime
scalar Decimal
scalar Money
scalar URL
scalar UnsignedInt64

enum CurrencyCode { USD EUR GBP CAD AUD }
enum CountryCode { US CA GB IE FR DE NL BE ES IT PT AT CH SE DK NO FI AU NZ JP }
enum OrderSortKeys { CREATED_AT PROCESSED_AT UPDATED_AT ID ORDER_NUMBER TOTAL_PRICE }
enum CustomerSortKeys { CREATED_AT UPDATED_AT ID NAME }
enum OrderDisplayFinancialStatus {
  PENDING AUTHORIZED PARTIALLY_PAID PAID PARTIALLY_REFUNDED REFUNDED VOIDED EXPIRED
}
enum OrderDisplayFulfillmentStatus {
  UNFULFILLED PARTIALLY_FULFILLED FULFILLED RESTOCKED PENDING_FULFILLMENT OPEN IN_PROGRESS
  ON_HOLD SCHEDULED REQUEST_DECLINED
}
enum OrderCancelReason { CUSTOMER DECLINED FRAUD INVENTORY STAFF OTHER }
enum FulfillmentStatus { SUCCESS CANCELLED ERROR FAILURE OPEN PENDING }
enum FulfillmentDisplayStatus {
  ATTEMPTED_DELIVERY CANCELED CONFIRMED DELIVERED FAILURE FULFILLED IN_TRANSIT LABEL_PRINTED
  LABEL_PURCHASED MARKED_AS_FULFILLED NOT_DELIVERED OUT_FOR_DELIVERY READY_FOR_PICKUP PICKED_UP
  SUBMITTED
}
enum OrderTransactionKind { SALE CAPTURE AUTHORIZATION VOID REFUND CHANGE EMV_AUTHORIZATION }
enum OrderTransactionStatus { SUCCESS FAILURE PENDING ERROR AWAITING_RESPONSE UNKNOWN }
enum SuggestedOrderTransactionKind { SUGGESTED_REFUND }
enum RefundLineItemRestockType { RETURN CANCEL LEGACY_RESTOCK NO_RESTOCK }
enum OrderCancelUserErrorCode { INVALID NOT_FOUND ORDER_IS_ALREADY_CANCELLED NO_REFUND_PERMISSION }
enum OrderInvoiceSendUserErrorCode { ORDER_INVOICE_SEND_UNSUCCESSFUL }
enum ReturnErrorCode { INVALID NOT_FOUND }
enum ReturnStatus { OPEN REQUESTED CLOSED CANCELED DECLINED }
enum ReturnReason {
  COLOR DEFECTIVE NOT_AS_DESCRIBED OTHER SIZE_TOO_LARGE SIZE_TOO_SMALL STYLE UNKNOWN UNWANTED
  WRONG_ITEM
}
enum WebhookSubscriptionTopic {
  ORDERS_CREATE ORDERS_UPDATED ORDERS_CANCELLED ORDERS_FULFILLED ORDERS_PAID REFUNDS_CREATE
  APP_UNINSTALLED
}
enum WebhookSubscriptionFormat { JSON XML }

type Query {
  orders(
    first: Int, after: String, last: Int, before: String, query: String,
    sortKey: OrderSortKeys = ID, reverse: Boolean = false
  ): OrderConnection!
  order(id: ID!): Order
  customers(
    first: Int, after: String, last: Int, before: String, query: String,
    sortKey: CustomerSortKeys = ID, reverse: Boolean = false
  ): CustomerConnection!
  customer(id: ID!): Customer
  job(id: ID!): Job
  shop: Shop!
  webhookSubscriptions(
    first: Int, after: String, last: Int, before: String
  ): WebhookSubscriptionConnection!
}

type Mutation {
  refundCreate(input: RefundInput!): RefundCreatePayload
  orderCancel(
    orderId: ID!, reason: OrderCancelReason!, restock: Boolean!,
    refundMethod: OrderCancelRefundMethodInput, notifyCustomer: Boolean, staffNote: String,
    refund: Boolean
  ): OrderCancelPayload
  orderUpdate(input: OrderInput!): OrderUpdatePayload
  orderInvoiceSend(id: ID!, email: EmailInput): OrderInvoiceSendPayload
  returnCreate(returnInput: ReturnInput!): ReturnCreatePayload
  webhookSubscriptionCreate(
    topic: WebhookSubscriptionTopic!, webhookSubscription: WebhookSubscriptionInput!
  ): WebhookSubscriptionCreatePayload
}

type PageInfo {
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
  endCursor: String
}

type MoneyV2 { amount: Decimal! currencyCode: CurrencyCode! }
type MoneyBag { shopMoney: MoneyV2! presentmentMoney: MoneyV2! }

type Shop {
  id: ID!
  name: String!
  email: String
  myshopifyDomain: String!
  currencyCode: CurrencyCode!
}

type Job { id: ID! done: Boolean! }

type Customer {
  id: ID!
  legacyResourceId: UnsignedInt64!
  displayName: String!
  firstName: String
  lastName: String
  email: String
  phone: String
  numberOfOrders: UnsignedInt64!
  amountSpent: MoneyV2!
  createdAt: DateTime!
  tags: [String!]!
}
type CustomerEdge { cursor: String! node: Customer! }
type CustomerConnection { nodes: [Customer!]! edges: [CustomerEdge!]! pageInfo: PageInfo! }

type MailingAddress {
  name: String
  firstName: String
  lastName: String
  address1: String
  address2: String
  city: String
  provinceCode: String
  zip: String
  countryCodeV2: CountryCode
  phone: String
}

type Order {
  id: ID!
  legacyResourceId: UnsignedInt64!
  name: String!
  email: String
  phone: String
  createdAt: DateTime!
  updatedAt: DateTime!
  processedAt: DateTime!
  closedAt: DateTime
  closed: Boolean!
  cancelledAt: DateTime
  cancelReason: OrderCancelReason
  displayFinancialStatus: OrderDisplayFinancialStatus
  displayFulfillmentStatus: OrderDisplayFulfillmentStatus!
  statusPageUrl: URL!
  tags: [String!]!
  note: String
  currencyCode: CurrencyCode!
  refundable: Boolean!
  subtotalPriceSet: MoneyBag
  currentSubtotalPriceSet: MoneyBag!
  totalShippingPriceSet: MoneyBag!
  totalPriceSet: MoneyBag!
  currentTotalPriceSet: MoneyBag!
  totalRefundedSet: MoneyBag!
  totalReceivedSet: MoneyBag!
  netPaymentSet: MoneyBag!
  customer: Customer
  shippingAddress: MailingAddress
  lineItems(first: Int, after: String, last: Int, before: String): LineItemConnection!
  fulfillments(first: Int): [Fulfillment!]!
  refunds(first: Int): [Refund!]!
  transactions(first: Int): [OrderTransaction!]!
  suggestedRefund(
    refundLineItems: [RefundLineItemInput!], refundShipping: Boolean, shippingAmount: Money,
    suggestFullRefund: Boolean = false
  ): SuggestedRefund
}
type OrderEdge { cursor: String! node: Order! }
type OrderConnection { nodes: [Order!]! edges: [OrderEdge!]! pageInfo: PageInfo! }

type LineItem {
  id: ID!
  title: String!
  name: String!
  variantTitle: String
  sku: String
  quantity: Int!
  currentQuantity: Int!
  refundableQuantity: Int!
  originalUnitPriceSet: MoneyBag!
  originalTotalSet: MoneyBag!
}
type LineItemEdge { cursor: String! node: LineItem! }
type LineItemConnection { nodes: [LineItem!]! edges: [LineItemEdge!]! pageInfo: PageInfo! }

type FulfillmentTrackingInfo { company: String number: String url: URL }
type FulfillmentLineItem { id: ID! quantity: Int lineItem: LineItem! }
type FulfillmentLineItemEdge { cursor: String! node: FulfillmentLineItem! }
type FulfillmentLineItemConnection {
  nodes: [FulfillmentLineItem!]!
  edges: [FulfillmentLineItemEdge!]!
  pageInfo: PageInfo!
}
type Fulfillment {
  id: ID!
  name: String!
  status: FulfillmentStatus!
  displayStatus: FulfillmentDisplayStatus
  createdAt: DateTime!
  trackingInfo(first: Int): [FulfillmentTrackingInfo!]!
  fulfillmentLineItems(first: Int, after: String): FulfillmentLineItemConnection!
}

type OrderTransaction {
  id: ID!
  kind: OrderTransactionKind!
  status: OrderTransactionStatus!
  gateway: String
  amountSet: MoneyBag!
  createdAt: DateTime!
  parentTransaction: OrderTransaction
}
type OrderTransactionEdge { cursor: String! node: OrderTransaction! }
type OrderTransactionConnection {
  nodes: [OrderTransaction!]!
  edges: [OrderTransactionEdge!]!
  pageInfo: PageInfo!
}

type RefundLineItem {
  id: ID
  lineItem: LineItem!
  quantity: Int!
  restockType: RefundLineItemRestockType!
  restocked: Boolean!
  subtotalSet: MoneyBag!
}
type RefundLineItemEdge { cursor: String! node: RefundLineItem! }
type RefundLineItemConnection {
  nodes: [RefundLineItem!]!
  edges: [RefundLineItemEdge!]!
  pageInfo: PageInfo!
}
type Refund {
  id: ID!
  legacyResourceId: UnsignedInt64!
  createdAt: DateTime
  note: String
  totalRefundedSet: MoneyBag!
  refundLineItems(first: Int, after: String): RefundLineItemConnection!
  transactions(first: Int, after: String): OrderTransactionConnection!
  order: Order!
}

type ShippingRefund { amountSet: MoneyBag! maximumRefundableSet: MoneyBag! }
type SuggestedOrderTransaction {
  parentTransaction: OrderTransaction
  gateway: String
  kind: SuggestedOrderTransactionKind!
  amountSet: MoneyBag!
  maximumRefundableSet: MoneyBag
}
type SuggestedRefund {
  amountSet: MoneyBag!
  subtotalSet: MoneyBag!
  maximumRefundableSet: MoneyBag!
  shipping: ShippingRefund!
  refundLineItems: [RefundLineItem!]!
  suggestedTransactions: [SuggestedOrderTransaction!]!
}

type Return { id: ID! name: String! status: ReturnStatus! order: Order! totalQuantity: Int! }

type WebhookSubscription {
  id: ID!
  topic: WebhookSubscriptionTopic!
  uri: String!
  format: WebhookSubscriptionFormat!
  createdAt: DateTime!
}
type WebhookSubscriptionEdge { cursor: String! node: WebhookSubscription! }
type WebhookSubscriptionConnection {
  nodes: [WebhookSubscription!]!
  edges: [WebhookSubscriptionEdge!]!
  pageInfo: PageInfo!
}

type UserError { field: [String!] message: String! }
type OrderCancelUserError { field: [String!] message: String! code: OrderCancelUserErrorCode }
type OrderInvoiceSendUserError {
  field: [String!]
  message: String!
  code: OrderInvoiceSendUserErrorCode
}
type ReturnUserError { field: [String!] message: String! code: ReturnErrorCode }

type RefundCreatePayload { refund: Refund order: Order userErrors: [UserError!]! }
type OrderCancelPayload {
  job: Job
  orderCancelUserErrors: [OrderCancelUserError!]!
  userErrors: [UserError!]!
}
type OrderUpdatePayload { order: Order userErrors: [UserError!]! }
type OrderInvoiceSendPayload { order: Order userErrors: [OrderInvoiceSendUserError!]! }
type ReturnCreatePayload { return: Return userErrors: [ReturnUserError!]! }
type WebhookSubscriptionCreatePayload {
  webhookSubscription: WebhookSubscription
  userErrors: [UserError!]!
}

input RefundInput {
  orderId: ID!
  note: String
  notify: Boolean
  shipping: ShippingRefundInput
  refundLineItems: [RefundLineItemInput!]
  transactions: [OrderTransactionInput!]
  currency: CurrencyCode
}
input ShippingRefundInput { amount: Money fullRefund: Boolean }
input RefundLineItemInput {
  lineItemId: ID!
  quantity: Int!
  restockType: RefundLineItemRestockType
  locationId: ID
}
input OrderTransactionInput {
  amount: Money!
  gateway: String!
  kind: OrderTransactionKind!
  orderId: ID!
  parentId: ID
}
input OrderCancelRefundMethodInput { originalPaymentMethodsRefund: Boolean }
input MailingAddressInput {
  address1: String
  address2: String
  city: String
  company: String
  countryCode: CountryCode
  firstName: String
  lastName: String
  phone: String
  provinceCode: String
  zip: String
}
input OrderInput {
  id: ID!
  email: String
  note: String
  tags: [String!]
  shippingAddress: MailingAddressInput
}
input EmailInput {
  to: String
  from: String
  subject: String
  customMessage: String
  bcc: [String!]
}
input ReturnLineItemInput {
  fulfillmentLineItemId: ID!
  quantity: Int!
  returnReason: ReturnReason
  returnReasonNote: String
}
input ReturnInput {
  orderId: ID!
  returnLineItems: [ReturnLineItemInput!]!
  notifyCustomer: Boolean
  requestedAt: DateTime
}
input WebhookSubscriptionInput {
  uri: String
  callbackUrl: URL
  format: WebhookSubscriptionFormat
  includeFields: [String!]
}
"""
