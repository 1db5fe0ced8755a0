from django.db import models

from copilot.queueing import QueuedWorkMixin


class InboundMessage(QueuedWorkMixin):
    """A customer's message and the state of each step of its pipeline, for all to see."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        CLASSIFIED = "classified", "Classified"
        WRITTEN = "written", "Written back"
        FAILED = "failed", "Failed"

    class Step(models.TextChoices):
        PENDING = "pending", "Pending"
        # The request left and its outcome is unknown (a timeout or a crash): before sending
        # again we look for what the first attempt may have created.
        SENDING = "sending", "Sending"
        DONE = "done", "Done"
        SKIPPED = "skipped", "Skipped"

    kustomer_message_id = models.CharField(max_length=64, unique=True)
    conversation_id = models.CharField(max_length=64)
    customer_id = models.CharField(max_length=64)
    channel = models.CharField(max_length=40, blank=True)
    text = models.TextField()
    sent_at = models.DateTimeField(null=True, blank=True)
    event = models.ForeignKey("webhooks.WebhookEvent", null=True, on_delete=models.SET_NULL)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    failure_reason = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)  # failed transient attempts so far
    prediction = models.ForeignKey(
        "intents.Prediction", null=True, blank=True, on_delete=models.SET_NULL
    )
    kobject_state = models.CharField(max_length=10, choices=Step.choices, default=Step.PENDING)
    kobject_id = models.CharField(max_length=64, blank=True)
    note_state = models.CharField(max_length=10, choices=Step.choices, default=Step.PENDING)
    note_id = models.CharField(max_length=64, blank=True)
    tag_state = models.CharField(max_length=10, choices=Step.choices, default=Step.PENDING)
    # Only one worker works on a message at a time: it holds the lease until it finishes.
    lease_until = models.DateTimeField(null=True, blank=True)

    received_at = models.DateTimeField(auto_now_add=True)
    classified_at = models.DateTimeField(null=True, blank=True)
    written_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["status", "received_at"]),
            # The card's latest message and the labelling queue's conversation context.
            models.Index(fields=["conversation_id", "received_at"], name="inbound_conversation"),
        ]

    def __str__(self) -> str:
        return f"{self.kustomer_message_id} ({self.status})"

    @property
    def note_external_id(self) -> str:
        return f"copilot-note-{self.kustomer_message_id}"


class WebhookSubscription(models.Model):
    """An outbound webhook that `kustomer_setup` registered in Kustomer, with its signing token."""

    kustomer_id = models.CharField(max_length=64, unique=True)
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    token = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.url
