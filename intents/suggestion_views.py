"""The training UI's suggested intents: the messages the model abstained on, grouped by meaning,
each group turned into a new intent or filed under an existing one in one step."""

from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import Truncator
from django.views.decorators.http import require_GET, require_POST

from . import curation, intent_changes, reports, selectors
from .views import INTENT_PERMISSION, LABEL_PERMISSION, VIEW_PERMISSION, _page, staff_required

# Messages of a group shown to be ticked or unticked; the rest go with the group as they are.
SHOWN = 40


@dataclass(frozen=True)
class ShownMessage:
    """A message as its group shows it, formatted here: 800 of them through the template's
    filters took a fifth of the page's time."""

    prediction_id: int
    text: str  # at most 240 characters
    created_iso: str
    created_day: str  # "5 Dec", in the current time zone


def _shown(message: reports.AbstainedMessage) -> ShownMessage:
    created = timezone.localtime(message.created_at)
    return ShownMessage(
        message.prediction_id,
        Truncator(message.text).chars(240),
        created.isoformat(),
        date_format(created, "j M"),
    )


@require_GET
@staff_required(VIEW_PERMISSION)
def suggestions_page(request: HttpRequest) -> HttpResponse:
    groups = [
        {
            **group,
            "shown": [_shown(message) for message in group["messages"][:SHOWN]],
            "rest": group["messages"][SHOWN:],
            "rest_ids": ",".join(str(m.prediction_id) for m in group["messages"][SHOWN:]),
        }
        for group in reports.suggested_intent_groups()
    ]
    return _page(
        request,
        "training/suggestions.html",
        "suggestions",
        {
            "groups": groups,
            "days": reports.SUGGESTION_DAYS,
            "grouped": sum(len(group["messages"]) for group in groups),
            "intents": selectors.intent_choices(),
            "can_create": request.user.has_perm(INTENT_PERMISSION),
        },
    )


@require_POST
@staff_required(LABEL_PERMISSION)
def suggestion_apply(request: HttpRequest) -> HttpResponse:
    """`action` "create" makes the ticked messages a new intent named `name`; "file" labels
    them with the existing intent `intent`."""
    ticked = request.POST.getlist("prediction") + request.POST.get("more", "").split(",")
    prediction_ids = [int(pk) for pk in ticked if pk.isdigit()]
    if not prediction_ids:
        messages.error(request, "Tick at least one message of the group.")
        return redirect("intents:suggestions")
    try:
        if request.POST.get("action") == "create":
            if not request.user.has_perm(INTENT_PERMISSION):
                messages.error(request, "Creating intents needs the permission to change them.")
                return redirect("intents:suggestions")
            intent, count = curation.suggested_group_adopt(
                user=request.user,
                prediction_ids=prediction_ids,
                name=request.POST.get("name", ""),
                description=request.POST.get("description", ""),
            )
            messages.success(
                request,
                f"Intent {intent.name} created with {count} examples. "
                "Train a new version to teach it to the model.",
            )
        else:
            name = request.POST.get("intent", "")
            count = curation.suggested_group_label(
                user=request.user, prediction_ids=prediction_ids, intent_name=name
            )
            messages.success(request, f"{count} messages filed under {name}.")
    except (intent_changes.IntentError, curation.LabellingError) as error:
        messages.error(request, str(error))
    return redirect("intents:suggestions")
