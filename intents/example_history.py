"""An example's history as the dataset page shows it: how it was added, and every change since
(relabels in the queue, on the dataset page or in bulk, text corrections, merges of its intent,
an agent's change of mind in the card, deletion and restoration), each with who and when."""

from dataclasses import dataclass, replace
from datetime import datetime

from django.db.models import Q

from . import reports
from .models import Intent, IntentChange, LabelDecision, LabeledExample


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    who: str
    what: str  # a sentence
    undone_at: datetime | None = None


@dataclass(frozen=True)
class ExampleHistory:
    example_id: int
    example: LabeledExample | None  # None while it is deleted
    text: str
    source: str
    entries: list[HistoryEntry]  # oldest first


def _who(decision: LabelDecision) -> str:
    if decision.decided_by is not None:
        return decision.decided_by.get_username()
    return f"{decision.decided_by_agent} (agent, in the card)"


def _what(decision: LabelDecision, names: dict[int, str]) -> str:
    before = names.get(decision.previous.get("intent_id"), "")
    after = names.get(decision.intent_id, "")
    Action = LabelDecision.Action
    bulk = " in a bulk change" if decision.batch else ""
    if decision.kind == LabelDecision.Kind.AGENT:
        if decision.action == Action.DELETE:
            return f"Withdrew the label {before} in the card: the example was deleted"
        return f"Changed the label in the card: {before} → {after}"
    if decision.action == Action.DELETE:
        return f"Deleted the example (labelled {before}){bulk}"
    if decision.action == Action.EDIT:
        return f"Corrected the text, which read “{decision.previous.get('text', '')}”"
    if decision.example_created:
        return f"Labelled {after} from the labelling queue, which added the example"
    if before and before != after:
        return f"Relabelled {before} → {after}{bulk}"
    if decision.previous.get("status") == LabeledExample.Status.PENDING_REVIEW:
        return f"Accepted the label {after}{bulk}"
    return f"Confirmed the label {after}{bulk}"


def example_history(example_id: int) -> ExampleHistory | None:
    """The example's history, or None when no example of this id was ever recorded."""
    example = LabeledExample.objects.select_related("intent").filter(pk=example_id).first()
    decisions = list(
        LabelDecision.objects.filter(
            Q(example_id=example_id)
            | Q(kind__in=[LabelDecision.Kind.EXAMPLE, LabelDecision.Kind.AGENT], item_id=example_id)
        )
        .exclude(action=LabelDecision.Action.SKIP)
        .select_related("decided_by")
        .order_by("decided_at", "id")
    )
    if example is None and not decisions:
        return None
    # Merges are few: their lists of moved examples are read here rather than searched in SQL,
    # which SQLite cannot do on JSON.
    merges = [
        change
        for change in IntentChange.objects.filter(action=IntentChange.Action.MERGE)
        .select_related("intent", "target", "performed_by")
        .order_by("performed_at", "id")
        if example_id in change.example_ids
    ]
    intent_ids = {d.intent_id for d in decisions} | {d.previous.get("intent_id") for d in decisions}
    names = dict(Intent.objects.filter(pk__in=intent_ids - {None}).values_list("pk", "name"))

    # The first label as it was added: the oldest decision kept what it replaced.
    first = decisions[0].previous if decisions and not decisions[0].example_created else None
    deleted = next((d.previous for d in reversed(decisions) if "text" in d.previous), {})
    entries = []
    if first is not None and first.get("labelled_at"):
        entries.append(
            HistoryEntry(
                datetime.fromisoformat(first["labelled_at"]),
                first.get("labelled_by") or "—",
                f"Added with the label {names.get(first.get('intent_id'), '?')}",
            )
        )
    elif example is not None and not decisions:
        entries.append(
            HistoryEntry(
                example.labelled_at,
                example.labelled_by or "—",
                f"Added with the label {example.intent.name}",
            )
        )
    entries += [
        HistoryEntry(d.decided_at, _who(d), _what(d, names), d.undone_at) for d in decisions
    ]
    entries += [
        HistoryEntry(
            change.performed_at,
            change.performed_by.get_username(),
            f"Its intent {change.intent.name} was merged into {change.target.name}",
        )
        for change in merges
        if change.target is not None
    ]
    entries.sort(key=lambda entry: entry.at)
    agents = reports.labeller_names({entry.who for entry in entries})
    entries = [
        replace(entry, who=agents[entry.who]) if entry.who in agents else entry for entry in entries
    ]
    source_value = example.source if example is not None else deleted.get("source", "")
    return ExampleHistory(
        example_id=example_id,
        example=example,
        text=example.text if example is not None else deleted.get("text", ""),
        source=LabeledExample.Source(source_value).label if source_value else "",
        entries=entries,
    )


def change_since(decision: LabelDecision, *, by_others_than) -> LabelDecision | None:
    """The latest change someone other than `by_others_than` (a reviewer, an agent in the card)
    made since `decision` to one of the examples it changed; None when there is none."""
    if decision.kind not in (LabelDecision.Kind.EXAMPLE, LabelDecision.Kind.PREDICTION):
        return None
    if decision.batch is not None:
        decided = LabelDecision.objects.filter(batch=decision.batch)
        example_ids = set(
            decided.filter(kind=LabelDecision.Kind.EXAMPLE).values_list("item_id", flat=True)
        )
        example_ids |= set(decided.exclude(example=None).values_list("example_id", flat=True))
    elif decision.kind == LabelDecision.Kind.PREDICTION:
        example_ids = {decision.example_id} - {None}
    else:
        example_ids = {decision.example_id or decision.item_id}
    if not example_ids:
        return None
    return (
        LabelDecision.objects.filter(
            Q(example_id__in=example_ids)
            | Q(
                kind__in=[LabelDecision.Kind.EXAMPLE, LabelDecision.Kind.AGENT],
                item_id__in=example_ids,
            ),
            decided_at__gt=decision.decided_at,
            undone_at__isnull=True,
        )
        .exclude(action=LabelDecision.Action.SKIP)
        .exclude(decided_by=by_others_than)
        .select_related("decided_by")
        .order_by("-decided_at")
        .first()
    )
