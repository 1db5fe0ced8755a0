"""The training UI at /training/: staff look at the model, label what it needs and release a
better version. Thin: selectors read, services write, templates draw.

Staff sign in with the admin's login. Every page needs a staff account and the permission to
view examples; labelling and relabelling need the permission to change examples, training,
promoting and rolling back the permission to change model versions, and changing intents the
permission to change intents.

Interactivity is one small script, static/training/training.js, not htmx: what the queue needs
(keys, the next item kept in a <template>, undo that puts the shown item back) is client state
htmx would not remove, and the other pages are plain forms. Every form also works without it.
"""

from collections.abc import Callable
from datetime import date
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from . import (
    charts,
    curation,
    evaluation,
    intent_changes,
    promotion,
    reports,
    review,
    selectors,
    services,
)
from .models import LabelDecision, LabeledExample, ModelVersion

VIEW_PERMISSION = "intents.view_labeledexample"
LABEL_PERMISSION = "intents.change_labeledexample"
MODEL_PERMISSION = "intents.change_modelversion"


def staff_required(permission: str) -> Callable:
    """Anonymous people go to the admin's login; signed-in people who are not staff, or lack
    `permission`, get 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("admin:login"))
            if not (user.is_active and user.is_staff and user.has_perm(permission)):
                raise PermissionDenied("The training UI is for staff with training permissions.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _navigation_counts(request: HttpRequest) -> reports.NavigationCounts:
    """What waits on each page, counted once a request: the queue shows some counts twice."""
    if not hasattr(request, "training_counts"):
        request.training_counts = reports.navigation_counts(user_id=request.user.pk)
    return request.training_counts


def _page(request: HttpRequest, template: str, section: str, context: dict) -> HttpResponse:
    context = {
        "section": section,
        "counts": _navigation_counts(request),
        "can_label": request.user.has_perm(LABEL_PERMISSION),
        "can_train": request.user.has_perm(MODEL_PERMISSION),
        **context,
    }
    return render(request, template, context)


# --- Overview ----------------------------------------------------------------------------------


@require_GET
@staff_required(VIEW_PERMISSION)
def overview(request: HttpRequest) -> HttpResponse:
    active = reports.model_version_active()
    trend = reports.agent_confirmed_accuracy_trend(days=30)
    daily = reports.predictions_per_day(days=30)
    volumes, predictions_total = reports.predictions_by_intent(daily[-7:])
    confirmed = sum(point.confirmed for point in trend)
    verdicts = sum(point.total for point in trend)
    classified = any(day.total for day in daily)
    return _page(
        request,
        "training/overview.html",
        "overview",
        {
            "active": active,
            "metrics": active.training_metrics if active is not None else None,
            "challengers": reports.model_version_challengers(),
            "running": reports.model_versions_running(),
            "trend": trend,
            "chart": charts.trend_chart(trend, today=daily[-1].day, days=30) if trend else None,
            "predictions_chart": charts.predictions_chart(daily) if classified else None,
            "abstain_chart": charts.abstain_chart(daily) if classified else None,
            "suggested_groups": reports.suggested_intent_groups_if_ready(),
            "confirmed_accuracy": confirmed / verdicts if verdicts else None,
            "verdicts": verdicts,
            "volumes": volumes,
            "predictions_total": predictions_total,
            "abstain_rate": sum(v.share for v in volumes if not v.intent),
            "largest_share": max((v.share for v in volumes), default=0.0),
        },
    )


# --- Labelling queue ---------------------------------------------------------------------------


def _queue_context(request: HttpRequest) -> dict:
    start_of_day = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    counts = _navigation_counts(request)
    return {
        "remaining": counts.queue,
        "mislabels": counts.mislabels,
        "done_today": review.label_decisions_count_since(
            user_id=request.user.pk, since=start_of_day
        ),
        "can_undo": review.label_decision_last(user_id=request.user.pk) is not None,
    }


@require_GET
@staff_required(LABEL_PERMISSION)
def queue(request: HttpRequest) -> HttpResponse:
    """One message at a time; the next one is already in the page, in a <template>."""
    first = review.labelling_queue_item(key=request.GET.get("item", ""))
    if first is not None:
        rest = review.labelling_queue(
            user_id=request.user.pk, limit=1, exclude=frozenset({first.key})
        )
        items = [first, *rest]
    else:
        items = review.labelling_queue(user_id=request.user.pk, limit=2)
    return _page(
        request,
        "training/queue.html",
        "queue",
        {
            "item": items[0] if items else None,
            "next_item": items[1] if len(items) > 1 else None,
            "intents": selectors.intent_choices(),
            **_queue_context(request),
        },
    )


@require_GET
@staff_required(LABEL_PERMISSION)
def queue_next(request: HttpRequest) -> HttpResponse:
    """The fragment of the item after the ones the page already holds (`exclude`)."""
    items = review.labelling_queue(
        user_id=request.user.pk, limit=1, exclude=frozenset(request.GET.getlist("exclude"))
    )
    return render(request, "training/_queue_item.html", {"item": items[0] if items else None})


def _decision_message(decision: LabelDecision) -> str:
    if decision.action == LabelDecision.Action.SKIP:
        return "Skipped."
    return f"Labelled “{decision.intent.display_name}”."


@require_POST
@staff_required(LABEL_PERMISSION)
def queue_decide(request: HttpRequest) -> HttpResponse:
    """A decision on one item: `choice` is "accept:<intent>", "label:<intent>" or "skip:"; a
    "label:" without an intent takes the searched one (`search_intent`)."""
    action, _, intent_name = request.POST.get("choice", "").partition(":")
    intent_name = intent_name or request.POST.get("search_intent", "").strip()
    try:
        decision = curation.label_decision_record(
            user=request.user,
            key=request.POST.get("key", ""),
            action=action,
            intent_name=intent_name or None,
        )
    except curation.LabellingError as error:
        if _wants_json(request):
            return JsonResponse({"ok": False, "message": str(error)}, status=400)
        messages.error(request, str(error))
        return redirect("intents:queue")
    message = _decision_message(decision)
    if _wants_json(request):
        return JsonResponse({"ok": True, "message": message, **_queue_context(request)})
    messages.success(request, message)
    return redirect("intents:queue")


@require_POST
@staff_required(LABEL_PERMISSION)
def queue_undo(request: HttpRequest) -> HttpResponse:
    """Undoes the reviewer's latest decision and shows its item again."""
    try:
        decision = curation.label_decision_undo(user=request.user)
    except curation.LabellingError as error:
        if _wants_json(request):
            return JsonResponse({"ok": False, "message": str(error)}, status=409)
        messages.error(request, str(error))
        return redirect("intents:dataset")
    if decision is None:
        message = "There is nothing to undo."
        if _wants_json(request):
            return JsonResponse({"ok": False, "message": message}, status=409)
        messages.info(request, message)
        return redirect("intents:queue")
    key = f"{decision.kind}:{decision.item_id}"
    item = review.labelling_queue_item(key=key)
    message = f"Undone: {decision.get_action_display().lower()}."
    if item is None:
        # Not a queue item (a change on the dataset page): the queue goes on where it was.
        message = (
            f"Undone: {decision.get_action_display().lower()}, which was not a queue item;"
            " the queue goes on."
        )
        following = review.labelling_queue(user_id=request.user.pk, limit=1)
        item = following[0] if following else None
        key = item.key if item is not None else ""
    if _wants_json(request):
        html = render_to_string("training/_queue_item.html", {"item": item}, request=request)
        return JsonResponse(
            {"ok": True, "message": message, "html": html, **_queue_context(request)}
        )
    messages.success(request, message)
    next_url = request.POST.get("next", "")
    if next_url.startswith(reverse("intents:dataset")):
        return redirect(next_url)
    return redirect(f"{reverse('intents:queue')}?item={key}" if key else "intents:queue")


# --- Versions ----------------------------------------------------------------------------------


@require_GET
@staff_required(VIEW_PERMISSION)
def versions(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        "training/versions.html",
        "versions",
        {
            "versions": reports.model_versions_listed(),
            "running": reports.model_versions_running(),
            "events": reports.model_version_events(limit=20),
            "roll_back_to": reports.model_version_to_roll_back_to(),
            "active": reports.model_version_active(),
            "evaluation_set": evaluation.evaluation_set(),
        },
    )


@require_GET
@staff_required(VIEW_PERMISSION)
def version_detail(request: HttpRequest, number: int) -> HttpResponse:
    version = reports.model_version_by_number(number)
    if version is None:
        raise Http404("No such model version.")
    metrics = version.training_metrics
    active = reports.model_version_active()
    return _page(
        request,
        "training/version_detail.html",
        "versions",
        {
            "version": version,
            "metrics": metrics,
            "active": active,
            "training_log": reports.training_log(version),
            "per_intent": sorted(metrics.per_intent.items(), key=lambda item: item[1].f1)
            if metrics
            else [],
            "pairs": reports.confused_pairs(metrics) if metrics else [],
            "heat_map": reports.confusion_heat_map(metrics) if metrics else [],
            "can_promote": version.status
            in (ModelVersion.Status.READY, ModelVersion.Status.RETIRED),
            "roll_back_to": reports.model_version_to_roll_back_to()
            if version.status == ModelVersion.Status.ACTIVE
            else None,
        },
    )


@require_GET
@staff_required(VIEW_PERMISSION)
def version_progress(request: HttpRequest, number: int) -> JsonResponse:
    version = reports.model_version_by_number(number)
    if version is None:
        raise Http404("No such model version.")
    return JsonResponse(
        {
            "number": version.number,
            "status": version.status,
            "status_display": version.get_status_display(),
            "progress": version.progress,
            "message": version.progress_message,
            "failure_reason": version.failure_reason,
            "finished": version.status
            not in (ModelVersion.Status.QUEUED, ModelVersion.Status.TRAINING),
        }
    )


@require_POST
@staff_required(MODEL_PERMISSION)
def training_start(request: HttpRequest) -> HttpResponse:
    try:
        version = services.training_run_start(created_by=request.user)
    except services.TrainingRunBusy as error:
        messages.error(request, str(error))
        return redirect("intents:versions")
    messages.success(request, f"Training v{version.number} has started.")
    return redirect("intents:versions")


@require_POST
@staff_required(MODEL_PERMISSION)
def version_promote(request: HttpRequest, number: int) -> HttpResponse:
    version = reports.model_version_by_number(number)
    if version is None:
        raise Http404("No such model version.")
    try:
        promotion.model_version_promote(
            version_id=version.pk, user=request.user, reason=request.POST.get("reason", "")
        )
    except services.ActivationError as error:
        messages.error(request, str(error))
        return redirect("intents:version-detail", number=number)
    messages.success(request, f"v{version.number} is now the active model.")
    return redirect("intents:versions")


@require_POST
@staff_required(MODEL_PERMISSION)
def version_roll_back(request: HttpRequest) -> HttpResponse:
    try:
        event = promotion.model_version_roll_back(
            user=request.user, reason=request.POST.get("reason", "")
        )
    except services.ActivationError as error:
        messages.error(request, str(error))
        return redirect("intents:versions")
    messages.success(
        request,
        f"Rolled back: v{event.version.number} is the active model again "
        f"(v{event.previous_version.number} retired).",
    )
    return redirect("intents:versions")


# --- Dataset -----------------------------------------------------------------------------------


@require_GET
@staff_required(VIEW_PERMISSION)
def dataset(request: HttpRequest) -> HttpResponse:
    """The examples, filtered by the URL (shareable), a keyset page at a time."""
    filters = _filters_from(request.GET)
    for error in _filter_errors(request.GET, filters):
        messages.error(request, error)
    before = request.GET.get("before", "")
    page = reports.examples_page(filters=filters, before=int(before) if before.isdigit() else None)
    names = reports.labeller_names({example.labelled_by for example in page.examples})
    for example in page.examples:
        example.labeller = names.get(example.labelled_by, example.labelled_by)
    query = request.GET.copy()
    query.pop("before", None)
    return _page(
        request,
        "training/dataset.html",
        "dataset",
        {
            "filters": filters,
            "page": page,
            "is_first_page": not before,
            "query": query.urlencode(),
            "sources": LabeledExample.Source.choices,
            "statuses": LabeledExample.Status.choices,
            "intents": selectors.intent_choices(),
        },
    )


def _back_to_training(request: HttpRequest) -> HttpResponse:
    """Back to the training page a change was made on (the dataset, a version's confusions),
    never elsewhere."""
    next_url = request.POST.get("next", "")
    if not next_url.startswith(reverse("intents:overview")):
        next_url = reverse("intents:dataset")
    return redirect(next_url)


@require_POST
@staff_required(LABEL_PERMISSION)
def example_relabel(request: HttpRequest, example_id: int) -> HttpResponse:
    try:
        decision = curation.example_relabel(
            user=request.user,
            example_id=example_id,
            intent_name=request.POST.get("intent", "").strip(),
        )
    except curation.LabellingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Relabelled “{decision.intent.display_name}”.")
    return _back_to_training(request)


# --- Intents -----------------------------------------------------------------------------------

INTENT_PERMISSION = "intents.change_intent"


@require_GET
@staff_required(VIEW_PERMISSION)
def intents(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        "training/intents.html",
        "intents",
        {
            "rows": reports.intents_overview(),
            "changes": reports.intent_changes(limit=20),
            "can_edit": request.user.has_perm(INTENT_PERMISSION),
            "intent_names": selectors.intent_choices(),
        },
    )


@require_POST
@staff_required(INTENT_PERMISSION)
def intent_create(request: HttpRequest) -> HttpResponse:
    try:
        intent = intent_changes.intent_create(
            user=request.user,
            name=request.POST.get("name", ""),
            description=request.POST.get("description", ""),
        )
    except intent_changes.IntentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Intent {intent.name} created.")
    return redirect("intents:intents")


@require_POST
@staff_required(INTENT_PERMISSION)
def intent_change(request: HttpRequest, intent_id: int) -> HttpResponse:
    """One form per intent: `action` is "rename", "describe", "merge" or "retire"."""
    action = request.POST.get("action", "")
    try:
        if action == "describe":
            intent = intent_changes.intent_describe(
                user=request.user,
                intent_id=intent_id,
                description=request.POST.get("description", ""),
            )
            messages.success(request, f"{intent.name}: description saved.")
        elif action == "rename":
            intent = intent_changes.intent_rename(
                user=request.user,
                intent_id=intent_id,
                title=request.POST.get("title", ""),
            )
            messages.success(request, f"{intent.name} is now called {intent.display_name}.")
        elif action == "merge":
            change = intent_changes.intent_merge(
                user=request.user,
                intent_id=intent_id,
                target_name=request.POST.get("target", ""),
            )
            messages.success(
                request,
                f"{change.intent.name} merged into {change.target.name}: "
                f"{len(change.example_ids)} examples moved.",
            )
        elif action == "retire":
            change = intent_changes.intent_retire(user=request.user, intent_id=intent_id)
            messages.success(request, f"{change.intent.name} retired.")
        else:
            messages.error(request, "Unknown change.")
    except intent_changes.IntentError as error:
        messages.error(request, str(error))
    return redirect("intents:intents")


@require_GET
@staff_required(VIEW_PERMISSION)
def versions_compare(request: HttpRequest) -> HttpResponse:
    """Two versions side by side, per intent: `?base=1&other=2`."""
    base_number, other_number = request.GET.get("base", ""), request.GET.get("other", "")
    base = reports.model_version_by_number(int(base_number)) if base_number.isdigit() else None
    other = reports.model_version_by_number(int(other_number)) if other_number.isdigit() else None
    if base is None or other is None:
        messages.error(request, "Pick two versions to compare.")
        return redirect("intents:versions")
    revision = request.GET.get("revision", "")
    compared = evaluation.versions_compared_on_evaluation_set(
        base, other, revision=int(revision) if revision.isdigit() else None
    )
    return _page(
        request,
        "training/versions_compare.html",
        "versions",
        {
            "base": base,
            "other": other,
            "evaluation": compared,
            "revisions": evaluation.evaluation_set_revisions() if compared else [],
            "base_metrics": compared.base if compared else base.training_metrics,
            "other_metrics": compared.other if compared else other.training_metrics,
            "rows": compared.rows if compared else reports.model_versions_compared(base, other),
        },
    )


@require_POST
@staff_required(MODEL_PERMISSION)
def evaluation_set_freeze(request: HttpRequest) -> HttpResponse:
    """Holds a share of every intent's examples out of training, for comparing versions."""
    share = request.POST.get("share", "")
    try:
        frozen = curation.evaluation_set_freeze(
            user=request.user,
            share=int(share) / 100 if share.isdigit() else 0,
            seed=settings.INTENT_TRAINING_SEED,
            reason=request.POST.get("reason", ""),
        )
    except curation.LabellingError as error:
        messages.error(request, str(error))
        return redirect("intents:versions")
    if frozen.revision is not None:
        skipped = (
            f" {len(frozen.skipped)} intents have too few examples to spare any."
            if frozen.skipped
            else ""
        )
        messages.success(
            request,
            f"Revision {frozen.revision.number} of the evaluation set: {frozen.added} examples "
            f"of {len(frozen.per_intent)} intents added, {frozen.revision.size} in all. Versions "
            f"trained from now on never see them.{skipped}",
        )
    else:
        messages.info(request, "No intent has examples to spare for the evaluation set.")
    return redirect("intents:versions")


@require_POST
@staff_required(MODEL_PERMISSION)
def training_cancel(request: HttpRequest, number: int) -> HttpResponse:
    version = reports.model_version_by_number(number)
    if version is None:
        raise Http404("No such model version.")
    if promotion.training_run_cancel(version_id=version.pk, user=request.user):
        messages.success(request, f"Training v{version.number} cancelled.")
    else:
        messages.info(request, f"Training v{version.number} had already ended.")
    return redirect("intents:versions")


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None


def _filters_from(data) -> reports.ExampleFilters:
    """The filters of the dataset's URL (or of a bulk form, which repeats them); a date that is
    not one is left out (`_filter_errors` says so)."""
    held_out = data.get("set", "")
    return reports.ExampleFilters(
        text=data.get("q", "").strip(),
        intent=data.get("intent", "").strip(),
        source=data.get("source", ""),
        status=data.get("status", ""),
        labelled_by=data.get("labelled_by", "").strip(),
        labelled_from=_day(data.get("from", "")),
        labelled_to=_day(data.get("to", "")),
        held_out=held_out if held_out in ("evaluation", "training") else "",
    )


def _filter_errors(data, filters: reports.ExampleFilters) -> list[str]:
    errors = [
        f"“{data[name]}” is not a date (YYYY-MM-DD), so the list is not filtered by it."
        for name in ("from", "to")
        if data.get(name, "").strip() and _day(data[name]) is None
    ]
    first, last = filters.labelled_from, filters.labelled_to
    if first and last and first > last:
        errors.append("The first day comes after the last one, so no example can match.")
    return errors


@require_POST
@staff_required(LABEL_PERMISSION)
def dataset_bulk(request: HttpRequest) -> HttpResponse:
    """Accepts, relabels or deletes every example of the filtered list (all pages)."""
    filters = _filters_from(request.POST)
    expected = request.POST.get("expected_total", "")
    relabel = request.POST.get("choice") == "label"
    new_intent = request.POST.get("new_intent", "").strip()
    query = request.POST.get("query", "")
    if request.POST.get("choice") == "delete":
        try:
            count = curation.examples_delete_in_bulk(
                user=request.user,
                filters=filters,
                expected_total=int(expected) if expected.isdigit() else -1,
            )
        except curation.LabellingError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"{count} examples deleted. Undo brings them all back.")
        return redirect(f"{reverse('intents:dataset')}?{query}")
    if relabel and not new_intent:
        messages.error(request, "Pick the intent to relabel them as.")
        return redirect(f"{reverse('intents:dataset')}?{query}")
    try:
        count = curation.examples_label_in_bulk(
            user=request.user,
            filters=filters,
            expected_total=int(expected) if expected.isdigit() else -1,
            intent_name=new_intent if relabel else None,
        )
    except curation.LabellingError as error:
        messages.error(request, str(error))
    else:
        verb = "relabelled" if relabel else "accepted"
        messages.success(request, f"{count} examples {verb}. Undo brings them all back.")
    return redirect(f"{reverse('intents:dataset')}?{query}")


@require_POST
@staff_required(LABEL_PERMISSION)
def example_change(request: HttpRequest, example_id: int) -> HttpResponse:
    """One example's text corrected (`action` "edit") or the example deleted ("delete"); both
    are recorded and undone like a label."""
    try:
        if request.POST.get("action") == "delete":
            curation.example_delete(user=request.user, example_id=example_id)
            messages.success(request, "Example deleted. Undo brings it back.")
        else:
            curation.example_edit(
                user=request.user, example_id=example_id, text=request.POST.get("text", "")
            )
            messages.success(request, "Text saved.")
    except curation.LabellingError as error:
        messages.error(request, str(error))
    return _back_to_training(request)
