from typing import NamedTuple

from django.db.models import Count, QuerySet

from .models import (
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
        for intent in Intent.objects.filter(active=True).only("name")
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
