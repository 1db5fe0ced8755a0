from django.db.models import Count, QuerySet

from .models import Intent, LabeledExample, ModelVersion


def training_examples() -> list[tuple[str, str]]:
    """Trusted examples of active intents, in a stable order, as (text, intent name) pairs."""
    return list(
        LabeledExample.objects.filter(status=LabeledExample.Status.TRUSTED, intent__active=True)
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
