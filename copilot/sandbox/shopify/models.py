"""The fake Shopify's own data: shops, customers, orders and what happens to them.

Ids shown to clients are Shopify-like: `gid://shopify/Order/5500000000042` is the order with
primary key 42 (see `gid` and `pk_from_gid`), so the same numbers serve as REST ids in webhooks.
"""

from decimal import Decimal

from django.db import models

ID_OFFSETS = {
    "Order": 5_500_000_000_000,
    "Customer": 7_100_000_000_000,
    "LineItem": 13_600_000_000_000,
    "Fulfillment": 4_900_000_000_000,
    "FulfillmentLineItem": 9_800_000_000_000,
    "OrderTransaction": 6_700_000_000_000,
    "Refund": 9_200_000_000_000,
    "RefundLineItem": 8_300_000_000_000,
    "Return": 1_200_000_000_000,
    "WebhookSubscription": 1_300_000_000_000,
    "Shop": 60_000_000_000,
}


def legacy_id(kind: str, pk: int) -> int:
    return ID_OFFSETS[kind] + pk


def gid(kind: str, pk: int) -> str:
    return f"gid://shopify/{kind}/{legacy_id(kind, pk)}"


def pk_from_gid(kind: str, value: str | int | None) -> int | None:
    """The primary key behind `gid://shopify/<kind>/<id>` (or a bare numeric id), or None."""
    text = str(value or "")
    prefix = f"gid://shopify/{kind}/"
    if text.startswith("gid://"):
        if not text.startswith(prefix):
            return None
        text = text[len(prefix) :].split("?")[0]
    if not text.isdigit():
        return None
    pk = int(text) - ID_OFFSETS[kind]
    return pk if pk > 0 else None


class Shop(models.Model):
    domain = models.CharField(max_length=255, unique=True)
    name = models.CharField(max_length=255)
    email = models.EmailField(blank=True)
    access_token = models.CharField(
        max_length=255, unique=True, help_text="The Admin API token our app uses for this shop."
    )
    currency_code = models.CharField(max_length=3, default="USD")
    # Uninstalling the app revokes the token (401) and sends app/uninstalled.
    installed = models.BooleanField(default=True)
    # Without read_all_orders only the last 60 days of orders are visible.
    read_all_orders = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.domain})"


class Customer(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="customers")
    first_name = models.CharField(max_length=255)
    last_name = models.CharField(max_length=255)
    email = models.EmailField()
    phone = models.CharField(max_length=32, blank=True)
    tags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "email"], name="sandbox_shopify_customer_email")
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} <{self.email}>"

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email


class Order(models.Model):
    class FinancialStatus(models.TextChoices):
        PENDING = "PENDING"
        AUTHORIZED = "AUTHORIZED"
        PAID = "PAID"
        PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
        REFUNDED = "REFUNDED"
        VOIDED = "VOIDED"

    class FulfillmentStatus(models.TextChoices):
        UNFULFILLED = "UNFULFILLED"
        PARTIALLY_FULFILLED = "PARTIALLY_FULFILLED"
        FULFILLED = "FULFILLED"
        IN_PROGRESS = "IN_PROGRESS"
        ON_HOLD = "ON_HOLD"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="orders")
    number = models.PositiveIntegerField()
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    email = models.EmailField(blank=True)
    currency_code = models.CharField(max_length=3, default="USD")
    shipping_price = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    shipping_refunded = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    financial_status = models.CharField(
        max_length=32, choices=FinancialStatus, default=FinancialStatus.PAID
    )
    fulfillment_status = models.CharField(
        max_length=32, choices=FulfillmentStatus, default=FulfillmentStatus.UNFULFILLED
    )
    tags = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    shipping_address = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=16, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Set when an orderCancel job is running, so that a second cancel is refused.
    cancel_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "number"], name="sandbox_shopify_order_number")
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.shop.domain})"

    @property
    def name(self) -> str:
        return f"#{self.number}"

    @property
    def legacy_id(self) -> int:
        return legacy_id("Order", self.pk)


class LineItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="line_items")
    title = models.CharField(max_length=255)
    variant_title = models.CharField(max_length=255, blank=True)
    sku = models.CharField(max_length=64, blank=True)
    quantity = models.PositiveIntegerField()
    price = models.DecimalField(max_digits=12, decimal_places=2)
    refunded_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.title}"

    @property
    def refundable_quantity(self) -> int:
        return max(self.quantity - self.refunded_quantity, 0)


class Fulfillment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="fulfillments")
    status = models.CharField(max_length=16, default="SUCCESS")
    display_status = models.CharField(max_length=32, default="FULFILLED")
    tracking_company = models.CharField(max_length=64, blank=True)
    tracking_number = models.CharField(max_length=64, blank=True)
    tracking_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.tracking_company} {self.tracking_number}".strip() or f"Fulfillment {self.pk}"


class FulfillmentLineItem(models.Model):
    fulfillment = models.ForeignKey(Fulfillment, on_delete=models.CASCADE, related_name="items")
    line_item = models.ForeignKey(LineItem, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.quantity} x line item {self.line_item_id}"


class Transaction(models.Model):
    class Kind(models.TextChoices):
        AUTHORIZATION = "AUTHORIZATION"
        CAPTURE = "CAPTURE"
        SALE = "SALE"
        REFUND = "REFUND"
        VOID = "VOID"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="transactions")
    kind = models.CharField(max_length=16, choices=Kind)
    status = models.CharField(max_length=16, default="SUCCESS")
    gateway = models.CharField(max_length=64, default="shopify_payments")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    refund = models.ForeignKey(
        "Refund", null=True, blank=True, on_delete=models.SET_NULL, related_name="transactions"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class Refund(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refunds")
    note = models.TextField(blank=True)
    shipping_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    total_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    # `@idempotent(key:)`: the same key on the same shop gives back this refund.
    # NULL, not "": refunds without a key must not collide in the unique constraint.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    request_fingerprint = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "idempotency_key"], name="sandbox_shopify_refund_idempotency_key"
            )
        ]

    def __str__(self) -> str:
        return f"Refund of {self.total_amount} on order {self.order_id}"


class RefundLineItem(models.Model):
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="items")
    line_item = models.ForeignKey(LineItem, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    restock_type = models.CharField(max_length=16, default="NO_RESTOCK")
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.quantity} x line item {self.line_item_id}"


class Job(models.Model):
    """An asynchronous job (orderCancel): done once `done_at` has passed and it was applied."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=36, unique=True)
    kind = models.CharField(max_length=32, default="order_cancel")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")
    params = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    done_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.gid

    @property
    def gid(self) -> str:
        return f"gid://shopify/Job/{self.key}"


class InvoiceEmail(models.Model):
    """What orderInvoiceSend "sent": one row per email."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="invoice_emails")
    to = models.EmailField()
    subject = models.CharField(max_length=255, blank=True)
    custom_message = models.TextField(blank=True)
    sent_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Invoice to {self.to}"


class Return(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="returns")
    status = models.CharField(max_length=16, default="OPEN")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Return {self.pk} ({self.status})"


class ReturnLineItem(models.Model):
    return_request = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="items")
    fulfillment_line_item = models.ForeignKey(
        FulfillmentLineItem, on_delete=models.CASCADE, related_name="+"
    )
    quantity = models.PositiveIntegerField()
    reason = models.CharField(max_length=32, default="UNKNOWN")
    note = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.quantity} returned"


class WebhookSubscription(models.Model):
    """Where the fake sends webhooks: topic in GraphQL form (`ORDERS_UPDATED`)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="webhook_subscriptions")
    topic = models.CharField(max_length=64)
    uri = models.CharField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "topic", "uri"], name="sandbox_shopify_webhook_subscription"
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} → {self.uri}"

    @property
    def rest_topic(self) -> str:
        """`ORDERS_UPDATED` → `orders/updated` (the X-Shopify-Topic header)."""
        return self.topic.lower().replace("_", "/", 1)
