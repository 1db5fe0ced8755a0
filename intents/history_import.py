"""Import from Kustomer: past conversations become labelled examples, their tags (or one custom
attribute, such as a contact reason) mapped to intents by a team lead.

A preview searches the date range and counts what each tag or value would give, within a few
dozen requests; the import itself runs as a task on the training queue (intents/history_tasks.py)
in slices, through a Kustomer client whose rate limiter gives it its own share of the org's
budget (`KustomerClient.for_history_import`). Each conversation is written in one transaction
with the run's counters and cursor, so a run that stops anywhere continues where it was and
never imports a conversation twice.

Which message becomes the example: the conversation's first message from the customer (not an
automated one), its text as the live pipeline reads messages (`Message.text`), HTML dropped.
"""

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from copilot import queueing
from copilot.integrations.http import PermanentError, RateLimited, TransientError, backoff_seconds
from copilot.integrations.kustomer import Conversation, KustomerClient, Message
from copilot.text import storable

from .models import HistoryImport, Intent, LabeledExample, text_fingerprint
from .text_cleaning import html_to_text

logger = logging.getLogger(__name__)

HISTORY_IMPORT_RUN = queueing.Work(
    name="Kustomer history import",
    task="intents.history_tasks.import_kustomer_history",
    model=HistoryImport,
    unfinished=Q(status__in=[HistoryImport.Status.QUEUED, HistoryImport.Status.RUNNING]),
    # A slice never runs longer than the task time limit; a run still "running" after it lost
    # its worker, and the sweep queues it again (it continues from its cursor).
    lost_after=timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60),
    requeue_changes={"status": HistoryImport.Status.QUEUED},
)

# The preview reads one page of this many conversations of the range...
PREVIEW_SAMPLE = 100
# ... counts exactly (one search each) at most this many of the tags or values found there...
PREVIEW_VALUES = 15
# ... and reads the messages of at most this many sampled conversations, two per value, to
# estimate what each value yields. At most 1 + 15 + 12 requests: under a minute's share.
PREVIEW_MESSAGE_SAMPLE = 12
# A run gives the training queue back after this long (a training run queued behind takes its
# turn), and continues in a new task.
SLICE_SECONDS = 240
# A rate-limit wait this short is waited out in the task rather than queued again.
SHORT_WAIT_SECONDS = 5.0


class HistoryImportError(ValueError):
    """A request the team lead can correct: the message says how."""


@dataclass(frozen=True)
class RunOutcome:
    status: str
    # Seconds after which the run is to continue in a new task; None when it has ended.
    again_after: float | None = None


# --- what a conversation gives --------------------------------------------------------------


def conversation_values(conversation: Conversation, *, mapping_source: str) -> list[str]:
    """The tags of the conversation, or its value of the custom attribute, as text."""
    if mapping_source == HistoryImport.TAGS:
        return list(dict.fromkeys(conversation.tags))
    value = conversation.custom.get(mapping_source)
    if value is None or value == "":
        return []
    return [str(value)]


def example_text(message: Message) -> str:
    """The text an example keeps: what the pipeline classifies, without HTML markup."""
    text = html_to_text(message.text)
    lines = (" ".join(line.split()) for line in text.splitlines())
    return storable("\n".join(line for line in lines if line))


def _first_customer_message(client: KustomerClient, conversation_id: str) -> Message | None:
    for message in client.iter_messages(conversation_id):
        if message.direction == "in" and not message.automated and example_text(message):
            return message
    return None


def _window(*, date_from: date, date_to: date, time_zone: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(time_zone)
    start = datetime.combine(date_from, clock.min, tzinfo=zone)
    end = datetime.combine(date_to + timedelta(days=1), clock.min, tzinfo=zone)
    return start, end - timedelta(milliseconds=1)


def _window_criteria(start: datetime, end: datetime) -> list[dict]:
    iso = "%Y-%m-%dT%H:%M:%S.000Z"
    utc_start = start.astimezone(ZoneInfo("UTC"))
    utc_end = end.astimezone(ZoneInfo("UTC"))
    return [
        {"conversation_created_at": {"gte": utc_start.strftime(iso)}},
        {"conversation_created_at": {"lte": utc_end.strftime("%Y-%m-%dT%H:%M:%S.999Z")}},
    ]


def _value_criterion(mapping_source: str, value: str) -> dict:
    if mapping_source == HistoryImport.TAGS:
        return {"conversation_tags": {"in": [value]}}
    return {f"conversation_custom_{mapping_source}": {"equals": value}}


# --- preview ----------------------------------------------------------------------------------


def history_preview(
    *,
    client: KustomerClient,
    date_from: date,
    date_to: date,
    time_zone: str,
    mapping_source: str,
) -> dict:
    """What the range holds, per tag or value: conversations (exact), and from a sample how
    many inbound customer messages and examples each would give. JSON, kept on the import."""
    start, end = _window(date_from=date_from, date_to=date_to, time_zone=time_zone)
    window = _window_criteria(start, end)
    page = client.search_conversations_page(window, page_size=PREVIEW_SAMPLE)
    sample = page.conversations
    tally: Counter[str] = Counter()
    by_value: dict[str, list[Conversation]] = {}
    without_value = 0
    for conversation in sample:
        values = conversation_values(conversation, mapping_source=mapping_source)
        if not values:
            without_value += 1
        for value in values:
            tally[value] += 1
            by_value.setdefault(value, []).append(conversation)
    values = [value for value, _ in tally.most_common(PREVIEW_VALUES)]
    whole_range_sampled = page.total <= len(sample)
    counts = {
        value: tally[value]
        if whole_range_sampled
        else client.count_conversations([*window, _value_criterion(mapping_source, value)])
        for value in values
    }

    # Two conversations per value, taken in turn, until the message sample is spent.
    read: dict[str, tuple[int, bool]] = {}  # conversation id -> (inbound messages, has text)
    for round_index in range(2):
        for value in values:
            if len(read) >= PREVIEW_MESSAGE_SAMPLE:
                break
            candidates = [c for c in by_value[value] if c.id not in read]
            if len(by_value[value]) > round_index and candidates:
                conversation = candidates[0]
                messages = list(client.iter_messages(conversation.id))
                inbound = [m for m in messages if m.direction == "in" and not m.automated]
                read[conversation.id] = (len(inbound), any(example_text(m) for m in inbound))

    rows = []
    for value in values:
        sampled = [read[c.id] for c in by_value[value] if c.id in read]
        inbound = sum(count for count, _ in sampled)
        with_text = sum(1 for _, has_text in sampled if has_text)
        rows.append(
            {
                "value": value,
                "conversations": counts[value],
                "sampled": len(sampled),
                "inbound_messages": round(counts[value] * inbound / len(sampled))
                if sampled
                else None,
                "examples": round(counts[value] * with_text / len(sampled)) if sampled else None,
            }
        )
    return {
        "total": page.total,
        "sample_size": len(sample),
        "sampled_messages": len(read),
        "without_value_in_sample": without_value,
        "more_values": max(0, len(tally) - len(values)),
        "exact": whole_range_sampled,
        "values": rows,
    }


def _validated_source(mapping_source: str) -> str:
    source = mapping_source.strip()
    if source == HistoryImport.TAGS:
        return source
    if not source or not source[0].islower() or not source.isalnum():
        raise HistoryImportError(
            "Name the custom attribute as Kustomer does, e.g. contactReasonStr."
        )
    return source


def history_import_preview(
    *,
    client: KustomerClient,
    date_from: date,
    date_to: date,
    mapping_source: str,
    created_by=None,
    time_zone: str | None = None,
) -> HistoryImport:
    """Searches the range and keeps what it found as an import to be mapped (`previewing`).

    Raises `HistoryImportError` for a range or attribute to correct, and the client's errors
    (`RateLimited`, `TransientError`, `PermanentError`) for Kustomer's answers."""
    if date_from > date_to:
        raise HistoryImportError("The start of the range is after its end.")
    if date_to > timezone.localdate():
        raise HistoryImportError("The range cannot end in the future.")
    source = _validated_source(mapping_source)
    zone = time_zone or settings.TIME_ZONE
    preview = history_preview(
        client=client, date_from=date_from, date_to=date_to, time_zone=zone, mapping_source=source
    )
    return HistoryImport.objects.create(
        created_by=created_by,
        date_from=date_from,
        date_to=date_to,
        time_zone=zone,
        mapping_source=source,
        preview=preview,
        conversations_total=preview["total"],
    )


# --- start, cancel, resume ----------------------------------------------------------------------


@transaction.atomic
def history_import_start(
    *, history_import_id: int, mapping: dict[str, str], review_first: bool = False
) -> HistoryImport:
    """Queues a previewed import with its mapping ({value: intent name}; values left out are
    not imported)."""
    row = HistoryImport.objects.select_for_update().get(pk=history_import_id)
    if row.status != HistoryImport.Status.PREVIEWING:
        raise HistoryImportError("This import has already started.")
    mapping = {value: name for value, name in mapping.items() if name}
    if not mapping:
        raise HistoryImportError("Map at least one tag or value to an intent.")
    known = set(Intent.objects.filter(name__in=mapping.values()).values_list("name", flat=True))
    unknown = sorted(set(mapping.values()) - known)
    if unknown:
        raise HistoryImportError(f"No intent is called {', '.join(unknown)}.")
    row.mapping = mapping
    row.review_first = review_first
    row.status = HistoryImport.Status.QUEUED
    row.progress_message = ""
    row.task_at = timezone.now()
    row.save(
        update_fields=[
            "mapping",
            "review_first",
            "status",
            "progress_message",
            "task_at",
            "updated_at",
        ]
    )
    queueing.enqueue_on_commit(HISTORY_IMPORT_RUN, row.pk)
    return row


def history_import_cancel(*, history_import_id: int, user) -> bool:
    """Stops a queued or running import; what it imported stays. A running slice stops at its
    next conversation (every write of a run requires `running`). False when it had ended."""
    return bool(
        HistoryImport.objects.filter(
            pk=history_import_id,
            status__in=[HistoryImport.Status.QUEUED, HistoryImport.Status.RUNNING],
        ).update(
            status=HistoryImport.Status.CANCELLED,
            progress_message=f"cancelled by {user.get_username()}",
            finished_at=timezone.now(),
        )
    )


@transaction.atomic
def history_import_resume(*, history_import_id: int) -> bool:
    """Queues a failed or cancelled import again; it continues from its cursor. False when it
    was neither."""
    resumed = HistoryImport.objects.filter(
        pk=history_import_id,
        status__in=[HistoryImport.Status.FAILED, HistoryImport.Status.CANCELLED],
    ).update(
        status=HistoryImport.Status.QUEUED,
        failure_reason="",
        failures_in_a_row=0,
        progress_message="resumed; waiting for a worker",
        finished_at=None,
        task_at=timezone.now(),
    )
    if resumed:
        queueing.enqueue_on_commit(HISTORY_IMPORT_RUN, history_import_id)
    return bool(resumed)


# --- the run --------------------------------------------------------------------------------


def _running(pk: int):
    return HistoryImport.objects.filter(pk=pk, status=HistoryImport.Status.RUNNING)


def progress_message(row: HistoryImport) -> str:
    """Where a run is, in words: its counters, or why it waits."""
    if row.status == HistoryImport.Status.QUEUED and row.progress_message:
        return row.progress_message
    if row.status == HistoryImport.Status.QUEUED:
        return "waiting for a worker"
    counts = (
        f"{row.conversations_done} of {row.conversations_total} conversations, "
        f"{row.messages_imported} examples imported"
    )
    if row.status == HistoryImport.Status.FAILED:
        return f"failed after {counts}"
    if row.status == HistoryImport.Status.CANCELLED:
        return f"cancelled after {counts}"
    return counts


def _advance_cursor(cursor: dict, conversation: Conversation) -> dict:
    moment = conversation.created_at.isoformat() if conversation.created_at else None
    if moment is None or moment == cursor.get("after"):
        return {"after": cursor.get("after"), "ids": [*cursor.get("ids", []), conversation.id]}
    return {"after": moment, "ids": [conversation.id]}


def _conversation_import(
    *,
    row: HistoryImport,
    client: KustomerClient,
    conversation: Conversation,
    intents: dict[str, Intent],
) -> bool:
    """Imports one conversation and moves the cursor past it, in one transaction; False when
    the run is no longer running (cancelled) and nothing was written."""
    values = conversation_values(conversation, mapping_source=row.mapping_source)
    targets = {row.mapping[value] for value in values if value in row.mapping}
    message = None
    if len(targets) == 1:
        message = _first_customer_message(client, conversation.id)
    with transaction.atomic():
        locked = _running(row.pk).select_for_update().first()
        if locked is None:
            return False
        counter = "skipped_unmapped"
        if len(targets) > 1:
            counter = "skipped_ambiguous"
        elif len(targets) == 1 and message is None:
            counter = "skipped_without_text"
        elif message is not None:
            (target,) = targets
            counter = _example_create(
                row=row, message=message, intent=intents[target], values=values
            )
        locked.cursor = _advance_cursor(locked.cursor, conversation)
        locked.conversations_done = F("conversations_done") + 1
        setattr(locked, counter, F(counter) + 1)
        locked.failures_in_a_row = 0
        locked.save(update_fields=["cursor", "conversations_done", counter, "failures_in_a_row"])
    return True


def _example_create(
    *, row: HistoryImport, message: Message, intent: Intent, values: list[str]
) -> str:
    text = example_text(message)
    fingerprint = text_fingerprint(text)
    if LabeledExample.objects.filter(text_sha256=fingerprint).exists():
        return "skipped_duplicates"
    mapped = next(value for value in values if row.mapping.get(value) == intent.name)
    try:
        with transaction.atomic():
            LabeledExample.objects.create(
                text=text,
                text_sha256=fingerprint,
                intent=intent,
                source=LabeledExample.Source.KUSTOMER_HISTORY,
                # Trusted by default: the team lead chose this mapping after seeing what each tag
                # holds, which is a deliberate label. A tag describes the whole conversation,
                # though, not always its first message: `review_first` sends them to the queue.
                status=LabeledExample.Status.PENDING_REVIEW
                if row.review_first
                else LabeledExample.Status.TRUSTED,
                kustomer_conversation_id=message.conversation_id,
                kustomer_message_id=message.id,
                labelled_by=f"kustomer:{mapped}"[:255],
            )
    except IntegrityError:  # the same text was labelled meanwhile
        return "skipped_duplicates"
    return "messages_imported"


def _pause(pk: int, *, message: str, **changes) -> None:
    _running(pk).update(
        status=HistoryImport.Status.QUEUED, progress_message=message[:255], **changes
    )


def _fail(pk: int, reason: str) -> None:
    _running(pk).update(
        status=HistoryImport.Status.FAILED,
        failure_reason=reason,
        progress_message="failed",
        finished_at=timezone.now(),
    )


def history_import_run(
    *,
    history_import_id: int,
    client_factory: Callable[[], KustomerClient] = KustomerClient.for_history_import,
    slice_seconds: float = SLICE_SECONDS,
) -> RunOutcome:
    """Runs a queued import for at most `slice_seconds`, from its cursor.

    The import is claimed first (queued → running): a task queued twice runs once. It ends
    `done`; or `failed` with the reason (Kustomer refused, or kept failing); or goes back to
    `queued` with `again_after` when it is to continue later (its slice is spent, Kustomer's
    rate limit or a transient failure).
    """
    claimed = HistoryImport.objects.filter(
        pk=history_import_id, status=HistoryImport.Status.QUEUED
    ).update(status=HistoryImport.Status.RUNNING, progress_message="")
    row = HistoryImport.objects.get(pk=history_import_id)
    if not claimed:
        return RunOutcome(status=row.status)
    first_slice = row.started_at is None
    if first_slice:
        HistoryImport.objects.filter(pk=row.pk).update(started_at=timezone.now())
    intents = {
        intent.name: intent for intent in Intent.objects.filter(name__in=row.mapping.values())
    }
    missing = sorted(set(row.mapping.values()) - set(intents))
    if missing:
        _fail(row.pk, f"The intent {', '.join(missing)} no longer exists; map it again.")
        return RunOutcome(status=HistoryImport.Status.FAILED)

    started = time.monotonic()
    start, end = _window(date_from=row.date_from, date_to=row.date_to, time_zone=row.time_zone)
    after = datetime.fromisoformat(row.cursor["after"]) if row.cursor.get("after") else None
    try:
        with client_factory() as client:
            if first_slice:
                total = client.count_conversations(_window_criteria(start, end))
                _running(row.pk).update(conversations_total=total)
            for conversation in client.search_conversations(
                created_from=max(after, start) if after else start, created_to=end
            ):
                row.refresh_from_db()
                if row.status != HistoryImport.Status.RUNNING:
                    return RunOutcome(status=row.status)
                if conversation.id in row.cursor.get("ids", []):
                    continue  # done before the run stopped
                if time.monotonic() - started > slice_seconds:
                    _pause(row.pk, message="continuing after a turn for other training work")
                    return RunOutcome(status=HistoryImport.Status.QUEUED, again_after=0.0)
                if not _conversation_import(
                    row=row, client=client, conversation=conversation, intents=intents
                ):
                    return RunOutcome(status=HistoryImport.Status.CANCELLED)
    except RateLimited as error:
        _pause(
            row.pk,
            message=f"waiting {error.retry_after:.0f} s for the import's share of Kustomer's "
            "rate limit",
        )
        return RunOutcome(status=HistoryImport.Status.QUEUED, again_after=error.retry_after)
    except TransientError as error:
        row.refresh_from_db()
        if row.failures_in_a_row + 1 > settings.KUSTOMER_MAX_RETRIES:
            _fail(row.pk, f"Kustomer kept failing; resume to try again. Last error: {error}")
            return RunOutcome(status=HistoryImport.Status.FAILED)
        _pause(
            row.pk,
            message=f"Kustomer did not answer; trying again ({error})",
            failures_in_a_row=F("failures_in_a_row") + 1,
        )
        return RunOutcome(
            status=HistoryImport.Status.QUEUED,
            again_after=backoff_seconds(row.failures_in_a_row, cap=120),
        )
    except PermanentError as error:
        _fail(row.pk, _permanent_reason(error))
        return RunOutcome(status=HistoryImport.Status.FAILED)

    row.refresh_from_db()
    _running(row.pk).update(
        status=HistoryImport.Status.DONE,
        conversations_total=max(row.conversations_total, row.conversations_done),
        progress_message="done",
        finished_at=timezone.now(),
    )
    return RunOutcome(status=HistoryImport.Status.DONE)


def _permanent_reason(error: PermanentError) -> str:
    if error.status == 403:
        return (
            "Kustomer refused the search: the API key needs a search role "
            "(org.user.search.read) and the message read role. Ask a Kustomer admin, then resume."
        )
    if error.status == 401:
        return "Kustomer does not accept the API key (KUSTOMER_API_KEY); fix it, then resume."
    return f"Kustomer refused the request: {error}"


def kustomer_error_sentence(error: Exception) -> str:
    """What a person waiting on Kustomer (an import's preview, a conversation) reads when it did
    not answer."""
    if isinstance(error, RateLimited):
        return (
            "The training UI's share of Kustomer's rate limit is spent for now; try again in "
            f"{max(1, round(error.retry_after))} seconds."
        )
    if isinstance(error, TransientError):
        return "Kustomer did not answer in time; try again in a moment."
    if isinstance(error, PermanentError):
        return _permanent_reason(error)
    return str(error)
