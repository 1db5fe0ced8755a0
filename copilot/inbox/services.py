"""Customers' messages: stored once from Kustomer's webhook, leased for each run of the pipeline
(`copilot.pipeline`), and written back to Kustomer.

Exactly once, as Kustomer sees it: each step records its state on the InboundMessage row, so a
duplicate delivery, a retried task or a restarted worker continues where the last one stopped
instead of writing a second KObject or note.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from copilot import queueing
from copilot.db import insert_unless_exists
from copilot.integrations.http import PermanentError, RateLimited
from copilot.integrations.kustomer import KObject, KustomerClient, is_duplicate
from copilot.webhooks.intake import Receipt
from intents.models import Prediction

from .models import InboundMessage
from .webhooks import WebhookMessage

logger = logging.getLogger(__name__)

# A run of the pipeline holds its message this long: a worker killed mid-run delays the message by
# at most this (plus a sweep). The pipeline task's time limit is shorter (see copilot.tasks).
LEASE = timedelta(seconds=60)


def _unfinished_and_free() -> Q:
    """Unfinished messages that no worker holds the lease of."""
    return Q(
        Q(lease_until__isnull=True) | Q(lease_until__lt=timezone.now()),
        status__in=[InboundMessage.Status.RECEIVED, InboundMessage.Status.CLASSIFIED],
    )


def inbound_messages_expire() -> int:
    """Fails the unfinished messages received more than INBOX_GIVE_UP_AFTER_SECONDS ago, for a
    person to retry from the admin: a message that crashes its task every time, or one from long
    ago, is not written back to Kustomer days late."""
    give_up_after = timedelta(seconds=settings.INBOX_GIVE_UP_AFTER_SECONDS)
    hours = give_up_after.total_seconds() / 3600
    return (
        InboundMessage.objects.filter(_unfinished_and_free())
        .filter(received_at__lt=timezone.now() - give_up_after)
        .update(
            status=InboundMessage.Status.FAILED,
            failure_reason=(
                f"No task finished it in the {hours:g} hours after it arrived; "
                "retry it from the admin if it still matters."
            ),
            needs_queueing=False,
        )
    )


MESSAGE_PIPELINE = queueing.Work(
    name="inbound message",
    task="copilot.tasks.run_message_pipeline",
    model=InboundMessage,
    unfinished=Q(status__in=[InboundMessage.Status.RECEIVED, InboundMessage.Status.CLASSIFIED]),
    available=_unfinished_and_free,
    expire=inbound_messages_expire,
    task_marks_start=True,
)


def inbound_message_receive(*, event_id: int, message: WebhookMessage) -> Receipt:
    """Stores a customer's message once (inside the transaction that stored its event) and
    queues its pipeline after commit. The same message under another event id is a duplicate."""
    message_pk = insert_unless_exists(
        InboundMessage,
        unique_field="kustomer_message_id",
        kustomer_message_id=message.id,
        conversation_id=message.conversation_id,
        customer_id=message.customer_id,
        channel=message.channel,
        text=message.text,
        sent_at=message.sent_at,
        event_id=event_id,
    )
    if message_pk is None:
        return Receipt("duplicate", "message already received")
    queueing.enqueue_on_commit(MESSAGE_PIPELINE, message_pk)
    return Receipt("accepted")


# --- processing ---------------------------------------------------------------------------------


def inbound_message_lease_take(*, message_id: int) -> InboundMessage | None:
    """Takes the message for one run of its pipeline: the message, or None when it is finished
    or another worker holds it (see `inbound_message_lease_wait`)."""
    now = timezone.now()
    taken = InboundMessage.objects.filter(_unfinished_and_free(), pk=message_id).update(
        lease_until=now + LEASE, task_at=now
    )
    if not taken:
        return None
    return InboundMessage.objects.select_related("prediction__model_version").get(pk=message_id)


def inbound_message_lease_release(*, message_id: int) -> None:
    InboundMessage.objects.filter(pk=message_id).update(lease_until=None)


def inbound_message_lease_wait(*, message_id: int) -> float:
    """Seconds until another run's lease on this unfinished message ends (0 when it is finished
    or free): a task delivered again after its worker died waits for the dead run's lease
    instead of being acknowledged as done."""
    row = (
        InboundMessage.objects.filter(
            pk=message_id,
            status__in=[InboundMessage.Status.RECEIVED, InboundMessage.Status.CLASSIFIED],
        )
        .values_list("lease_until", flat=True)
        .first()
    )
    if row is None:
        return 0.0
    return max((row - timezone.now()).total_seconds(), 0.0)


def _save(message: InboundMessage, **changes) -> None:
    for name, value in changes.items():
        setattr(message, name, value)
    message.save(update_fields=[*changes, "updated_at"])


def inbound_message_written(*, message: InboundMessage) -> None:
    _save(
        message,
        status=InboundMessage.Status.WRITTEN,
        written_at=timezone.now(),
        failure_reason="",
    )


def inbound_message_failed(*, message: InboundMessage, reason: str) -> None:
    _save(message, status=InboundMessage.Status.FAILED, failure_reason=reason)


def inbound_message_transient_failure(*, message: InboundMessage, reason: str) -> None:
    _save(message, attempts=F("attempts") + 1, failure_reason=reason)


def inbound_message_write_back(
    *, client: KustomerClient, message: InboundMessage, suggested_reply: str
) -> None:
    """Writes the KObject, the note and the tag that are not written yet, each exactly once."""
    _write_kobject(client, message, suggested_reply=suggested_reply)
    _write_note(client, message)
    _write_tag(client, message)


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
            queueing.enqueue_on_commit(MESSAGE_PIPELINE, message_id)
    return bool(updated)


def inbound_message_classified(*, message: InboundMessage, prediction: Prediction) -> None:
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


def insight_attributes(message: InboundMessage, *, suggested_reply: str = "") -> dict:
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
        "suggestedReplyTxt": suggested_reply[:1024],
    }


def _write_kobject(
    client: KustomerClient, message: InboundMessage, *, suggested_reply: str
) -> None:
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
                custom=insight_attributes(message, suggested_reply=suggested_reply),
            )
        except RateLimited:
            # Refused before anything was created: nothing to look for next time.
            _save(message, kobject_state=InboundMessage.Step.PENDING)
            raise
        except PermanentError as error:
            if not is_duplicate(error):
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
        note_id = client.write_note(
            message.conversation_id,
            body=body,
            external_id=message.note_external_id,
            customer_id=message.customer_id,
        )
    except RateLimited:
        _save(message, note_state=InboundMessage.Step.PENDING)
        raise
    _save(message, note_state=InboundMessage.Step.DONE, note_id=note_id)


def _write_tag(client: KustomerClient, message: InboundMessage) -> None:
    if message.tag_state in (InboundMessage.Step.DONE, InboundMessage.Step.SKIPPED):
        return
    if not settings.KUSTOMER_TAG_INTENT or message.prediction.abstained:
        _save(message, tag_state=InboundMessage.Step.SKIPPED)
        return
    # Adding a tag the conversation already has changes nothing: safe to send again.
    client.add_conversation_tags(message.conversation_id, [message.prediction.intent])
    _save(message, tag_state=InboundMessage.Step.DONE)
