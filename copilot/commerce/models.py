"""Shopify stores and the audit trail of the actions agents take (webhooks: copilot.webhooks)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from copilot.queueing import QueuedWorkMixin

from .encryption import token_decrypt


class Store(models.Model):
    """A connected Shopify shop. Its Admin API token is stored encrypted (see encryption.py)."""

    class Status(models.TextChoices):
        CONNECTED = "connected", "Connected"
        DISCONNECTED = "disconnected", "Disconnected by an admin"
        UNINSTALLED = "uninstalled", "App uninstalled in Shopify"
        TOKEN_REJECTED = "token_rejected", "Token refused by Shopify: reconnect"

    shop_domain = models.CharField(
        max_length=255, unique=True, help_text="e.g. northwind-goods.myshopify.com"
    )
    name = models.CharField(max_length=255, blank=True, help_text="Shown to agents on the card.")
    api_base_url = models.URLField(
        blank=True, help_text="Empty: https://<shop domain>. Set to point at the fake Shopify."
    )
    access_token_encrypted = models.TextField(blank=True, editable=False)
    status = models.CharField(max_length=32, choices=Status, default=Status.CONNECTED)
    status_detail = models.CharField(max_length=500, blank=True)
    # A store defined by SHOPIFY_SHOP_DOMAIN/SHOPIFY_ACCESS_TOKEN; the token it was last given, to
    # notice a new one without reviving a store that was uninstalled since.
    from_environment = models.BooleanField(default=False)
    environment_token_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    # Part of every cache key of the store: raising it forgets all its cached orders.
    cache_version = models.PositiveIntegerField(default=1, editable=False)
    webhooks_registered_at = models.DateTimeField(null=True, blank=True, editable=False)
    connected_at = models.DateTimeField(null=True, blank=True, editable=False)
    disconnected_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "shop_domain"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or self.shop_domain

    @property
    def is_connected(self) -> bool:
        return self.status == self.Status.CONNECTED and bool(self.access_token_encrypted)

    @property
    def access_token(self) -> str:
        return token_decrypt(self.access_token_encrypted) if self.access_token_encrypted else ""


class OrderAction(QueuedWorkMixin):
    """The audit row of one action an agent took on an order from the card.

    `idempotency_key` comes from the card's confirmation form: a second submission with the same
    key finds this row instead of acting again, and the same key is Shopify's `@idempotent` key
    for refunds. Its background work (sending it, following a cancellation, writing its note) is
    queued through `copilot.queueing`, hence the mixin's fields.
    """

    class Kind(models.TextChoices):
        REFUND = "refund", "Refund"
        CANCEL = "cancel", "Cancel"
        ADDRESS_UPDATE = "address_update", "Edit shipping address"
        INVOICE_SEND = "invoice_send", "Send invoice again"

    class Status(models.TextChoices):
        PENDING = "pending", "Checking"
        DENIED = "denied", "Not allowed"
        AWAITING_APPROVAL = "awaiting_approval", "Waiting for approval"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "In progress"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"
        REJECTED = "rejected", "Rejected by a supervisor"
        UNKNOWN = "unknown", "Outcome unknown"

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="actions")
    kind = models.CharField(max_length=32, choices=Kind)
    status = models.CharField(max_length=32, choices=Status, default=Status.PENDING)
    idempotency_key = models.CharField(max_length=64, unique=True)
    order_id = models.CharField(max_length=255, help_text="Shopify's global id of the order.")
    order_name = models.CharField(max_length=64, blank=True)
    customer_email = models.EmailField(blank=True)
    agent_id = models.CharField(max_length=255)
    agent_name = models.CharField(max_length=255, blank=True)
    agent_roles = models.JSONField(default=list, blank=True)
    conversation_id = models.CharField(max_length=255, blank=True)
    reason = models.TextField(blank=True)
    params = models.JSONField(default=dict, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    result_message = models.TextField(blank=True)
    # Whether submitting the same key again may try again (nothing reached Shopify, or Shopify
    # refused): false once something may have happened.
    retryable = models.BooleanField(default=False)
    shopify_id = models.CharField(max_length=255, blank=True, help_text="Refund or job id.")
    attempts = models.PositiveIntegerField(default=0)
    notes_written = models.JSONField(default=list, blank=True)
    # The note of the current status is owed to the conversation and not written yet: the sweep
    # queues its task again if it was lost. Cleared once written, or when writing finally failed.
    note_pending = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["store", "order_id"]),
            models.Index(fields=["status"]),
            models.Index(
                fields=["task_at"], condition=Q(note_pending=True), name="commerce_note_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.order_name or self.order_id} ({self.status})"


class OrderActionEvent(models.Model):
    """Append-only history of an action: requested, approved, sent, succeeded, note written..."""

    action = models.ForeignKey(OrderAction, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32)
    actor = models.CharField(max_length=255, blank=True)
    message = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} by {self.actor}" if self.actor else self.kind


class RefundApproval(models.Model):
    """A refund above SHOPIFY_REFUND_APPROVAL_THRESHOLD, waiting for a supervisor in the admin."""

    class Decision(models.TextChoices):
        PENDING = "pending", "Waiting"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    action = models.OneToOneField(OrderAction, on_delete=models.CASCADE, related_name="approval")
    decision = models.CharField(max_length=16, choices=Decision, default=Decision.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The Kustomer user who decided from the card (decided_by is for staff in the admin).
    decided_by_agent_id = models.CharField(max_length=64, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-requested_at"]
        permissions = [("decide_refundapproval", "Can approve or reject refunds")]

    def __str__(self) -> str:
        return f"Refund approval for {self.action}"
