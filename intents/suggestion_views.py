"""The training UI's suggested intents: the messages the model abstained on, grouped by meaning,
each group turned into a new intent or filed under an existing one in one step."""

import hashlib

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from . import curation, intent_changes, reports, selectors, suggestions
from .views import INTENT_PERMISSION, LABEL_PERMISSION, VIEW_PERMISSION, _page, staff_required

# Abstained messages of this many days are grouped, at most this many of them.
DAYS = 30
LIMIT = 2000
_CACHE_SECONDS = 10 * 60


def suggested_groups() -> list[dict]:
    """The groups of the abstained messages, each with its messages; cached for as long as the
    messages are the same, since grouping 2,000 messages takes a second."""
    abstained = reports.abstained_messages(days=DAYS, limit=LIMIT)
    key = hashlib.sha256(
        "\n".join(f"{message.prediction_id}:{message.text}" for message in abstained).encode()
    ).hexdigest()
    cache_key = f"intents:suggested-groups:{key}"
    groups = cache.get(cache_key)
    if groups is None:
        found = suggestions.suggest_groups([message.text for message in abstained])
        groups = [
            {
                "name": group.name,
                "keywords": group.keywords,
                "messages": [abstained[index] for index in group.members],
            }
            for group in found
        ]
        cache.set(cache_key, groups, _CACHE_SECONDS)
    return groups


@require_GET
@staff_required(VIEW_PERMISSION)
def suggestions_page(request: HttpRequest) -> HttpResponse:
    groups = suggested_groups()
    return _page(
        request,
        "training/suggestions.html",
        "suggestions",
        {
            "groups": groups,
            "days": DAYS,
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
    prediction_ids = [int(pk) for pk in request.POST.getlist("prediction") if pk.isdigit()]
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
