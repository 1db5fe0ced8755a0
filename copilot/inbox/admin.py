from django.contrib import admin

from .models import InboundMessage
from .services import inbound_message_retry


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = [
        "received_at",
        "kustomer_message_id",
        "status",
        "intent",
        "kobject_state",
        "note_state",
        "attempts",
        "failure_reason",
    ]
    list_filter = ["status", "kobject_state", "note_state"]
    search_fields = ["kustomer_message_id", "conversation_id", "customer_id"]
    list_select_related = ["prediction"]
    readonly_fields = [field.name for field in InboundMessage._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="intent")
    def intent(self, message):
        if message.prediction is None:
            return "—"
        return message.prediction.intent or "not sure"

    @admin.action(description="Retry the selected failed messages")
    def retry(self, request, queryset):
        retried = sum(
            inbound_message_retry(message_id=pk) for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(request, f"{retried} failed messages were put back in the pipeline.")
