"""What team leads change in the examples from the training UI: labels (one at a time or a
whole filtered list, every decision recorded and undoable), texts and deletions, the frozen
evaluation set and suggested intents. Intents themselves change in `intents.intent_changes`,
the live version in `intents.promotion`."""

import random
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from copilot.db import update_each

from . import example_history
from .intent_changes import intent_create
from .models import (
    EvaluationSetRevision,
    Intent,
    IntentFeedback,
    LabelDecision,
    LabeledExample,
    Prediction,
    text_fingerprint,
)
from .reports import (
    ExampleFilters,
    examples_filtered,
)
from .review import MISLABEL, queue_key_parse
from .selectors import latest_prediction_for_message
from .services import logger

# --- The training UI: the labelling queue ------------------------------------------------------


class LabellingError(ValueError):
    """A queue decision that cannot be made; the message says why, in a sentence."""


def _example_revert(example: LabeledExample, previous: dict) -> None:
    example.intent_id = previous["intent_id"]
    example.status = previous["status"]
    example.labelled_by = previous["labelled_by"]
    example.labelled_at = datetime.fromisoformat(previous["labelled_at"])


def _example_label(
    *,
    text: str,
    intent: Intent,
    labelled_by: str,
    kustomer_message_id: str,
    kustomer_conversation_id: str,
) -> tuple[LabeledExample, bool, dict]:
    """The text's example, created or relabelled as trusted; with whether it was created and
    its fields before."""
    fingerprint = text_fingerprint(text)
    example = LabeledExample.objects.select_for_update().filter(text_sha256=fingerprint).first()
    if example is None:
        example = LabeledExample.objects.create(
            text=text,
            text_sha256=fingerprint,
            intent=intent,
            source=LabeledExample.Source.ADMIN,
            status=LabeledExample.Status.TRUSTED,
            kustomer_message_id=kustomer_message_id,
            kustomer_conversation_id=kustomer_conversation_id,
            labelled_by=labelled_by,
        )
        return example, True, {}
    previous = example.label_snapshot()
    example.intent = intent
    example.status = LabeledExample.Status.TRUSTED
    example.labelled_by = labelled_by
    example.labelled_at = timezone.now()
    example.save(update_fields=LabeledExample.LABEL_FIELDS)
    return example, False, previous


@transaction.atomic
def label_decision_record(
    *, user, key: str, action: str, intent_name: str | None = None
) -> LabelDecision:
    """Records a reviewer's decision on one queue item ("kind:id") and applies it.

    ``label`` and ``accept`` make the message's text a trusted example of ``intent_name``:
    a pending example is accepted (relabelled if another intent was picked), an agent's
    disagreement or an unsure prediction becomes a new example, or relabels the example its
    text already has. On a suspected mislabel they relabel the example, or keep its label
    when it is the intent picked; either way a person has decided on it. ``skip`` changes no
    data and takes the item out of this reviewer's queue. Every decision keeps who, when and
    the example's fields before, for :func:`label_decision_undo`.

    Raises `LabellingError` for an unknown item or intent, or an example already reviewed.
    """
    parsed = queue_key_parse(key)
    if parsed is None:
        raise LabellingError("That item is not in the queue; reload the page.")
    if action not in LabelDecision.Action.values:
        raise LabellingError(f"Unknown action {action!r}.")
    queue_kind, item_id = parsed
    # A suspected mislabel is a trusted example: the decision is one on that example.
    kind = LabelDecision.Kind.EXAMPLE if queue_kind == MISLABEL else queue_kind
    decision = LabelDecision(kind=kind, item_id=item_id, action=action, decided_by=user)
    source = _queue_item_source(kind, item_id)
    decision.kustomer_message_id = source.kustomer_message_id
    if action == LabelDecision.Action.SKIP:
        decision.save()
        return decision
    if not intent_name:
        raise LabellingError("Pick an intent first.")
    intent = Intent.objects.filter(name=intent_name, active=True).first()
    if intent is None:
        raise LabellingError(f"There is no active intent named {intent_name!r}.")
    labelled_by = user.get_username()
    if queue_kind == MISLABEL:
        _suspected_mislabel_decide(
            decision, item_id=item_id, intent=intent, labelled_by=labelled_by
        )
    elif kind == LabelDecision.Kind.EXAMPLE:
        example = LabeledExample.objects.select_for_update().get(pk=item_id)
        if example.status != LabeledExample.Status.PENDING_REVIEW:
            raise LabellingError("Someone has already reviewed this example.")
        decision.previous = example.label_snapshot()
        example.intent = intent
        example.status = LabeledExample.Status.TRUSTED
        example.labelled_by = labelled_by
        example.labelled_at = timezone.now()
        example.save(update_fields=LabeledExample.LABEL_FIELDS)
        decision.example = example
    else:
        text = source.text
        if not text:
            raise LabellingError("This message's text is no longer stored.")
        example, created, previous = _example_label(
            text=text,
            intent=intent,
            labelled_by=labelled_by,
            kustomer_message_id=source.kustomer_message_id,
            kustomer_conversation_id=source.kustomer_conversation_id,
        )
        decision.example, decision.example_created, decision.previous = example, created, previous
    decision.intent = intent
    decision.save()
    logger.info("label decision %s on %s by user %s", action, key, user.pk)
    return decision


def _suspected_mislabel_decide(
    decision: LabelDecision, *, item_id: int, intent: Intent, labelled_by: str
) -> None:
    example = LabeledExample.objects.select_for_update().get(pk=item_id)
    decided = LabelDecision.objects.filter(
        kind=LabelDecision.Kind.EXAMPLE, item_id=item_id, undone_at__isnull=True
    ).exclude(action=LabelDecision.Action.SKIP)
    if example.status != LabeledExample.Status.TRUSTED or decided.exists():
        raise LabellingError("Someone has already decided on this example.")
    decision.previous = example.label_snapshot()
    decision.example = example
    if example.intent_id == intent.id:
        return  # the label is kept: the decision alone says a person confirmed it
    example.intent = intent
    example.labelled_by = labelled_by
    example.labelled_at = timezone.now()
    example.save(update_fields=["intent", "labelled_by", "labelled_at"])


@dataclass(frozen=True)
class _QueueSource:
    text: str
    kustomer_message_id: str
    kustomer_conversation_id: str


def _queue_item_source(kind: str, item_id: int) -> _QueueSource:
    if kind == LabelDecision.Kind.EXAMPLE:
        row = LabeledExample.objects.filter(pk=item_id).first()
        if row is None:
            raise LabellingError("This example no longer exists.")
        return _QueueSource(row.text, row.kustomer_message_id, row.kustomer_conversation_id)
    if kind == LabelDecision.Kind.FEEDBACK:
        row = IntentFeedback.objects.select_related("prediction").filter(pk=item_id).first()
        if row is None:
            raise LabellingError("This feedback no longer exists.")
        prediction = row.prediction or latest_prediction_for_message(row.kustomer_message_id)
        return _QueueSource(
            prediction.text if prediction is not None else "",
            row.kustomer_message_id,
            row.kustomer_conversation_id,
        )
    row = Prediction.objects.filter(pk=item_id).first()
    if row is None:
        raise LabellingError("This prediction no longer exists.")
    return _QueueSource(row.text, row.kustomer_message_id, row.kustomer_conversation_id)


@transaction.atomic
def label_decision_undo(*, user) -> LabelDecision | None:
    """Undoes the user's latest decision that is not undone yet, restoring the example as it
    was (an example the decision created is deleted); the item returns to the queue. The
    decision stays, marked undone, so the history keeps it. None when there is nothing to undo.
    """
    decision = (
        LabelDecision.objects.select_for_update()
        .filter(decided_by=user, undone_at__isnull=True)
        .order_by("-decided_at", "-id")
        .first()
    )
    if decision is None:
        return None
    _refuse_to_overwrite_later_changes(decision, user=user)
    if decision.batch is not None:
        _label_decision_batch_undo(decision)
        return decision
    if decision.action == LabelDecision.Action.DELETE:
        _examples_restore({decision.item_id: decision.previous})
        decision.undone_at = timezone.now()
        decision.save(update_fields=["undone_at"])
        return decision
    example = (
        LabeledExample.objects.select_for_update().filter(pk=decision.example_id).first()
        if decision.example_id
        else None
    )
    if example is not None and decision.action == LabelDecision.Action.EDIT:
        example.text = decision.previous["text"]
        example.text_sha256 = text_fingerprint(example.text)
        example.labelled_by = decision.previous["labelled_by"]
        example.labelled_at = datetime.fromisoformat(decision.previous["labelled_at"])
        example.save(update_fields=["text", "text_sha256", "labelled_by", "labelled_at"])
    elif example is not None and decision.example_created:
        example.delete()
    elif example is not None and decision.previous:
        _example_revert(example, decision.previous)
        example.save(update_fields=LabeledExample.LABEL_FIELDS)
    decision.undone_at = timezone.now()
    decision.save(update_fields=["undone_at"])
    logger.info("label decision %s undone by user %s", decision.pk, user.pk)
    return decision


# --- The training UI: the dataset --------------------------------------------------------------


@transaction.atomic
def example_relabel(*, user, example_id: int, intent_name: str) -> LabelDecision:
    """Gives one example another intent (and makes it trusted), recorded as the user's
    decision with the example's fields before, so that it can be undone and is never lost.
    Raises `LabellingError` for an unknown example or intent."""
    example = LabeledExample.objects.select_for_update().filter(pk=example_id).first()
    if example is None:
        raise LabellingError("This example no longer exists.")
    intent = Intent.objects.filter(name=intent_name, active=True).first()
    if intent is None:
        raise LabellingError(f"There is no active intent named {intent_name!r}.")
    previous = example.label_snapshot()
    example.intent = intent
    example.status = LabeledExample.Status.TRUSTED
    example.labelled_by = user.get_username()
    example.labelled_at = timezone.now()
    example.save(update_fields=LabeledExample.LABEL_FIELDS)
    return LabelDecision.objects.create(
        kind=LabelDecision.Kind.EXAMPLE,
        item_id=example.pk,
        kustomer_message_id=example.kustomer_message_id,
        action=LabelDecision.Action.LABEL,
        intent=intent,
        example=example,
        previous=previous,
        decided_by=user,
    )


def _examples_restore(records: dict[int, dict]) -> None:
    """Deleted examples back under their own ids (`records`: id to the example's
    `whole_record()`). Raises `LabellingError`, restoring none, when another example has taken
    one's text since."""
    if not records:
        return
    examples = []
    for example_id, record in records.items():
        held_out_at = record.get("held_out_at")
        examples.append(
            LabeledExample(
                pk=example_id,
                text=record["text"],
                text_sha256=text_fingerprint(record["text"]),
                intent_id=record["intent_id"],
                source=record["source"],
                status=record["status"],
                kustomer_message_id=record["kustomer_message_id"],
                kustomer_conversation_id=record["kustomer_conversation_id"],
                labelled_by=record["labelled_by"],
                held_out_at=datetime.fromisoformat(held_out_at) if held_out_at else None,
                held_out_in_id=record.get("held_out_in_id"),
            )
        )
    fingerprints = [example.text_sha256 for example in examples]
    if LabeledExample.objects.filter(text_sha256__in=fingerprints).exists():
        raise LabellingError(
            "Another example has the text of a deleted one now, so it cannot return."
            if len(examples) > 1
            else "Another example has this text now, so the deleted one cannot return."
        )
    LabeledExample.objects.bulk_create(examples, batch_size=1000)
    # `labelled_at` is set on creation whatever is given (auto_now_add): put the old ones back.
    for example in examples:
        example.labelled_at = datetime.fromisoformat(records[example.pk]["labelled_at"])
    update_each(LabeledExample, examples, ["labelled_at"])


@transaction.atomic
def example_edit(*, user, example_id: int, text: str) -> LabelDecision:
    """Corrects an example's text (a typo, a signature left in), recorded with the text before.
    Raises `LabellingError` for an empty text or one another example already has."""
    text = text.strip()
    if not text:
        raise LabellingError("The text is empty: delete the example instead.")
    example = LabeledExample.objects.select_for_update().filter(pk=example_id).first()
    if example is None:
        raise LabellingError("This example no longer exists.")
    fingerprint = text_fingerprint(text)
    if LabeledExample.objects.filter(text_sha256=fingerprint).exclude(pk=example.pk).exists():
        raise LabellingError("Another example already has this text.")
    previous = {**example.label_snapshot(), "text": example.text}
    example.text, example.text_sha256 = text, fingerprint
    example.labelled_by = user.get_username()
    example.labelled_at = timezone.now()
    example.save(update_fields=["text", "text_sha256", "labelled_by", "labelled_at"])
    return LabelDecision.objects.create(
        kind=LabelDecision.Kind.EXAMPLE,
        item_id=example.pk,
        kustomer_message_id=example.kustomer_message_id,
        action=LabelDecision.Action.EDIT,
        intent=example.intent,
        example=example,
        previous=previous,
        decided_by=user,
    )


_FROZEN = (
    "This example is in the frozen evaluation set, which every version is measured on: "
    "deleting it would change the set. Relabel it if its label is wrong."
)


@transaction.atomic
def example_delete(*, user, example_id: int) -> LabelDecision:
    """Deletes an example, keeping all of it in the decision, so that undo brings it back and
    the history says who deleted what. Raises `LabellingError` for an unknown example."""
    example = LabeledExample.objects.select_for_update().filter(pk=example_id).first()
    if example is None:
        raise LabellingError("This example no longer exists.")
    if example.held_out_at is not None:
        raise LabellingError(_FROZEN)
    decision = LabelDecision.objects.create(
        kind=LabelDecision.Kind.EXAMPLE,
        item_id=example.pk,
        kustomer_message_id=example.kustomer_message_id,
        action=LabelDecision.Action.DELETE,
        intent=example.intent,
        previous=example.whole_record(),
        decided_by=user,
    )
    example.delete()
    return decision


def _examples_locked(
    filters: ExampleFilters, expected_total: int, *, fields: tuple[str, ...] | None = None
) -> list[LabeledExample]:
    """Every example the filters select, locked, with only `fields` read (all when None).
    Raises `LabellingError` when they are no longer the `expected_total` the person saw."""
    examples = examples_filtered(filters).select_related(None)
    if fields is not None:
        examples = examples.only(*fields)
    examples = list(examples.select_for_update(of=("self",)))
    if len(examples) != expected_total:
        raise LabellingError(
            f"The list has changed since you loaded it: {len(examples)} examples match now, "
            f"not {expected_total}. Check it and try again."
        )
    return examples


@transaction.atomic
def examples_delete_in_bulk(*, user, filters: ExampleFilters, expected_total: int) -> int:
    """Deletes every example the filters select (all pages), each kept in a decision of one
    batch that a single undo brings back. Refuses, like the bulk label, when the list changed
    since it was shown."""
    # All of each example: the decisions keep it whole, for undo.
    examples = _examples_locked(filters, expected_total)
    frozen = sum(1 for example in examples if example.held_out_at is not None)
    if frozen:
        raise LabellingError(
            f"{frozen} of these examples are in the frozen evaluation set, which every version "
            "is measured on: deleting them would change it. Filter them out (Evaluation set: "
            "not in it) and try again; relabel any whose label is wrong."
        )
    batch = uuid.uuid4()
    LabelDecision.objects.bulk_create(
        [
            LabelDecision(
                kind=LabelDecision.Kind.EXAMPLE,
                item_id=example.pk,
                kustomer_message_id=example.kustomer_message_id,
                action=LabelDecision.Action.DELETE,
                intent_id=example.intent_id,
                previous=example.whole_record(),
                decided_by=user,
                batch=batch,
            )
            for example in examples
        ],
        batch_size=1000,
    )
    LabeledExample.objects.filter(pk__in=[example.pk for example in examples]).delete()
    logger.info("bulk delete of %d examples by user %s", len(examples), user.pk)
    return len(examples)


def _refuse_to_overwrite_later_changes(decision: LabelDecision, *, user) -> None:
    """Undo puts back what the decision replaced; when someone else (a reviewer, an agent in
    the card) changed one of its examples since, that would silently throw their change away.
    Raises `LabellingError` naming who and what instead."""
    later = example_history.change_since(decision, by_others_than=user)
    if later is not None:
        who = later.decided_by.get_username() if later.decided_by else later.decided_by_agent
        raise LabellingError(
            f"{who} changed {'one of these examples' if decision.batch else 'this example'} "
            f"since ({later.get_action_display().lower()}, "
            f"{timezone.localtime(later.decided_at):%d %b %H:%M}); undoing would throw that "
            "change away. See the example's history on the dataset page."
        )


def _label_decision_batch_undo(decision: LabelDecision) -> None:
    decisions = list(
        LabelDecision.objects.select_for_update().filter(
            batch=decision.batch, undone_at__isnull=True
        )
    )
    _examples_restore(
        {
            row.item_id: row.previous
            for row in decisions
            if row.action == LabelDecision.Action.DELETE
        }
    )
    examples = (
        LabeledExample.objects.select_for_update()
        .only("id", *LabeledExample.LABEL_FIELDS)
        .in_bulk([row.example_id for row in decisions if row.example_id])
    )
    restored, created = [], []
    for row in decisions:
        if row.action == LabelDecision.Action.DELETE:
            continue
        example = examples.get(row.example_id)
        if example is not None and row.example_created:
            created.append(example.pk)
            continue
        if example is None or not row.previous:
            continue
        _example_revert(example, row.previous)
        restored.append(example)
    update_each(LabeledExample, restored, LabeledExample.LABEL_FIELDS)
    LabelDecision.objects.filter(pk__in=[row.pk for row in decisions]).update(
        undone_at=timezone.now()
    )
    LabeledExample.objects.filter(pk__in=created).delete()
    logger.info("label decisions of batch %s undone (%d)", decision.batch, len(decisions))


@transaction.atomic
def examples_label_in_bulk(
    *, user, filters: ExampleFilters, expected_total: int, intent_name: str | None = None
) -> int:
    """Labels every example the filters select, not just a page of them: with
    ``intent_name`` they all take that intent, without it each keeps its own (pending ones are
    accepted). All become trusted. One decision per example, with its fields before, in one
    batch that a single undo reverts.

    ``expected_total`` is the count the person saw; if the list has changed since, nothing is
    done and `LabellingError` says so. Returns the number of examples labelled.
    """
    intent = None
    if intent_name:
        intent = Intent.objects.filter(name=intent_name, active=True).first()
        if intent is None:
            raise LabellingError(f"There is no active intent named {intent_name!r}.")
    # Only the fields a decision keeps: 10,000 texts would be read for nothing.
    examples = _examples_locked(
        filters,
        expected_total,
        fields=("id", "intent", "status", "kustomer_message_id", "labelled_by", "labelled_at"),
    )
    batch = uuid.uuid4()
    labelled_by = user.get_username()
    now = timezone.now()
    action = LabelDecision.Action.LABEL if intent else LabelDecision.Action.ACCEPT
    decisions = []
    for example in examples:
        decisions.append(
            LabelDecision(
                kind=LabelDecision.Kind.EXAMPLE,
                item_id=example.pk,
                kustomer_message_id=example.kustomer_message_id,
                action=action,
                intent_id=intent.pk if intent else example.intent_id,
                example_id=example.pk,
                previous=example.label_snapshot(),
                decided_by=user,
                batch=batch,
            )
        )
    # Every example gets the same values: one UPDATE, not a CASE per row.
    changes = {"status": LabeledExample.Status.TRUSTED, "labelled_by": labelled_by}
    if intent is not None:
        changes["intent"] = intent
    LabeledExample.objects.filter(pk__in=[example.pk for example in examples]).update(
        labelled_at=now, **changes
    )
    LabelDecision.objects.bulk_create(decisions, batch_size=2000)
    logger.info("bulk %s of %d examples by user %s", action, len(examples), user.pk)
    return len(examples)


# --- The training UI: the frozen evaluation set -----------------------------------------------


@dataclass(frozen=True)
class EvaluationSetFrozen:
    added: int
    per_intent: dict[str, int]
    skipped: list[str]  # intents too small to give examples up without starving training
    revision: EvaluationSetRevision | None  # None when nothing was added


def evaluation_set_freeze(
    *, user, share: float, seed: int = 0, reason: str = ""
) -> EvaluationSetFrozen:
    """Holds `share` of each active intent's trusted examples out of training for good, chosen
    at random (reproducibly for one `seed`), adding to the set already frozen as its next
    revision, with who added them and why. An intent keeps at least `INTENT_MIN_EXAMPLES`
    examples to train on; one that cannot spare any is skipped.

    Versions trained before the set was frozen may have seen its examples: the comparison says
    so rather than hiding it."""
    if not 0 < share <= 0.5:
        raise LabellingError("Hold out between 1 % and 50 % of the examples.")
    rng = random.Random(seed)
    minimum = settings.INTENT_MIN_EXAMPLES
    trainable = LabeledExample.objects.filter(
        status=LabeledExample.Status.TRUSTED, intent__active=True, held_out_at__isnull=True
    )
    by_intent: dict[str, list[int]] = {}
    for example_id, name in trainable.order_by("id").values_list("id", "intent__name"):
        by_intent.setdefault(name, []).append(example_id)
    chosen: list[int] = []
    per_intent: dict[str, int] = {}
    skipped: list[str] = []
    for name, ids in sorted(by_intent.items()):
        take = min(round(len(ids) * share), len(ids) - minimum)
        if take < 1:
            skipped.append(name)
            continue
        chosen.extend(rng.sample(ids, take))
        per_intent[name] = take
    if not chosen:
        return EvaluationSetFrozen(added=0, per_intent={}, skipped=skipped, revision=None)
    try:
        with transaction.atomic():
            revision = evaluation_set_revision_add(
                LabeledExample.objects.filter(pk__in=chosen),
                user=user,
                reason=" ".join(reason.split()),
            )
    except IntegrityError:
        raise LabellingError(
            "Someone else added to the evaluation set at the same moment. Look at it again, "
            "then add more if it still needs them."
        ) from None
    logger.info(
        "evaluation set revision %s: %s examples held out by %s", revision, revision.added, user
    )
    return EvaluationSetFrozen(
        added=revision.added, per_intent=per_intent, skipped=skipped, revision=revision
    )


def evaluation_set_revision_add(
    examples: QuerySet[LabeledExample],
    *,
    user,
    reason: str,
    held_out_at: datetime | None = None,
) -> EvaluationSetRevision:
    """The next revision of the set, holding out those of `examples` that are in no revision
    yet (as of `held_out_at`, the revision's time when None). Two at once take the same number:
    the second raises `IntegrityError`."""
    last = EvaluationSetRevision.objects.order_by("-number").first()
    revision = EvaluationSetRevision.objects.create(
        number=last.number + 1 if last else 1,
        added=0,
        size=0,
        intents=0,
        reason=reason[:500],
        created_by=user,
    )
    added = examples.filter(held_out_in__isnull=True).update(
        held_out_at=held_out_at or revision.created_at, held_out_in=revision
    )
    frozen = LabeledExample.objects.filter(held_out_at__isnull=False).aggregate(
        size=Count("id"), intents=Count("intent", distinct=True)
    )
    revision.added, revision.size, revision.intents = added, frozen["size"], frozen["intents"]
    revision.save(update_fields=["added", "size", "intents"])
    return revision


# --- The training UI: suggested intents -------------------------------------------------------


@transaction.atomic
def suggested_group_label(*, user, prediction_ids: list[int], intent_name: str) -> int:
    """Makes the messages of a suggested group (the predictions the model abstained on) trusted
    examples of an active intent: one decision per message, in one batch that a single undo
    reverts (removing the examples it created). Returns the number of messages labelled.
    Raises `LabellingError`."""
    intent_name = intent_name.strip()
    if not intent_name:
        raise LabellingError("Pick the intent to file them under.")
    intent = Intent.objects.filter(name=intent_name, active=True).first()
    if intent is None:
        raise LabellingError(f"There is no active intent named {intent_name!r}.")
    predictions = list(Prediction.objects.filter(pk__in=prediction_ids).order_by("id"))
    if not predictions:
        raise LabellingError("None of these messages is stored any more; reload the page.")
    batch = uuid.uuid4()
    labelled_by = user.get_username()
    for prediction in predictions:
        example, created, previous = _example_label(
            text=prediction.text,
            intent=intent,
            labelled_by=labelled_by,
            kustomer_message_id=prediction.kustomer_message_id,
            kustomer_conversation_id=prediction.kustomer_conversation_id,
        )
        LabelDecision.objects.create(
            kind=LabelDecision.Kind.PREDICTION,
            item_id=prediction.pk,
            kustomer_message_id=prediction.kustomer_message_id,
            action=LabelDecision.Action.LABEL,
            intent=intent,
            example=example,
            example_created=created,
            previous=previous,
            decided_by=user,
            batch=batch,
        )
    logger.info("suggested group of %d labelled %s by user %s", len(predictions), intent, user.pk)
    return len(predictions)


def suggested_group_adopt(
    *, user, prediction_ids: list[int], name: str, description: str = ""
) -> tuple[Intent, int]:
    """A new intent made of a suggested group: created, then its messages labelled with it."""
    with transaction.atomic():
        intent = intent_create(user=user, name=name, description=description)
        return intent, suggested_group_label(
            user=user, prediction_ids=prediction_ids, intent_name=intent.name
        )
