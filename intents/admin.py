from django.contrib import admin, messages
from django.db.models import Count

from .models import Intent, IntentFeedback, LabeledExample, ModelVersion, Prediction
from .services import ActivationError, model_version_activate


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Intent)
class IntentAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "active", "example_count"]
    list_filter = ["active"]
    search_fields = ["name", "description"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(example_count=Count("examples"))

    @admin.display(ordering="example_count", description="examples")
    def example_count(self, intent):
        return intent.example_count


@admin.register(LabeledExample)
class LabeledExampleAdmin(_ReadOnlyAdmin):
    """Read-only: examples change in the training UI, where every change is kept in the
    example's history and can be undone."""

    list_display = ["text", "intent", "source", "status", "labelled_by", "labelled_at"]
    list_filter = ["status", "source", "intent"]
    search_fields = ["text", "kustomer_message_id"]
    list_select_related = ["intent"]


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "status",
        "accuracy",
        "macro_f1",
        "training_size",
        "progress_percent",
        "created_at",
        "activated_at",
    ]
    list_filter = ["status"]
    readonly_fields = [
        field.name for field in ModelVersion._meta.fields if field.name != "artifact"
    ]
    exclude = ["artifact"]
    actions = ["activate"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("artifact")

    def has_add_permission(self, request):
        return False

    @admin.display(description="accuracy")
    def accuracy(self, version):
        metrics = version.training_metrics
        return f"{metrics.accuracy:.1%}" if metrics is not None else "—"

    @admin.display(description="macro-F1")
    def macro_f1(self, version):
        metrics = version.training_metrics
        return f"{metrics.macro_f1:.1%}" if metrics is not None else "—"

    @admin.display(description="progress")
    def progress_percent(self, version):
        return f"{version.progress:.0%}"

    @admin.action(description="Activate the selected version")
    def activate(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version to activate.", messages.ERROR)
            return
        try:
            version = model_version_activate(version_id=queryset.get().id)
        except ActivationError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        self.message_user(request, f"v{version.number} is now the active model.")


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "intent", "confidence", "abstained", "model_version", "text"]
    list_filter = ["abstained", "intent", "model_version"]
    search_fields = ["text", "kustomer_message_id"]
    list_select_related = ["model_version"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IntentFeedback)
class IntentFeedbackAdmin(_ReadOnlyAdmin):
    """Read-only: feedback is written from the card, and its pending example follows it."""

    list_display = [
        "updated_at",
        "kustomer_message_id",
        "verdict",
        "predicted_intent",
        "intent",
        "agent_name",
    ]
    list_filter = ["verdict", "intent"]
    search_fields = ["kustomer_message_id", "kustomer_conversation_id", "agent_id", "agent_name"]
    list_select_related = ["intent"]
