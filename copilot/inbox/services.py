"""The inbound-message pipeline: receive a Kustomer event, classify, write back.

Exactly once, as Kustomer sees it: each step records its state on the InboundMessage row, so a
duplicate delivery, a retried task or a restarted worker continues where the last one stopped
instead of writing a second KObject or note.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from copilot.db import insert_unless_exists
from copilot.integrations.http import PermanentError, RateLimited, TransientError
from copilot.integrations.kustomer import KObject, KustomerClient
from copilot.replies.selectors import top_draft_text
from copilot.replies.services import drafts_generate_for_message
from intents.prediction import NoActiveModel, classify
from intents.services import prediction_record

from .models import InboundMessage, KustomerEvent
from .webhooks import MESSAGE_CREATE, Event, message_from_event

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class Receipt:
    status: str  # "accepted", "duplicate" or "ignored"
    detail: str = ""


def kustomer_event_receive(*, event: Event) -> Receipt:
    """Stores an accepted event once and, for a customer's message, queues its pipeline.

    Raises `WebhookPayloadError` when a message event lacks what the pipeline needs.
    """
    if event.name != MESSAGE_CREATE:
        return _event_store(event, ignore_reason=f"{event.name} events are not used")
    message = message_from_event(event)
    if message.direction != "in":
        return _event_store(event, ignore_reason="not from the customer (direction is not 'in')")
    if not message.text:
        return _event_store(event, ignore_reason="the message has no text")

    # One transaction of two single-statement inserts: this runs for every delivery, and
    # Kustomer wants its answer fast.
    with transaction.atomic():
        event_pk = _event_insert(event, status=KustomerEvent.Status.ACCEPTED)
        if event_pk is None:
            return Receipt("duplicate", "event already received")
        message_pk = insert_unless_exists(
            InboundMessage,
            unique_field="kustomer_message_id",
            kustomer_message_id=message.id,
            conversation_id=message.conversation_id,
            customer_id=message.customer_id,
            channel=message.channel,
            text=message.text[:20000],
            sent_at=message.sent_at,
            event_id=event_pk,
        )
        if message_pk is None:
            # The same message under another event id: already in the pipeline.
            return Receipt("duplicate", "message already received")
        transaction.on_commit(partial(_queue, message_pk))
    return Receipt("accepted")


def _event_insert(event: Event, *, status: str, ignore_reason: str = "") -> int | None:
    return insert_unless_exists(
        KustomerEvent,
        unique_field="event_id",
        event_id=event.id,
        name=event.name,
        status=status,
        ignore_reason=ignore_reason,
        payload=event.payload,
    )


def _event_store(event: Event, *, ignore_reason: str) -> Receipt:
    if _event_insert(event, status=KustomerEvent.Status.IGNORED, ignore_reason=ignore_reason):
        return Receipt(KustomerEvent.Status.IGNORED, ignore_reason)
    return Receipt("duplicate", "event already received")


def _queue(message_id: int) -> None:
    from .tasks import process_inbound_message

    try:
        process_inbound_message.delay(message_id)
    except KombuOperationalError as error:
        # The message is stored, so Kustomer gets its 2xx and does not resend: the sweep
        # (`inbound_messages_requeue`) queues it within a minute once the broker is back.
        InboundMessage.objects.filter(pk=message_id).update(needs_queueing=True)
        logger.warning(
            "Inbound message %s is stored but could not be queued: %s", message_id, error
        )


def inbound_messages_requeue(
    *, lost_after: timedelta, give_up_after: timedelta, limit: int = 500
) -> list[int]:
    """Queues again the unfinished messages whose task is lost; returns their ids.

    Lost: its publish failed (`needs_queueing`), or no task was queued or started for it for
    `lost_after` (longer than any retry waits, so only a task that Redis lost, e.g. by restarting
    empty, is ever repeated). A message queued twice is still processed once: the lease and the
    per-step states see to it. Unfinished messages received more than `give_up_after` ago are
    failed instead, for a person to retry from the admin: a message that crashes its task every
    time, or one from long ago, is not written back to Kustomer days late.
    """
    now = timezone.now()
    unfinished = _free(now)
    hours = give_up_after.total_seconds() / 3600
    unfinished.filter(received_at__lt=now - give_up_after).update(
        status=InboundMessage.Status.FAILED,
        failure_reason=(
            f"No task finished it in the {hours:g} hours after it arrived; "
            "retry it from the admin if it still matters."
        ),
        needs_queueing=False,
    )
    with transaction.atomic():
        # Sweeps that run at once (a backlog of beat's tasks) take different messages.
        lost = list(
            unfinished.filter(Q(needs_queueing=True) | Q(task_at__lt=now - lost_after))
            .order_by("task_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        InboundMessage.objects.filter(pk__in=lost).update(task_at=now, needs_queueing=False)
    for message_id in lost:
        _queue(message_id)
    return lost


# --- processing ---------------------------------------------------------------------------------


def _free(now) -> QuerySet[InboundMessage]:
    """Unfinished messages that no worker holds the lease of."""
    return InboundMessage.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now),
        status__in=[InboundMessage.Status.RECEIVED, InboundMessage.Status.CLASSIFIED],
    )


def _lease_take(message_id: int) -> bool:
    now = timezone.now()
    taken = _free(now).filter(pk=message_id).update(lease_until=now + LEASE, task_at=now)
    return taken == 1


def _save(message: InboundMessage, **changes) -> None:
    for name, value in changes.items():
        setattr(message, name, value)
    message.save(update_fields=[*changes, "updated_at"])


def inbound_message_process(
    *,
    message_id: int,
    client_factory: Callable[[], KustomerClient] = KustomerClient.from_settings,
) -> InboundMessage | None:
    """Runs the remaining steps of one message's pipeline.

    Returns None when another worker holds the message or it is already finished. Raises
    `TransientError` (incl. `RateLimited`) for the task to retry later; marks the message failed
    on a permanent error.
    """
    if not _lease_take(message_id):
        return None
    message = InboundMessage.objects.select_related("prediction__model_version").get(pk=message_id)
    try:
        if message.prediction is None:
            _classify(message)
        # Order context (Shopify) and suggested replies join the pipeline here, between
        # classification and write-back, so that the KObject can carry them.
        drafts_generate_for_message(message_id=message.id)  # never raises; falls back
        with client_factory() as client:
            _write_kobject(client, message)
            _write_note(client, message)
            _write_tag(client, message)
        _save(
            message,
            status=InboundMessage.Status.WRITTEN,
            written_at=timezone.now(),
            failure_reason="",
        )
    except (PermanentError, NoActiveModel) as error:
        _save(message, status=InboundMessage.Status.FAILED, failure_reason=str(error))
    except RateLimited:
        raise
    except TransientError as error:
        _save(message, attempts=F("attempts") + 1, failure_reason=str(error))
        raise
    finally:
        InboundMessage.objects.filter(pk=message_id).update(lease_until=None)
    return message


def inbound_message_attempts(*, message_id: int) -> int:
    return InboundMessage.objects.values_list("attempts", flat=True).get(pk=message_id)


def inbound_message_fail(*, message_id: int, reason: str) -> None:
    InboundMessage.objects.filter(pk=message_id).exclude(
        status=InboundMessage.Status.WRITTEN
    ).update(status=InboundMessage.Status.FAILED, failure_reason=reason, lease_until=None)


def inbound_message_retry(*, message_id: int) -> bool:
    """Puts a failed message back in the pipeline (from the admin); finished steps stay done."""
    with transaction.atomic():
        updated = InboundMessage.objects.filter(
            pk=message_id, status=InboundMessage.Status.FAILED
        ).update(
            status=InboundMessage.Status.RECEIVED,
            attempts=0,
            failure_reason="",
            task_at=timezone.now(),
        )
        if updated:
            transaction.on_commit(partial(_queue, message_id))
    return bool(updated)


def _classify(message: InboundMessage) -> None:
    prediction = prediction_record(
        text=message.text,
        classification=classify(message.text),
        kustomer_message_id=message.kustomer_message_id,
        kustomer_conversation_id=message.conversation_id,
    )
    _save(
        message,
        prediction=prediction,
        status=InboundMessage.Status.CLASSIFIED,
        classified_at=timezone.now(),
    )


def _intent_label(message: InboundMessage) -> str:
    prediction = message.prediction
    if prediction.abstained:
        best, probability = prediction.top[0] if prediction.top else ("unknown", 0.0)
        return f"not sure (best guess {best}, {probability:.0%})"
    return f"{prediction.intent} ({prediction.confidence:.0%} confident)"


def insight_attributes(message: InboundMessage) -> dict:
    """The KObject's custom attributes; names end in Kustomer's type suffixes."""
    prediction = message.prediction
    return {
        "intentStr": prediction.intent or "",
        "confidenceNum": round(prediction.confidence, 4),
        "abstainedBool": prediction.abstained,
        "topIntentsStr": ", ".join(f"{label} {p:.0%}" for label, p in prediction.top)[:1024],
        "modelVersionStr": f"v{prediction.model_version.number}",
        "predictedAt": prediction.created_at.isoformat(),
        "messageIdStr": message.kustomer_message_id,
        "conversationIdStr": message.conversation_id,
        "suggestedReplyTxt": top_draft_text(message_id=message.id, limit=1024),
    }


def _is_duplicate(error: PermanentError) -> bool:
    text = str(error).lower()
    return error.status in (400, 409) and ("duplicate" in text or "already exists" in text)


def _write_kobject(client: KustomerClient, message: InboundMessage) -> None:
    if message.kobject_state == InboundMessage.Step.DONE:
        return
    klass = settings.KUSTOMER_INSIGHT_KLASS
    external_id = message.kustomer_message_id
    kobject: KObject | None = None
    if message.kobject_state == InboundMessage.Step.SENDING:
        # An earlier attempt sent the create and never heard back: it may exist already.
        kobject = client.find_kobject(klass, external_id)
    if kobject is None:
        _save(message, kobject_state=InboundMessage.Step.SENDING)
        try:
            kobject = client.create_kobject(
                message.customer_id,
                klass,
                title=f"Intent: {_intent_label(message)}",
                external_id=external_id,
                custom=insight_attributes(message),
            )
        except RateLimited:
            # Refused before anything was created: nothing to look for next time.
            _save(message, kobject_state=InboundMessage.Step.PENDING)
            raise
        except PermanentError as error:
            if not _is_duplicate(error):
                raise
            kobject = client.find_kobject(klass, external_id)
            if kobject is None:
                raise
    _save(message, kobject_state=InboundMessage.Step.DONE, kobject_id=kobject.id)


def _note_wanted(message: InboundMessage) -> bool:
    mode = settings.KUSTOMER_NOTES
    return mode == "always" or (mode == "confident" and not message.prediction.abstained)


def _write_note(client: KustomerClient, message: InboundMessage) -> None:
    if message.note_state in (InboundMessage.Step.DONE, InboundMessage.Step.SKIPPED):
        return
    if not _note_wanted(message):
        _save(message, note_state=InboundMessage.Step.SKIPPED)
        return
    _save(message, note_state=InboundMessage.Step.SENDING)
    body = (
        f"Copilot: intent {_intent_label(message)} · "
        f"model v{message.prediction.model_version.number}"
    )
    try:
        note = client.create_note(
            message.conversation_id,
            body=body,
            external_id=message.note_external_id,
            customer_id=message.customer_id,
        )
    except RateLimited:
        _save(message, note_state=InboundMessage.Step.PENDING)
        raise
    except PermanentError as error:
        # Kustomer refusing our externalId as a duplicate means an earlier attempt wrote it.
        if not _is_duplicate(error):
            raise
        _save(message, note_state=InboundMessage.Step.DONE)
        return
    _save(message, note_state=InboundMessage.Step.DONE, note_id=note.id)


def _write_tag(client: KustomerClient, message: InboundMessage) -> None:
    if message.tag_state in (InboundMessage.Step.DONE, InboundMessage.Step.SKIPPED):
        return
    if not settings.KUSTOMER_TAG_INTENT or message.prediction.abstained:
        _save(message, tag_state=InboundMessage.Step.SKIPPED)
        return
    # Adding a tag the conversation already has changes nothing: safe to send again.
    client.add_conversation_tags(message.conversation_id, [message.prediction.intent])
    _save(message, tag_state=InboundMessage.Step.DONE)
