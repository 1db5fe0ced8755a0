"""State of the fake Kustomer: one row per Kustomer object, plus what tests assert on.

Ids are 24 hexadecimal characters shaped like Kustomer's (MongoDB ObjectIds: a 4-byte timestamp
then random bytes), so a client that assumes integer ids or UUIDs breaks here as it would there.
"""

import secrets
import time

from django.db import models
from django.db.models import Q


def new_object_id() -> str:
    """An ObjectId-looking id: seconds since the epoch in 8 hex digits, then 16 random ones."""
    return f"{int(time.time()):08x}{secrets.token_hex(8)}"


def new_secret() -> str:
    return secrets.token_hex(32)


class ObjectIdField(models.CharField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 24)
        super().__init__(*args, **kwargs)


class Org(models.Model):
    """A Kustomer organization; its secret signs the org's API keys."""

    id = ObjectIdField(primary_key=True, default=new_object_id, editable=False)
    name = models.CharField(max_length=100, unique=True)
    signing_secret = models.CharField(max_length=64, default=new_secret)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """An API key: a signed JWT naming its roles, acting as one (machine) user of the org."""

    id = ObjectIdField(primary_key=True, default=new_object_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=200)
    roles = models.JSONField(default=list)
    user_id = ObjectIdField(default=new_object_id)
    user_name = models.CharField(max_length=200)
    user_email = models.EmailField()
    # Kept so the seed command can print an existing key again; the fake is not a vault.
    token = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({', '.join(self.roles)})"


class Customer(models.Model):
    id = ObjectIdField(primary_key=True, default=new_object_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="customers")
    name = models.CharField(max_length=200)
    # [{"type": "home", "email": "..."}], as Kustomer stores them.
    emails = models.JSONField(default=list)
    # The first email in lower case, indexed for `GET /v1/customers/email={email}`.
    primary_email = models.CharField(max_length=254, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class Conversation(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        SNOOZED = "snoozed"
        DONE = "done"

    id = ObjectIdField(primary_key=True, default=new_object_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="conversations")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="conversations")
    name = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    priority = models.PositiveSmallIntegerField(default=3)
    channels = models.JSONField(default=list)
    tags = models.JSONField(default=list)
    custom = models.JSONField(default=dict)
    preview = models.CharField(max_length=500, blank=True)
    message_count = models.PositiveIntegerField(default=0)
    note_count = models.PositiveIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name or self.id


class Message(models.Model):
    class Direction(models.TextChoices):
        IN = "in"
        OUT = "out"

    id = ObjectIdField(primary_key=True, default=new_object_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="messages")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    channel = models.CharField(max_length=50)
    app = models.CharField(max_length=50, blank=True)
    preview = models.CharField(max_length=500)
    body = models.TextField()
    meta = models.JSONField(default=dict)
    sentiment = models.JSONField(null=True, blank=True)
    auto = models.BooleanField(default=False)
    sent_at = models.DateTimeField()
    imported_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sent_at", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.direction}: {self.preview[:40]}"


class Note(models.Model):
    id = ObjectIdField(primary_key=True, default=new_object_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="notes")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    body = models.TextField()
    external_id = models.CharField(max_length=255, blank=True)
    user_mentions = models.JSONField(default=list)
    created_by = models.ForeignKey(ApiKey, on_delete=models.SET_NULL, null=True, blank=True)
    created_by_user_id = models.CharField(max_length=24, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "external_id"],
                condition=~Q(external_id=""),
                name="sandbox_kustomer_note_unique_external_id",
            )
        ]

    def __str__(self) -> str:
        return self.body[:40]


class Klass(models.Model):
    """A custom object type (Kustomer's "klass"); its name never changes."""

    id = ObjectIdField(primary_key=True, default=new_object_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="klasses")
    name = models.CharField(max_length=100)
    display_name = models.CharField(max_length=200)
    icon = models.CharField(max_length=100, blank=True)
    color = models.CharField(max_length=20, blank=True)
    description = models.TextField(blank=True)
    metadata = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["org", "name"], name="sandbox_kustomer_klass_name")
        ]

    def __str__(self) -> str:
        return self.name


class KObject(models.Model):
    id = ObjectIdField(primary_key=True, default=new_object_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="kobjects")
    klass = models.ForeignKey(Klass, on_delete=models.CASCADE, related_name="kobjects")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="kobjects")
    title = models.CharField(max_length=1024)
    external_id = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    icon = models.CharField(max_length=100, blank=True)
    data = models.JSONField(default=dict)
    custom = models.JSONField(default=dict)
    tags = models.JSONField(default=list)
    imported_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["klass", "external_id"],
                condition=~Q(external_id=""),
                name="sandbox_kustomer_kobject_unique_external_id",
            )
        ]

    def __str__(self) -> str:
        return self.title


class Shortcut(models.Model):
    """A saved reply; `text` is shown as `draft.text` (Markdown with {{placeholders}})."""

    id = ObjectIdField(primary_key=True, default=new_object_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="shortcuts")
    name = models.CharField(max_length=200)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class OutboundWebhook(models.Model):
    id = ObjectIdField(primary_key=True, default=new_object_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="outbound_webhooks")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    url = models.CharField(max_length=2000)
    events = models.JSONField(default=list)
    # [{"name": "...", "value": "..."}], sent with every delivery.
    headers = models.JSONField(default=list)
    token = models.CharField(max_length=64, default=new_secret)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.name} -> {self.url}"


class WebhookDelivery(models.Model):
    """One event on its way to one webhook: every attempt updates the same row."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RETRYING = "retrying"
        DELIVERED = "delivered"
        FAILED = "failed"

    id = ObjectIdField(primary_key=True, default=new_object_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="webhook_deliveries")
    webhook = models.ForeignKey(
        OutboundWebhook, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = ObjectIdField(db_index=True)
    event_name = models.CharField(max_length=100)
    # The exact bytes signed and sent, so that every retry sends the same body.
    payload = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event_name} {self.event_id} -> {self.status}"


class RequestLog(models.Model):
    """One row per call to the fake's API, so that tests can assert what was sent and when."""

    org = models.ForeignKey(
        Org, on_delete=models.CASCADE, null=True, blank=True, related_name="request_logs"
    )
    api_key_id = models.CharField(max_length=24, blank=True)
    # The user the request acted as: an API key's machine user or a signed-in agent.
    user_id = models.CharField(max_length=24, blank=True)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    query = models.TextField(blank=True)
    status = models.PositiveSmallIntegerField()
    body = models.TextField(blank=True)
    duration_ms = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"


class FailureInjection(models.Model):
    """The next `remaining` requests whose path starts with `path_prefix` fail this way."""

    class Mode(models.TextChoices):
        SERVER_ERROR = "500"
        RATE_LIMITED = "429"
        TIMEOUT = "timeout"

    path_prefix = models.CharField(max_length=500)
    mode = models.CharField(max_length=10, choices=Mode.choices)
    remaining = models.PositiveIntegerField()
    # For `timeout`: how long the request hangs before the fake answers 504.
    seconds = models.FloatField(default=30.0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.mode} x{self.remaining} on {self.path_prefix}"


# --- people, apps and OAuth ---------------------------------------------------------------------


class User(models.Model):
    """A person who signs in to Kustomer (an agent, a supervisor); API keys act as machine users.

    `roles` are the role names the API checks, as on API keys; `role_name` is the role group an
    admin gave the person in Kustomer's settings, shown on the sign-in page.
    """

    id = ObjectIdField(primary_key=True, default=new_object_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="users")
    name = models.CharField(max_length=200)
    email = models.EmailField()
    role_name = models.CharField(max_length=100, blank=True)
    roles = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["org", "email"], name="sandbox_kustomer_user_email")
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class App(models.Model):
    """An app registered (and installed) in an org; as an OAuth client it is known by its
    `client_id`. Only a hash of the client secret is kept: Kustomer shows the secret once."""

    id = ObjectIdField(primary_key=True, default=new_object_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="apps")
    name = models.CharField(max_length=100)
    title = models.CharField(max_length=200)
    # The latest registered version, whose definition (and redirect URIs) is the one in force.
    version = models.CharField(max_length=50)
    versions = models.JSONField(default=list)
    definition = models.JSONField(default=dict)
    redirect_uris = models.JSONField(default=list)
    client_id = ObjectIdField(default=new_object_id, unique=True)
    client_secret_hash = models.CharField(max_length=64, blank=True)
    client_secret_created_at = models.DateTimeField(null=True, blank=True)
    installed = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["org", "name"], name="sandbox_kustomer_app_name")
        ]

    def __str__(self) -> str:
        return f"{self.name}-{self.version}"

    @property
    def confidential(self) -> bool:
        """An app with a client secret must send it to the token endpoint (RFC 6749 §2.1)."""
        return bool(self.client_secret_hash)


class AuthorizationCode(models.Model):
    """A code given to the app's redirect URI: used once, within a minute. Only its hash is kept."""

    id = ObjectIdField(primary_key=True, default=new_object_id, editable=False)
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="codes")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64, unique=True)
    redirect_uri = models.CharField(max_length=2000)
    code_challenge = models.CharField(max_length=128)
    scope = models.JSONField(default=list)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"code for {self.user} -> {self.app}"


class Grant(models.Model):
    """What one sign-in gave one app: the tokens issued from one code, through every refresh.

    Revoking the grant revokes all of them (a reused code, a reused refresh token, an admin).
    """

    id = ObjectIdField(primary_key=True, default=new_object_id, editable=False)
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="grants")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants")
    code = models.OneToOneField(
        AuthorizationCode, on_delete=models.SET_NULL, null=True, blank=True, related_name="grant"
    )
    scope = models.JSONField(default=list)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.user} -> {self.app}"


class AccessToken(models.Model):
    id = ObjectIdField(primary_key=True, default=new_object_id, editable=False)
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="access_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"access token of {self.grant}"


class RefreshToken(models.Model):
    """Used once: a refresh answers with a new refresh token (`used_at` marks the old one)."""

    id = ObjectIdField(primary_key=True, default=new_object_id, editable=False)
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="refresh_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"refresh token of {self.grant}"


# --- drafts -------------------------------------------------------------------------------------


class Draft(models.Model):
    """What an agent is composing in the reply box of a conversation, before pressing send.

    One draft per conversation and channel (the reply box holds one, and Kustomer allows one
    `note` draft per conversation); a draft without a conversation starts one when sent.
    """

    class Status(models.TextChoices):
        DRAFT = "draft"
        SCHEDULED = "scheduled"

    id = ObjectIdField(primary_key=True, default=new_object_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="drafts")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="drafts")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, null=True, blank=True, related_name="drafts"
    )
    channel = models.CharField(max_length=50)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    to = models.JSONField(default=list)
    sender = models.CharField(max_length=254, blank=True)
    cc = models.JSONField(default=list)
    bcc = models.JSONField(default=list)
    subject = models.CharField(max_length=1000, blank=True)
    send_at = models.DateTimeField(null=True, blank=True)
    created_by_user_id = models.CharField(max_length=24, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "channel"],
                condition=Q(conversation__isnull=False),
                name="sandbox_kustomer_draft_one_per_conversation_channel",
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel}: {self.body[:40]}"
