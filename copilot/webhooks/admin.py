from django.contrib import admin

from .models import WebhookEvent


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "source", "topic", "account", "status", "detail"]
    list_filter = ["source", "status", "topic"]
    search_fields = ["external_id", "account"]
    readonly_fields = [field.name for field in WebhookEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
