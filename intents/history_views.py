"""The training UI's "Import from Kustomer" (/training/import/): preview a date range of past
conversations, map their tags or a custom attribute to intents, import in the background.

Viewing needs the permission to view examples; previewing, starting, cancelling and resuming
the permission to change them. The run page's progress bar is the versions page's
(`data-progress-url`, static/training/training.js): the progress view answers the same JSON.
"""

from datetime import date, timedelta

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from copilot.integrations.http import IntegrationError
from copilot.integrations.kustomer import KustomerClient

from . import history_import, selectors, transcripts
from .models import HistoryImport
from .views import LABEL_PERMISSION, VIEW_PERMISSION, _page, staff_required

DEFAULT_DAYS = 90


def _date(text: str | None, default: date) -> date | None:
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _form_page(request: HttpRequest, *, form: dict, error: str = "", status: int = 200):
    response = _page(
        request,
        "training/history_import.html",
        "kustomer-import",
        {
            "form": form,
            "error": error,
            "imports": selectors.history_imports_listed(),
            "sample_size": history_import.PREVIEW_SAMPLE,
            "value_limit": history_import.PREVIEW_VALUES,
            "message_sample": history_import.PREVIEW_MESSAGE_SAMPLE,
        },
    )
    response.status_code = status
    return response


@require_GET
@staff_required(VIEW_PERMISSION)
def history_import_page(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    form = {
        "date_from": today - timedelta(days=DEFAULT_DAYS),
        "date_to": today,
        "source": "tags",
        "attribute": "",
    }
    return _form_page(request, form=form)


@require_POST
@staff_required(LABEL_PERMISSION)
def history_import_preview(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    source = request.POST.get("source", "tags")
    attribute = request.POST.get("attribute", "").strip()
    date_from = _date(request.POST.get("date_from"), today - timedelta(days=DEFAULT_DAYS))
    date_to = _date(request.POST.get("date_to"), today)
    form = {
        "date_from": date_from or request.POST.get("date_from"),
        "date_to": date_to or request.POST.get("date_to"),
        "source": source,
        "attribute": attribute,
    }
    if date_from is None or date_to is None:
        return _form_page(request, form=form, error="Give both dates as YYYY-MM-DD.", status=400)
    if source == "attribute" and not attribute:
        return _form_page(
            request,
            form=form,
            error="Name the custom attribute to map, e.g. contactReasonStr.",
            status=400,
        )
    try:
        with KustomerClient.for_history_import() as client:
            row = history_import.history_import_preview(
                client=client,
                date_from=date_from,
                date_to=date_to,
                mapping_source=attribute if source == "attribute" else HistoryImport.TAGS,
                created_by=request.user,
            )
    except history_import.HistoryImportError as error:
        return _form_page(request, form=form, error=str(error), status=400)
    except IntegrationError as error:
        sentence = history_import.kustomer_error_sentence(error)
        return _form_page(request, form=form, error=sentence, status=502)
    return redirect("intents:kustomer-import-detail", pk=row.pk)


# Rows for tags or values the preview did not show, named by hand.
EXTRA_VALUES = 3


def _import_or_404(pk: int) -> HistoryImport:
    row = selectors.history_import_get(pk)
    if row is None:
        raise Http404("No such import.")
    return row


@require_GET
@staff_required(VIEW_PERMISSION)
def history_import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    row = _import_or_404(pk)
    suggested = selectors.history_import_suggested_mapping(row)
    return _page(
        request,
        "training/history_import_detail.html",
        "kustomer-import",
        {
            "run": row,
            "intents": selectors.intents_to_map(),
            # Each previewed value with the intent proposed for it ("" for none).
            "mapping": [
                (entry, suggested.get(entry["value"], ""))
                for entry in row.preview.get("values", [])
            ],
            "extra_rows": range(EXTRA_VALUES),
            "message": history_import.progress_message(row),
            "finished": row.status
            in (
                HistoryImport.Status.DONE,
                HistoryImport.Status.FAILED,
                HistoryImport.Status.CANCELLED,
            ),
        },
    )


@require_POST
@staff_required(LABEL_PERMISSION)
def history_import_start(request: HttpRequest, pk: int) -> HttpResponse:
    row = _import_or_404(pk)
    values = [entry["value"] for entry in row.preview.get("values", [])]
    mapping = {value: request.POST.get(f"intent-{index}", "") for index, value in enumerate(values)}
    # Values the preview's sample did not show, named by hand.
    for index in range(EXTRA_VALUES):
        value = request.POST.get(f"extra-value-{index}", "").strip()
        if value and value not in mapping:
            mapping[value] = request.POST.get(f"extra-intent-{index}", "")
    try:
        history_import.history_import_start(
            history_import_id=row.pk,
            mapping=mapping,
            review_first=request.POST.get("review_first") == "1",
        )
    except history_import.HistoryImportError as error:
        messages.error(request, str(error))
        return redirect("intents:kustomer-import-detail", pk=row.pk)
    messages.success(request, "The import has started; you can leave this page and come back.")
    return redirect("intents:kustomer-import-detail", pk=row.pk)


@require_GET
@staff_required(VIEW_PERMISSION)
def history_import_progress(request: HttpRequest, pk: int) -> JsonResponse:
    row = _import_or_404(pk)
    return JsonResponse(
        {
            "status": row.status,
            "status_display": row.get_status_display(),
            "progress": row.progress,
            "message": history_import.progress_message(row),
            "conversations_done": row.conversations_done,
            "conversations_total": row.conversations_total,
            "messages_imported": row.messages_imported,
            "failure_reason": row.failure_reason,
            "finished": row.status
            not in (HistoryImport.Status.QUEUED, HistoryImport.Status.RUNNING),
        }
    )


@require_POST
@staff_required(LABEL_PERMISSION)
def history_import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    row = _import_or_404(pk)
    if history_import.history_import_cancel(history_import_id=row.pk, user=request.user):
        messages.success(request, "The import is cancelled; what it imported stays.")
    else:
        messages.info(request, "The import had already ended.")
    return redirect("intents:kustomer-import-detail", pk=row.pk)


@require_POST
@staff_required(LABEL_PERMISSION)
def history_import_resume(request: HttpRequest, pk: int) -> HttpResponse:
    row = _import_or_404(pk)
    if history_import.history_import_resume(history_import_id=row.pk):
        messages.success(request, "The import continues where it stopped.")
    else:
        messages.info(request, "Only a failed or cancelled import can be resumed.")
    return redirect("intents:kustomer-import-detail", pk=row.pk)


@require_GET
@staff_required(VIEW_PERMISSION)
def queue_conversation(request: HttpRequest, conversation_id: str) -> HttpResponse:
    """The queue item's whole conversation from Kustomer, both ways, as a fragment the queue
    puts in place; a sentence instead when Kustomer does not give it."""
    try:
        transcript = transcripts.conversation_transcript(
            client_factory=KustomerClient.for_history_import,
            conversation_id=conversation_id,
            message_id=request.GET.get("message", ""),
        )
    except IntegrationError as error:
        sentence = history_import.kustomer_error_sentence(error)
        return render(request, "training/_queue_conversation.html", {"error": sentence}, status=502)
    return render(request, "training/_queue_conversation.html", {"transcript": transcript})
