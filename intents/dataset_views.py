"""The dataset's files in the training UI: importing a CSV or JSON Lines file in two steps (a
report of what it would do, then the person's confirmation) and exporting the filtered dataset,
or the exact training data of a model version, as CSV or JSON Lines.

Importing needs the permission to label, and creating the intents a file names the permission
to change intents as well; exporting needs the permission to view examples. The import runs in
the request: a 5 MB file is a few seconds of work, not a background job with a progress bar.
"""

from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import dataset_files, example_history, imports, reports
from .importing import ImportFileError
from .views import (
    INTENT_PERMISSION,
    LABEL_PERMISSION,
    VIEW_PERMISSION,
    _filters_from,
    _page,
    staff_required,
)

# A request this much larger than the largest file is refused before its body is read.
_MULTIPART_ALLOWANCE = 1024 * 1024


def _import_form(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    response = _page(
        request,
        "training/dataset_import.html",
        "dataset",
        {
            "error": error,
            "max_size": dataset_files.MAX_UPLOAD_SIZE,
            "can_create_intents": request.user.has_perm(INTENT_PERMISSION),
            "create_intents": request.POST.get("create_intents") == "1",
        },
    )
    response.status_code = status
    return response


@require_http_methods(["GET", "POST"])
@staff_required(LABEL_PERMISSION)
def dataset_import(request: HttpRequest) -> HttpResponse:
    """The upload form; a posted file is read and kept, and the report shown. Nothing is saved."""
    if request.method == "GET":
        return _import_form(request)
    declared = request.META.get("CONTENT_LENGTH", "")
    if declared.isdigit() and int(declared) > dataset_files.MAX_UPLOAD_BYTES + _MULTIPART_ALLOWANCE:
        return _import_form(request, error=dataset_files.too_big(int(declared)), status=413)
    upload = request.FILES.get("file")
    if upload is None:
        return _import_form(request, error="Choose a file to import.", status=400)
    if upload.size > dataset_files.MAX_UPLOAD_BYTES:
        return _import_form(request, error=dataset_files.too_big(upload.size), status=413)
    try:
        parsed = dataset_files.upload_parse(name=upload.name, content=upload.read())
    except ImportFileError as error:
        return _import_form(request, error=str(error), status=400)
    token = imports.upload_keep(user_id=request.user.pk, name=upload.name, parsed=parsed)
    return redirect(_report_url(token, create_intents=request.POST.get("create_intents") == "1"))


def _report_url(token: str, *, create_intents: bool) -> str:
    url = reverse("intents:dataset-import-report", args=[token])
    return f"{url}?create_intents=1" if create_intents else url


def _kept_upload(request: HttpRequest, token: str) -> imports.KeptUpload | None:
    upload = imports.upload_kept(token=token, user_id=request.user.pk)
    if upload is None:
        messages.error(
            request,
            "That file is no longer kept: it was imported or cancelled, or an hour has passed. "
            "Upload it again.",
        )
    return upload


def _create_intents(request: HttpRequest, data) -> bool:
    return data.get("create_intents") == "1" and request.user.has_perm(INTENT_PERMISSION)


@require_GET
@staff_required(LABEL_PERMISSION)
def dataset_import_report(request: HttpRequest, token: str) -> HttpResponse:
    """What importing the kept file would do, row by row, with the button that does it."""
    upload = _kept_upload(request, token)
    if upload is None:
        return redirect("intents:dataset-import")
    create_intents = _create_intents(request, request.GET)
    return _page(
        request,
        "training/dataset_import_report.html",
        "dataset",
        {
            "upload": upload,
            "report": imports.upload_report(upload=upload, create_intents=create_intents),
            "create_intents": create_intents,
            "can_create_intents": request.user.has_perm(INTENT_PERMISSION),
            "toggle_url": _report_url(token, create_intents=not create_intents),
            "lines_shown": _LINES_SHOWN,
        },
    )


# Past this many, the table would be a page nobody reads: the count says how many more.
_LINES_SHOWN = 1000


@require_POST
@staff_required(LABEL_PERMISSION)
def dataset_import_confirm(request: HttpRequest, token: str) -> HttpResponse:
    upload = _kept_upload(request, token)
    if upload is None:
        return redirect("intents:dataset-import")
    create_intents = _create_intents(request, request.POST)
    expected = request.POST.get("expected_new", "")
    try:
        done = imports.examples_import_upload(
            user=request.user,
            upload=upload,
            create_intents=create_intents,
            expected_new=int(expected) if expected.isdigit() else -1,
        )
    except imports.ImportRefused as error:
        messages.error(request, str(error))
        return redirect(_report_url(token, create_intents=create_intents))
    messages.success(request, _done_message(upload.name, done))
    return redirect(f"{reverse('intents:dataset')}?source=import")


def _done_message(name: str, done: imports.ImportDone) -> str:
    parts = [f"Imported {done.created} example{'s' * (done.created != 1)} from {name}"]
    if done.skipped:
        parts.append(f"skipped {done.skipped} the dataset already had")
    if done.refused:
        parts.append(f"left out {done.refused} row{'s' * (done.refused != 1)} with problems")
    message = "; ".join(parts) + "."
    if done.intents_created:
        message += f" New intents: {', '.join(done.intents_created)}."
    return message


@require_POST
@staff_required(LABEL_PERMISSION)
def dataset_import_cancel(request: HttpRequest, token: str) -> HttpResponse:
    if imports.upload_kept(token=token, user_id=request.user.pk) is not None:
        imports.upload_discard(token=token)
    messages.info(request, "Import cancelled; nothing was saved.")
    return redirect("intents:dataset")


def _attachment(lines, *, file_format: str, name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type=dataset_files.FORMATS[file_format])
    response["Content-Disposition"] = f'attachment; filename="{name}.{file_format}"'
    # Customers' messages: not for shared caches, nor for the browser's cache.
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@staff_required(VIEW_PERMISSION)
def dataset_export(request: HttpRequest, file_format: str) -> HttpResponseBase:
    """Every example the dataset page's filters select (all pages, not one), streamed."""
    if file_format not in dataset_files.FORMATS:
        raise Http404("Examples are exported as .csv or .jsonl.")
    rows = reports.examples_exported(_filters_from(request.GET))
    return _attachment(
        dataset_files.file_lines(file_format, dataset_files.EXPORT_COLUMNS, rows),
        file_format=file_format,
        name=f"examples-{timezone.localtime():%Y%m%d-%H%M}",
    )


@require_GET
@staff_required(VIEW_PERMISSION)
def version_dataset_export(request: HttpRequest, number: int, file_format: str) -> HttpResponseBase:
    """The (text, intent) pairs the version was trained on, in training order."""
    if file_format not in dataset_files.FORMATS:
        raise Http404("Training data is exported as .csv or .jsonl.")
    version = reports.model_version_by_number(number)
    if version is None:
        raise Http404("No such model version.")
    pairs = reports.model_version_dataset(version)
    if pairs is None:
        messages.error(
            request,
            f"v{number} has not been trained, so it has no training data to export."
            if not version.training_data_sha256
            else f"v{number}'s training data cannot be exported: it was trained before versions "
            "kept their examples, and the examples have changed since.",
        )
        return redirect("intents:version-detail", number=number)
    return _attachment(
        dataset_files.file_lines(file_format, dataset_files.VERSION_EXPORT_COLUMNS, pairs),
        file_format=file_format,
        name=f"v{number}-training-data",
    )


@require_GET
@staff_required(VIEW_PERMISSION)
def example_history_page(request: HttpRequest, example_id: int) -> HttpResponse:
    """Everything recorded of one example, deleted ones included."""
    history = example_history.example_history(example_id)
    if history is None:
        raise Http404("No example of this number was ever recorded.")
    return _page(request, "training/example_history.html", "dataset", {"history": history})


@require_GET
@staff_required(VIEW_PERMISSION)
def version_confused_examples(request: HttpRequest, number: int) -> HttpResponse:
    """The examples behind one cell of a version's confusion matrix: those of intent `true`
    its evaluation took for `predicted` (for any other intent without `predicted`)."""
    version = reports.model_version_by_number(number)
    true_intent = request.GET.get("true", "").strip()
    if version is None or not true_intent:
        raise Http404("No such model version or intent.")
    predicted = request.GET.get("predicted", "").strip()
    examples = reports.confused_examples(
        version, true_intent=true_intent, predicted_intent=predicted
    )
    return _page(
        request,
        "training/version_confused.html",
        "versions",
        {
            "version": version,
            "true_intent": true_intent,
            "predicted_intent": predicted,
            "examples": examples,
        },
    )
