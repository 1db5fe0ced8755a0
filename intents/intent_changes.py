"""What team leads change in the intents from the training UI: create, describe, rename, merge
and retire, each kept in the history (`IntentChange`) with who and when."""

from django.db import transaction

from .models import (
    Intent,
    IntentChange,
    LabeledExample,
    intent_name_in_words,
    intent_titles_forget,
)


class IntentError(ValueError):
    """A change to the intents that cannot be made; the message says why."""


def intent_create(*, user, name: str, description: str = "") -> Intent:
    """A new active intent named like the others ("track_order"). Raises `IntentError`."""
    name = name.strip().lower().replace(" ", "_").replace("-", "_")
    if not name or not all(character.isalnum() or character == "_" for character in name):
        raise IntentError("Name the intent with letters, digits and underscores: track_order.")
    if Intent.objects.filter(name=name).exists():
        raise IntentError(f"There is already an intent named {name!r}.")
    with transaction.atomic():
        intent = Intent.objects.create(name=name, description=description.strip())
        IntentChange.objects.create(
            action=IntentChange.Action.CREATE, intent=intent, performed_by=user
        )
    return intent


def _intent_locked(intent_id: int) -> Intent:
    intent = Intent.objects.select_for_update().filter(pk=intent_id).first()
    if intent is None:
        raise IntentError("This intent does not exist. Reload the page to see the intents.")
    return intent


@transaction.atomic
def intent_describe(*, user, intent_id: int, description: str) -> Intent:
    """Replaces an intent's description, keeping the old one in the history."""
    intent = _intent_locked(intent_id)
    IntentChange.objects.create(
        action=IntentChange.Action.DESCRIBE,
        intent=intent,
        detail=intent.description,
        performed_by=user,
    )
    intent.description = description.strip()
    intent.save(update_fields=["description"])
    return intent


@transaction.atomic
def intent_rename(*, user, intent_id: int, title: str) -> Intent:
    """Changes the name people read (in the card, the notes, the training UI); the key the model
    predicts and Kustomer rules use stays, so nothing downstream breaks. The old title is kept
    in the history. Raises `IntentError`."""
    title = " ".join(title.split())
    if not title:
        raise IntentError("Give the intent a name people will read, e.g. Where is my order.")
    if len(title) > 100:
        raise IntentError("Keep the name under 100 characters.")
    intent = _intent_locked(intent_id)
    taken = [other for other in Intent.objects.exclude(pk=intent.pk) if other.display_name == title]
    if taken:
        raise IntentError(f"{taken[0].name} is already called {title!r}.")
    IntentChange.objects.create(
        action=IntentChange.Action.RENAME,
        intent=intent,
        detail=intent.display_name,
        performed_by=user,
    )
    intent.title = "" if title == intent_name_in_words(intent.name) else title
    intent.save(update_fields=["title"])
    transaction.on_commit(intent_titles_forget)
    return intent


@transaction.atomic
def intent_merge(*, user, intent_id: int, target_name: str) -> IntentChange:
    """Moves every example of an intent to another and retires it. The examples keep who
    labelled them and when; the change keeps the ids of those that moved. Agents' feedback
    keeps naming the retired intent, as it was given. Raises `IntentError`."""
    intent = _intent_locked(intent_id)
    target = Intent.objects.filter(name=target_name.strip(), active=True).first()
    if target is None:
        raise IntentError(f"There is no active intent named {target_name.strip()!r}.")
    if target.pk == intent.pk:
        raise IntentError("Pick another intent to merge into.")
    examples = LabeledExample.objects.filter(intent=intent)
    example_ids = list(examples.order_by("id").values_list("id", flat=True))
    examples.update(intent=target)
    intent.active = False
    intent.save(update_fields=["active"])
    return IntentChange.objects.create(
        action=IntentChange.Action.MERGE,
        intent=intent,
        target=target,
        example_ids=example_ids,
        performed_by=user,
    )


@transaction.atomic
def intent_retire(*, user, intent_id: int) -> IntentChange:
    """Takes an intent out of training and out of the lists agents pick from; its examples
    stay, so bringing it back loses nothing."""
    intent = _intent_locked(intent_id)
    intent.active = False
    intent.save(update_fields=["active"])
    return IntentChange.objects.create(
        action=IntentChange.Action.RETIRE, intent=intent, performed_by=user
    )
