from django.db import models
from django.db.models import Q
from django.utils import timezone

from copilot.queueing import QueuedWorkMixin


class Draft(models.Model):
    """A suggested reply to one inbound message, how it was made, and what the agent did with it.

    A message gets one set of drafts per generation: generation 0 is made by the pipeline, and
    each time the card asks for new drafts a new generation is made beside the old ones (whose
    feedback stays counted). Within a set, rank 1 is the best draft.
    """

    class Source(models.TextChoices):
        MODEL = "model", "Model"
        SHORTCUT = "shortcut", "Kustomer shortcut"
        TEMPLATE = "template", "Template"

    class Status(models.TextChoices):
        NEW = "new", "Not shown yet"
        SHOWN = "shown", "Shown"
        USED = "used", "Used as is"
        EDITED = "edited", "Edited"
        DISMISSED = "dismissed", "Dismissed"

    message = models.ForeignKey(
        "inbox.InboundMessage", on_delete=models.CASCADE, related_name="drafts"
    )
    generation = models.PositiveSmallIntegerField(default=0)
    rank = models.PositiveSmallIntegerField()
    text = models.TextField()
    source = models.CharField(max_length=10, choices=Source.choices)
    # The shortcut's or template's name (empty for the model), for the card and the admin.
    source_name = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=8)
    # The language the customer wrote in (a draft in another one says so on the card).
    customer_language = models.CharField(max_length=8, blank=True)
    intent = models.CharField(max_length=100, blank=True)  # as predicted; empty when abstained
    # Why a fallback draft was made instead of a model draft ("the model timed out"...).
    fallback_reason = models.CharField(max_length=255, blank=True)
    # What grounding changed: the claims cut from a repaired model draft.
    grounding_notes = models.JSONField(default=list, blank=True)
    # Facts that could not be read for this draft ("orders: Northwind Goods is busy...").
    missing_facts = models.JSONField(default=list, blank=True)

    # The model call's usage, shared out among the drafts it produced (their sum is the call's).
    model_name = models.CharField(max_length=100, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    latency_ms = models.FloatField(null=True, blank=True)  # the whole generation, for every draft

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    edited_text = models.TextField(blank=True)
    feedback_by = models.CharField(max_length=255, blank=True)  # Kustomer user id or name
    feedback_at = models.DateTimeField(null=True, blank=True)
    shown_at = models.DateTimeField(null=True, blank=True)
    # When the agent's next reply in the conversation after "Use" was compared with the draft
    # (the reply sent as is keeps "used"; another text makes it "edited"). Only that reply counts.
    reply_compared_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["message", "-generation", "rank"]
        constraints = [
            # A retried pipeline or task never stores a second set for the same generation.
            models.UniqueConstraint(
                fields=["message", "generation", "rank"], name="one_draft_per_rank"
            ),
            models.CheckConstraint(condition=Q(rank__gte=1), name="draft_rank_from_one"),
        ]
        indexes = [
            models.Index(fields=["intent", "status"]),
            models.Index(fields=["source", "status"]),
        ]

    def __str__(self) -> str:
        return f"#{self.rank} {self.get_source_display()} for message {self.message_id}"


class DraftRegeneration(QueuedWorkMixin):
    """The card's latest request for a new set of a message's drafts, until its task made it.

    One row per message: a message waits for one new set at a time (asking again before it
    exists asks for the same generation), so the row is keyed by the message and the task keeps
    its arguments, the message's id and the generation.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"

    message = models.OneToOneField(
        "inbox.InboundMessage",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="draft_regeneration",
    )
    generation = models.PositiveSmallIntegerField()
    requested_by = models.CharField(max_length=255, blank=True)  # Kustomer user id
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"generation {self.generation} of message {self.message_id} ({self.status})"


class StorePolicy(models.Model):
    """A store policy the drafts must respect (refund window, shipping times...), in plain text.

    The model is told every active policy, and a draft that promises what none of them says is
    repaired or dropped. Templates can quote one as {policy_<key>}.
    """

    key = models.SlugField(max_length=50, unique=True, help_text="e.g. returns, shipping")
    title = models.CharField(max_length=100)
    text = models.TextField()
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        verbose_name_plural = "store policies"

    def __str__(self) -> str:
        return self.title


class ReplyTemplate(models.Model):
    """A reply for one intent and language, with {placeholders} filled from the facts."""

    intent = models.CharField(
        max_length=100,
        help_text="The intent's name, or _general for the reply used when nothing else fits.",
    )
    language = models.CharField(max_length=8, default="en")
    name = models.CharField(max_length=100)
    text = models.TextField(
        help_text=(
            "Placeholders: {customer_first_name} {order_number} {order_status} {order_date} "
            "{order_total} {items} {carrier} {tracking_number} {tracking_url} {refund_amount} "
            "{store_name} {policy_<key>} {agent_first_name}. A template whose facts are "
            "missing is not offered."
        )
    )
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["intent", "language", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["intent", "language", "name"], name="one_template_per_name"
            )
        ]

    def __str__(self) -> str:
        return f"{self.intent} · {self.language} · {self.name}"
