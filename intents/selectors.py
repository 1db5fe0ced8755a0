from typing import NamedTuple

from django.db.models import Count, QuerySet

from .models import (
    HistoryImport,
    Intent,
    IntentFeedback,
    LabeledExample,
    ModelVersion,
    Prediction,
)


def training_examples() -> list[tuple[str, str]]:
    """Trusted examples of active intents, in a stable order, as (text, intent name) pairs;
    never those of the frozen evaluation set."""
    return list(
        LabeledExample.objects.filter(
            status=LabeledExample.Status.TRUSTED, intent__active=True, held_out_at__isnull=True
        )
        .order_by("id")
        .values_list("text", "intent__name")
    )


def active_model_version_id() -> int | None:
    return (
        ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE)
        .values_list("id", flat=True)
        .first()
    )


def intents_with_counts() -> QuerySet[Intent]:
    return Intent.objects.annotate(example_count=Count("examples")).order_by("name")


class IntentChoice(NamedTuple):
    name: str  # "track_order"
    display_name: str  # "Track order"


def intent_choices() -> list[IntentChoice]:
    """The intents an agent can pick, by their human name: every active intent."""
    choices = [
        IntentChoice(intent.name, intent.display_name)
        for intent in Intent.objects.filter(active=True).only("name", "title")
    ]
    return sorted(choices, key=lambda choice: (choice.display_name.casefold(), choice.name))


def intent_feedback_for_message(kustomer_message_id: str) -> IntentFeedback | None:
    """The agent's verdict on a message's intent, if one was given."""
    return (
        IntentFeedback.objects.select_related("intent")
        .filter(kustomer_message_id=kustomer_message_id)
        .first()
    )


def latest_prediction_for_message(kustomer_message_id: str) -> Prediction | None:
    """The message's most recent prediction (there is one per model version that saw it)."""
    if not kustomer_message_id:
        return None
    return (
        Prediction.objects.filter(kustomer_message_id=kustomer_message_id)
        .order_by("-created_at", "-id")
        .first()
    )


# --- Import from Kustomer -------------------------------------------------------------------


def history_imports_listed(*, limit: int = 20) -> list[HistoryImport]:
    """The latest imports that were started (previews nobody imported are left out)."""
    return list(
        HistoryImport.objects.exclude(status=HistoryImport.Status.PREVIEWING)
        .select_related("created_by")
        .order_by("-created_at", "-id")[:limit]
    )


def history_import_get(pk: int) -> HistoryImport | None:
    return HistoryImport.objects.select_related("created_by").filter(pk=pk).first()


def intents_to_map() -> list[Intent]:
    """The intents a tag or value can be mapped to: the active ones."""
    return list(Intent.objects.filter(active=True).order_by("name"))


def history_import_suggested_mapping(row: HistoryImport) -> dict[str, str]:
    """{value: intent name} to preselect: the import's own mapping, else an intent whose name
    is the value written as a name ("Track order" and "track-order" → track_order)."""
    if row.mapping:
        return dict(row.mapping)
    names = set(Intent.objects.filter(active=True).values_list("name", flat=True))
    suggested = {}
    for entry in row.preview.get("values", []):
        value = str(entry["value"])
        candidate = "_".join(value.replace("-", " ").replace("_", " ").lower().split())
        if candidate in names:
            suggested[value] = candidate
    return suggested
