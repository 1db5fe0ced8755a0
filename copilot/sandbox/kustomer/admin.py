from django.contrib import admin

from .models import (
    ApiKey,
    App,
    Conversation,
    Customer,
    Draft,
    FailureInjection,
    Grant,
    Klass,
    KObject,
    Message,
    Note,
    Org,
    OutboundWebhook,
    RequestLog,
    Shortcut,
    User,
    WebhookDelivery,
)

for model in (Org, ApiKey, Customer, Klass, Shortcut, OutboundWebhook, FailureInjection):
    admin.site.register(model)


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "customer", "status", "message_count", "created_at"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "conversation", "direction", "channel", "preview", "sent_at"]


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ["id", "conversation", "external_id", "created_at"]


@admin.register(KObject)
class KObjectAdmin(admin.ModelAdmin):
    list_display = ["id", "klass", "customer", "title", "external_id", "updated_at"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["event_name", "event_id", "webhook", "status", "attempts", "last_error"]


@admin.register(RequestLog)
class RequestLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "method", "path", "status", "api_key_id", "duration_ms"]
    list_filter = ["method", "status"]


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "role_name", "created_at"]


@admin.register(App)
class AppAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "client_id", "installed", "confidential", "updated_at"]
    # The hash is no use to anyone and the secret itself is never kept.
    exclude = ["client_secret_hash"]


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    """One row per sign-in of an agent to an app; revoking it signs the agent out."""

    list_display = ["user", "app", "created_at", "revoked_at"]
    actions = ["revoke"]

    @admin.action(description="Revoke the selected sign-ins")
    def revoke(self, request, queryset):
        from django.utils import timezone

        queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


@admin.register(Draft)
class DraftAdmin(admin.ModelAdmin):
    list_display = ["id", "conversation", "channel", "status", "updated_at"]
