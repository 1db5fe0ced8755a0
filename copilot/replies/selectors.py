"""Reads of the suggested replies: a message's drafts for the card, and how agents took them.

drafts = drafts_for_message(message_id=..., agent_name="Sam")
drafts.state          # "ready", "regenerating" (new drafts asked for) or "pending" (none yet)
for draft in drafts.drafts:
    draft.text         # ready to send, signed by `agent_name`
    draft.label        # "Model draft", "Kustomer shortcut: Order tracking", "Template: ..."
    draft.note         # why it is a fallback, or what was cut from it; "" otherwise
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q, Sum

from copilot.inbox.models import InboundMessage

from .facts import AGENT_PLACEHOLDER
from .language import language_name
from .models import Draft

READY = "ready"
REGENERATING = "regenerating"
PENDING = "pending"

_SOURCE_LABELS = {
    Draft.Source.MODEL: "Model draft",
    Draft.Source.SHORTCUT: "Kustomer shortcut",
    Draft.Source.TEMPLATE: "Template",
}


def render(text: str, *, agent_name: str = "") -> str:
    """A stored draft as it is sent: the agent's name where the sign-off goes."""
    return text.replace(AGENT_PLACEHOLDER, agent_name or settings.REPLIES_SIGN_OFF)


@dataclass(frozen=True)
class DraftView:
    id: int
    rank: int
    text: str
    source: str  # "model", "shortcut" or "template"
    label: str
    language: str
    note: str
    status: str

    @property
    def is_fallback(self) -> bool:
        return self.source != Draft.Source.MODEL

    @property
    def detail(self) -> str:
        """The label without its kind ("Order status (in Spanish)" of "Template: ..."), for
        where the kind is shown apart."""
        return self.label.split(": ", 1)[1] if ": " in self.label else ""


@dataclass(frozen=True)
class MessageDrafts:
    message_id: int
    generation: int | None
    state: str
    drafts: tuple[DraftView, ...] = ()


def _view(draft: Draft, *, agent_name: str) -> DraftView:
    label = _SOURCE_LABELS.get(draft.source, draft.source)
    if draft.source_name:
        label = f"{label}: {draft.source_name}"
    if draft.customer_language and draft.language != draft.customer_language:
        label += f" (in {language_name(draft.language)})"
    notes = []
    if draft.fallback_reason:
        notes.append(draft.fallback_reason)
    if draft.grounding_notes:
        notes.append("Cut: " + "; ".join(draft.grounding_notes))
    return DraftView(
        id=draft.id,
        rank=draft.rank,
        text=render(draft.text, agent_name=agent_name),
        source=draft.source,
        label=label,
        language=draft.language,
        note=". ".join(notes),
        status=draft.status,
    )


def drafts_for_message(*, message_id: int, agent_name: str = "") -> MessageDrafts:
    """The latest set of drafts of an inbound message, best first, signed by `agent_name`."""
    latest = (
        Draft.objects.filter(message_id=message_id)
        .order_by("-generation")
        .values_list("generation", flat=True)
        .first()
    )
    if latest is None:
        regenerating = cache.get(regenerate_key(message_id, 0)) is not None
        return MessageDrafts(message_id, None, REGENERATING if regenerating else PENDING)
    drafts = list(Draft.objects.filter(message_id=message_id, generation=latest).order_by("rank"))
    state = REGENERATING if cache.get(regenerate_key(message_id, latest + 1)) else READY
    return MessageDrafts(
        message_id,
        latest,
        state,
        tuple(_view(draft, agent_name=agent_name) for draft in drafts),
    )


def drafts_for_conversation(*, conversation_id: str, agent_name: str = "") -> MessageDrafts | None:
    """The drafts of the conversation's latest customer message (what the card shows)."""
    message_id = (
        InboundMessage.objects.filter(conversation_id=conversation_id)
        .order_by("-received_at", "-id")
        .values_list("id", flat=True)
        .first()
    )
    if message_id is None:
        return None
    return drafts_for_message(message_id=message_id, agent_name=agent_name)


def top_draft_text(*, message_id: int, limit: int = 1024) -> str:
    """The best draft of the latest set, signed with REPLIES_SIGN_OFF, cut to `limit`."""
    draft = (
        Draft.objects.filter(message_id=message_id)
        .order_by("-generation", "rank")
        .values_list("text", flat=True)
        .first()
    )
    if not draft:
        return ""
    text = render(draft)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def regenerate_key(message_id: int, generation: int) -> str:
    """Set while new drafts of that generation are on their way (see drafts_regenerate_request)."""
    return f"replies:regenerate:{message_id}:{generation}"


# --- acceptance ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Acceptance:
    """How agents took the drafts of one intent or source. Only drafts seen by an agent count:
    shown, used as is, edited or dismissed."""

    key: str
    drafts: int
    seen: int
    used: int
    edited: int
    dismissed: int
    cost: float

    @property
    def accepted(self) -> int:
        return self.used + self.edited

    @property
    def rate(self) -> float | None:
        """Share of seen drafts that were sent, as is or edited."""
        return self.accepted / self.seen if self.seen else None

    @property
    def as_is_rate(self) -> float | None:
        return self.used / self.seen if self.seen else None


_SEEN = [Draft.Status.SHOWN, Draft.Status.USED, Draft.Status.EDITED, Draft.Status.DISMISSED]


def acceptance_rates(*, by: str, since: datetime | None = None, queryset=None) -> list[Acceptance]:
    """Acceptance per `intent` or per `source` (most seen first), over `queryset` if given."""
    if by not in {"intent", "source"}:
        raise ValueError("by must be 'intent' or 'source'")
    rows = queryset if queryset is not None else Draft.objects.all()
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    aggregated = (
        rows.order_by()
        .values(by)
        .annotate(
            drafts=Count("id"),
            seen=Count("id", filter=Q(status__in=_SEEN)),
            used=Count("id", filter=Q(status=Draft.Status.USED)),
            edited=Count("id", filter=Q(status=Draft.Status.EDITED)),
            dismissed=Count("id", filter=Q(status=Draft.Status.DISMISSED)),
            total_cost=Sum("cost"),
        )
        .order_by("-seen", by)
    )
    return [
        Acceptance(
            key=row[by] or "(not sure)",
            drafts=row["drafts"],
            seen=row["seen"],
            used=row["used"],
            edited=row["edited"],
            dismissed=row["dismissed"],
            cost=float(row["total_cost"] or 0),
        )
        for row in aggregated
    ]
