from django.contrib import admin
from django.utils.html import format_html

from .models import Draft, ReplyTemplate, StorePolicy
from .selectors import acceptance_rates
from .services import reference_data_changed


class _ReferenceAdmin(admin.ModelAdmin):
    """Policies and templates are kept in each process: a change tells them all to reread."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        reference_data_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        reference_data_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        reference_data_changed()


@admin.register(StorePolicy)
class StorePolicyAdmin(_ReferenceAdmin):
    list_display = ["title", "key", "active", "updated_at"]
    list_filter = ["active"]
    search_fields = ["key", "title", "text"]


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(_ReferenceAdmin):
    list_display = ["intent", "language", "name", "active", "updated_at"]
    list_filter = ["active", "language", "intent"]
    search_fields = ["intent", "name", "text"]


@admin.register(Draft)
class DraftAdmin(admin.ModelAdmin):
    """Every draft, read-only, with acceptance per intent and per source above the list (for
    the drafts the filters select)."""

    change_list_template = "admin/replies/draft/change_list.html"
    list_display = [
        "created_at", "message_id", "generation", "rank", "source_label", "intent", "language",
        "status", "short_text", "cost",
    ]  # fmt: skip
    list_filter = ["source", "status", "language", "intent", "created_at"]
    search_fields = ["text", "edited_text", "message__kustomer_message_id", "intent"]
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in Draft._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="source", ordering="source")
    def source_label(self, draft):
        if draft.source_name:
            return format_html(
                "{}<br><small>{}</small>", draft.get_source_display(), draft.source_name
            )
        return draft.get_source_display()

    @admin.display(description="text")
    def short_text(self, draft):
        return draft.text if len(draft.text) <= 90 else draft.text[:89] + "…"

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            queryset = context["cl"].queryset
            context["acceptance_by_intent"] = acceptance_rates(by="intent", queryset=queryset)
            context["acceptance_by_source"] = acceptance_rates(by="source", queryset=queryset)
        return response
