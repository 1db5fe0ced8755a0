from django.contrib import admin

from .models import ChatRequest


@admin.register(ChatRequest)
class ChatRequestAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "scenario",
        "status",
        "model",
        "prompt_tokens",
        "completion_tokens",
    ]
    list_filter = ["scenario", "status"]
    readonly_fields = [field.name for field in ChatRequest._meta.fields]
