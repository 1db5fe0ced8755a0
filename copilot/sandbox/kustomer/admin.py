from django.contrib import admin

from .models import (
    ApiKey,
    Conversation,
    Customer,
    FailureInjection,
    Klass,
    KObject,
    Message,
    Note,
    Org,
    OutboundWebhook,
    RequestLog,
    Shortcut,
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
