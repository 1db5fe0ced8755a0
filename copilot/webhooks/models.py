from django.db import models

from copilot.queueing import QueuedWorkMixin


class WebhookEvent(QueuedWorkMixin):
    """Every verified delivery of every vendor, once per `(source, external id)`.

    Only what processing needs is kept in `data` (ids, emails), never the whole body: bodies hold
    customer details we have no use for, and some are nested deeper than is worth storing.
    """

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    source = models.CharField(max_length=32)
    external_id = models.CharField(max_length=255)
    topic = models.CharField(max_length=100)
    # The sending account: the Shopify shop's domain, or empty for the one Kustomer org.
    account = models.CharField(max_length=255, blank=True)
    # SHA-256 of the topic and the raw body: a captured body replayed under a new id is a duplicate.
    body_sha256 = models.CharField(max_length=64)
    triggered_at = models.DateTimeField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.RECEIVED)
    detail = models.CharField(max_length=500, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="webhooks_event_source_external_id"
            ),
            models.UniqueConstraint(fields=["source", "body_sha256"], name="webhooks_event_body"),
        ]
        indexes = [models.Index(fields=["status", "task_at"])]
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.source} {self.topic} ({self.external_id})"
