import hashlib
import time

from django.conf import settings
from django.db import models
from django.db.models import F, FloatField, Q, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce

from copilot.queueing import QueuedWorkMixin

from .metrics import TrainingMetrics


def text_fingerprint(text: str) -> str:
    """Two texts that differ only in case or spacing are the same example."""
    normalised = " ".join(text.split()).casefold()
    return hashlib.sha256(normalised.encode()).hexdigest()


def intent_name_in_words(name: str) -> str:
    """ "track_order" → "Track order"."""
    words = " ".join(name.replace("_", " ").replace("-", " ").split())
    return words[:1].upper() + words[1:]


# Renamed intents' titles, read at most every few seconds per process: the card and the queue
# name intents by the keys predictions carry, many times a page.
_TITLES_SECONDS = 5.0
_titles: tuple[float, dict[str, str]] = (float("-inf"), {})


def intent_titles_forget() -> None:
    global _titles
    _titles = (float("-inf"), {})


def intent_display_name(name: str) -> str:
    """How people read an intent's name: its title when a team lead renamed it, otherwise
    the name in words ("track_order" → "Track order")."""
    global _titles
    checked_at, titles = _titles
    now = time.monotonic()
    if now - checked_at > _TITLES_SECONDS:
        titles = dict(Intent.objects.exclude(title="").values_list("name", "title"))
        _titles = (now, titles)
    return titles.get(name) or intent_name_in_words(name)


class Intent(models.Model):
    # The key the model predicts and Kustomer rules and KObjects carry: it never changes.
    name = models.SlugField(max_length=100, unique=True)
    # What people read, when a team lead renamed it; blank: read from the name.
    title = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.title or intent_name_in_words(self.name)


class EvaluationSetRevision(models.Model):
    """One growth of the frozen evaluation set, numbered from 1: revision N is the examples held
    out in revisions 1 to N. A version's figures name the revision they were measured on, and
    two versions are compared on one revision's messages."""

    number = models.PositiveIntegerField(unique=True)
    added = models.PositiveIntegerField()
    size = models.PositiveIntegerField()  # examples in the set with this revision
    intents = models.PositiveIntegerField()  # intents the set covers with this revision
    reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"evaluation set, revision {self.number}"


class LabeledExample(models.Model):
    # What giving an example a label changes (and what undoing it restores).
    LABEL_FIELDS = ("intent", "status", "labelled_by", "labelled_at")

    class Source(models.TextChoices):
        IMPORT = "import", "Import"
        AGENT_FEEDBACK = "agent_feedback", "Agent feedback"
        ADMIN = "admin", "Admin"
        KUSTOMER_HISTORY = "kustomer_history", "Kustomer history"

    class Status(models.TextChoices):
        TRUSTED = "trusted", "Trusted"
        PENDING_REVIEW = "pending_review", "Pending review"

    text = models.TextField()
    text_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    intent = models.ForeignKey(Intent, on_delete=models.PROTECT, related_name="examples")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.IMPORT)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.TRUSTED)
    kustomer_conversation_id = models.CharField(max_length=64, blank=True)
    kustomer_message_id = models.CharField(max_length=64, blank=True)
    labelled_by = models.CharField(max_length=255, blank=True)
    labelled_at = models.DateTimeField(auto_now_add=True)
    # When the example joined the frozen evaluation set, and in which of its revisions: from
    # then on it is never trained on, and every version is scored on the set, so that two
    # versions compare on the same messages.
    held_out_at = models.DateTimeField(null=True, blank=True, db_index=True)
    held_out_in = models.ForeignKey(
        "EvaluationSetRevision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="examples",
    )

    class Meta:
        indexes = [
            models.Index(fields=["status", "intent"]),
            # The latest change, which tells whether the suggested intents' groups are stale.
            models.Index(fields=["labelled_at"], name="labeledexample_labelled_at"),
            # The labelling queue's pending examples, oldest first: without it, an empty queue
            # walked all of the index above looking for one.
            models.Index(
                fields=["labelled_at", "id"],
                condition=Q(status="pending_review"),
                name="labeledexample_pending_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.intent.name}: {self.text[:60]}"

    def label_snapshot(self) -> dict:
        """What a label changes, as it is now: kept in a decision, for undo and the history."""
        return {
            "intent_id": self.intent_id,
            "status": self.status,
            "labelled_by": self.labelled_by,
            "labelled_at": self.labelled_at.isoformat(),
        }

    def whole_record(self) -> dict:
        """Everything of the example, kept in the decision that deletes it: undo brings it
        back from this, and the history still shows what was deleted."""
        return {
            **self.label_snapshot(),
            "text": self.text,
            "source": self.source,
            "kustomer_message_id": self.kustomer_message_id,
            "kustomer_conversation_id": self.kustomer_conversation_id,
            "held_out_at": self.held_out_at.isoformat() if self.held_out_at else None,
            "held_out_in_id": self.held_out_in_id,
        }


class ModelVersion(QueuedWorkMixin):
    class Status(models.TextChoices):
        # Waiting for the training task, which claims it (queued → training) before it starts.
        QUEUED = "queued", "Queued"
        TRAINING = "training", "Training"
        READY = "ready", "Ready"
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"
        FAILED = "failed", "Failed"

    number = models.PositiveIntegerField(unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    failure_reason = models.TextField(blank=True)
    progress = models.FloatField(default=0.0)
    progress_message = models.CharField(max_length=255, blank=True)
    # Each step of the run as it began ({"at": ISO time, "progress": 0..1, "step": "..."}), and
    # how it ended: what a team lead reads when a run is slow or fails.
    training_log = models.JSONField(default=list, blank=True)
    # Why the run started when no person started it ("schedule", "120 new labels").
    trigger = models.CharField(max_length=100, blank=True)
    # The version's figures on the frozen evaluation set when it was trained ({"size",
    # "accuracy", "macro_f1"}), and why it was, or was not, promoted automatically.
    evaluation = models.JSONField(default=dict, blank=True)
    promotion_note = models.TextField(blank=True)
    training_data_sha256 = models.CharField(max_length=64, blank=True)
    training_size = models.PositiveIntegerField(default=0)
    library_versions = models.JSONField(default=dict, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    artifact = models.BinaryField(null=True, editable=False)
    artifact_sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    trained_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            # The database, not the code, guarantees there is never more than one active model.
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="active"), name="one_active_model_version"
            )
        ]

    def __str__(self) -> str:
        return f"v{self.number} ({self.status})"

    @property
    def training_metrics(self) -> TrainingMetrics | None:
        """The stored metrics, typed; None until the version is trained."""
        return TrainingMetrics.from_dict(self.metrics) if self.metrics else None


class Prediction(models.Model):
    text = models.TextField()
    kustomer_message_id = models.CharField(max_length=64, blank=True)
    kustomer_conversation_id = models.CharField(max_length=64, blank=True)
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="predictions"
    )
    intent = models.CharField(max_length=100, blank=True)  # empty when the model abstained
    confidence = models.FloatField()
    top = models.JSONField(default=list)  # [[intent, probability], ...], best first
    abstained = models.BooleanField(default=False)
    latency_ms = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One prediction per message and model: a retried classification writes nothing new.
            models.UniqueConstraint(
                fields=["kustomer_message_id", "model_version"],
                condition=~Q(kustomer_message_id=""),
                name="one_prediction_per_message_and_model",
            )
        ]
        indexes = [
            models.Index(fields=["intent", "created_at"]),
            # The overview's volumes of the last days (read from the index alone).
            models.Index(fields=["created_at", "intent"], name="prediction_created_intent"),
            # The suggested intents' most recent abstentions.
            models.Index(
                fields=["-created_at", "-id"],
                condition=Q(abstained=True),
                name="prediction_abstained_recent",
            ),
            # The labelling queue's unsure predictions of a version, smallest margin between
            # its top two intents first: the expression is the queue's (intents.review).
            models.Index(
                F("model_version"),
                Cast(KT("top__0__1"), FloatField())
                - Coalesce(Cast(KT("top__1__1"), FloatField()), Value(0.0)),
                F("id"),
                name="prediction_version_margin",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.intent or 'abstained'} ({self.confidence:.2f})"


class IntentFeedback(models.Model):
    """An agent's verdict on the intent predicted for one Kustomer message: one row per
    message, replaced when the agent (or another) changes their mind."""

    class Verdict(models.TextChoices):
        RIGHT = "right", "Right"
        CORRECTED = "corrected", "Corrected"
        NONE_OF_THESE = "none_of_these", "None of these"

    kustomer_message_id = models.CharField(max_length=64, unique=True)
    kustomer_conversation_id = models.CharField(max_length=64, blank=True)
    prediction = models.ForeignKey(
        Prediction, null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback"
    )
    predicted_intent = models.CharField(max_length=100, blank=True)  # empty: the model abstained
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    # The agent's intent; null for "none of these".
    intent = models.ForeignKey(
        Intent, null=True, blank=True, on_delete=models.PROTECT, related_name="feedback"
    )
    agent_id = models.CharField(max_length=64)
    agent_name = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            # An intent exactly when the verdict names one.
            models.CheckConstraint(
                condition=Q(verdict="none_of_these", intent__isnull=True)
                | (~Q(verdict="none_of_these") & Q(intent__isnull=False)),
                name="intent_feedback_intent_matches_verdict",
            )
        ]
        indexes = [
            # Agents' names for the labels they gave (examples keep the agent's Kustomer id).
            models.Index(fields=["agent_id", "agent_name"], name="feedback_agent_name"),
        ]

    def __str__(self) -> str:
        return f"{self.kustomer_message_id}: {self.get_verdict_display()}"


class LabelDecision(models.Model):
    """One action a reviewer took in the labelling queue: who, when, on what, and what it
    changed, so that it can be undone and nothing is silently lost."""

    class Kind(models.TextChoices):
        # A pending example (agent feedback awaiting review).
        EXAMPLE = "example", "Pending example"
        # An agent's verdict that disagrees with the model and has no pending example.
        FEEDBACK = "feedback", "Agent feedback"
        # A prediction the model was unsure of (small margin between its top two intents).
        PREDICTION = "prediction", "Unsure prediction"
        # An agent changed their label in the card, which changed or withdrew the example it
        # had made (`item_id` is the example's): recorded for its history, not for undo.
        AGENT = "agent", "Agent's change in the card"

    class Action(models.TextChoices):
        ACCEPT = "accept", "Accepted the suggestion"
        LABEL = "label", "Labelled"
        SKIP = "skip", "Skipped"
        # On the dataset page: the text corrected, or the example deleted (`previous` keeps all
        # of it, so that undo brings it back).
        EDIT = "edit", "Edited the text"
        DELETE = "delete", "Deleted"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    item_id = models.BigIntegerField()  # the id of the example, feedback or prediction
    kustomer_message_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    intent = models.ForeignKey(
        Intent, null=True, blank=True, on_delete=models.PROTECT, related_name="decisions"
    )
    example = models.ForeignKey(
        LabeledExample,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="decisions",
    )
    example_created = models.BooleanField(default=False)
    # The example's fields before the decision changed them, to restore on undo.
    previous = models.JSONField(default=dict, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,  # an agent in the card (decided_by_agent), who is not a user here
        blank=True,
        on_delete=models.PROTECT,
        related_name="label_decisions",
    )
    decided_by_agent = models.CharField(max_length=255, blank=True)
    decided_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    # Decisions made at once on a whole filtered list share a batch, and are undone together.
    batch = models.UUIDField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-decided_at", "-id"]
        indexes = [
            models.Index(fields=["kind", "item_id"]),
            models.Index(fields=["decided_by", "decided_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.kind} {self.item_id}"


class ModelVersionEvent(models.Model):
    """A change of the live model, made by a person or by automatic promotion: which version
    went live, which one it replaced, who did it, when and why. The rows are the history of
    what was live when."""

    class Action(models.TextChoices):
        PROMOTE = "promote", "Promoted"
        ROLL_BACK = "roll_back", "Rolled back"

    action = models.CharField(max_length=10, choices=Action.choices)
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="events")
    previous_version = models.ForeignKey(
        ModelVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by_events",
    )
    reason = models.TextField()
    # Empty when the copilot promoted the version itself (INTENT_AUTO_PROMOTE).
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="model_version_events",
    )
    performed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-performed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} v{self.version.number}"


class IntentChange(models.Model):
    """A change a person made to the intents: created, described, merged into another (with the
    ids of the examples that moved, so the change can be traced), retired."""

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        DESCRIBE = "describe", "Described"
        RENAME = "rename", "Renamed"
        MERGE = "merge", "Merged"
        RETIRE = "retire", "Retired"

    action = models.CharField(max_length=10, choices=Action.choices)
    intent = models.ForeignKey(Intent, on_delete=models.PROTECT, related_name="changes")
    target = models.ForeignKey(
        Intent, null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from"
    )
    example_ids = models.JSONField(default=list, blank=True)
    detail = models.TextField(blank=True)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="intent_changes"
    )
    performed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-performed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.intent.name}"


class ModelVersionDataset(models.Model):
    """The exact examples a version was trained on, kept when it is trained: examples are
    relabelled, merged, held out and deleted afterwards, so today's rows cannot say what an
    older version learnt from. A table of its own, so that the many reads of a version (its
    lists, the progress poll) never load its examples."""

    version = models.OneToOneField(
        ModelVersion, on_delete=models.CASCADE, primary_key=True, related_name="dataset"
    )
    examples = models.JSONField(default=list)  # [[text, intent name], ...] in training order
    # The examples whose label the version, trained without them, doubts: the labelling
    # queue's suspected mislabels (intents.label_issues), least sure first.
    label_issues = models.JSONField(default=list, blank=True)
    # The examples its evaluation took for another intent: [[text, its intent, the intent the
    # model said, probability], ...], behind each cell of the confusion matrix.
    # None for versions trained before they were kept.
    confusions = models.JSONField(null=True, blank=True, default=None)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"dataset of model version {self.version_id}"


class HistoryImport(QueuedWorkMixin):
    """Past Kustomer conversations turned into labelled examples: a date range, what to map
    (the conversations' tags or one custom attribute) and to which intents, and how far the run
    has gone. The cursor lets a run that stopped (failed, cancelled, its worker lost) continue
    where it was without importing anything twice."""

    class Status(models.TextChoices):
        # Searched and counted; the team lead has not chosen the mapping yet.
        PREVIEWING = "previewing", "Preview"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    TAGS = "tags"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREVIEWING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    date_from = models.DateField()
    date_to = models.DateField()  # included
    # The days above are days in this time zone.
    time_zone = models.CharField(max_length=64, default="UTC")
    # "tags", or the name of a conversation custom attribute such as "contactReasonStr".
    mapping_source = models.CharField(max_length=100, default=TAGS)
    # {tag or attribute value: intent name}; values not in it are not imported.
    mapping = models.JSONField(default=dict, blank=True)
    # The imported examples wait in the labelling queue instead of being trusted at once.
    review_first = models.BooleanField(default=False)
    # What the preview found: {"total", "sampled", "values": [{"value", "conversations", ...}]}.
    preview = models.JSONField(default=dict, blank=True)
    conversations_total = models.PositiveIntegerField(default=0)
    conversations_done = models.PositiveIntegerField(default=0)
    messages_imported = models.PositiveIntegerField(default=0)
    skipped_duplicates = models.PositiveIntegerField(default=0)
    skipped_unmapped = models.PositiveIntegerField(default=0)
    # Tags mapping to two different intents: which one the message is about is unknown.
    skipped_ambiguous = models.PositiveIntegerField(default=0)
    # No message from the customer with any text.
    skipped_without_text = models.PositiveIntegerField(default=0)
    # {"after": ISO time of the last conversation done, "ids": [ids done at that time]}.
    cursor = models.JSONField(default=dict, blank=True)
    # Transient failures (timeouts, 5xx) in a row; a success resets it.
    failures_in_a_row = models.PositiveSmallIntegerField(default=0)
    progress_message = models.CharField(max_length=255, blank=True)
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"Kustomer import {self.pk} ({self.status})"

    @property
    def maps_tags(self) -> bool:
        return self.mapping_source == self.TAGS

    @property
    def progress(self) -> float:
        """The share of conversations done, 0 to 1."""
        if self.status == self.Status.DONE:
            return 1.0
        if not self.conversations_total:
            return 0.0
        return min(1.0, self.conversations_done / self.conversations_total)
