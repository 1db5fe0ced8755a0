"""What agents did with the drafts: shown, used as is, edited or dismissed, and by whom."""

import re

from django.db import transaction
from django.utils import timezone

from copilot.agents import Agent

from .facts import AGENT_PLACEHOLDER
from .models import Draft
from .selectors import render


class FeedbackError(ValueError):
    """The feedback cannot be recorded as given (unknown action, missing text)."""


FEEDBACK_ACTIONS = ("shown", "used", "edited", "dismissed")


def _same_text(left: str, right: str) -> bool:
    return " ".join(left.split()) == " ".join(right.split())


def _sent_as_drafted(sent: str, draft_text: str) -> bool:
    """The sent text is the draft, whoever's name went where the sign-off is."""
    parts = [" ".join(part.split()) for part in draft_text.split(AGENT_PLACEHOLDER)]
    pattern = r"(?:.{0,100}?)".join(re.escape(part) for part in parts)
    return re.fullmatch(pattern, " ".join(sent.split()), flags=re.DOTALL) is not None


def draft_feedback_record(
    *, draft_id: int, action: str, agent: Agent, edited_text: str = ""
) -> Draft:
    """Records what `agent` did with a draft: `shown`, `used` (as is), `edited` (with the text
    sent) or `dismissed`. The last of used/edited/dismissed wins; `shown` never undoes them.

    The agent's id is kept as who gave the feedback. An "edited" text that only differs in
    spacing from the draft as the agent saw it (signed with their name) counts as used as is. Raises
    `FeedbackError` for an unknown action or an edit without text, `Draft.DoesNotExist`.
    """
    if action not in FEEDBACK_ACTIONS:
        raise FeedbackError(f"Unknown feedback {action!r}: use one of {FEEDBACK_ACTIONS}.")
    if action == "edited" and not edited_text.strip():
        raise FeedbackError("An edited draft needs the text that was sent.")
    now = timezone.now()
    with transaction.atomic():
        draft = Draft.objects.select_for_update().get(pk=draft_id)
        draft.shown_at = draft.shown_at or now
        if action == "shown":
            if draft.status == Draft.Status.NEW:
                draft.status = Draft.Status.SHOWN
        else:
            shown_text = render(draft.text, agent_name=agent.name)
            if action == "edited" and (
                _same_text(edited_text, shown_text) or _same_text(edited_text, draft.text)
            ):
                action = "used"
            draft.status = {
                "used": Draft.Status.USED,
                "edited": Draft.Status.EDITED,
                "dismissed": Draft.Status.DISMISSED,
            }[action]
            draft.edited_text = edited_text if action == "edited" else ""
            draft.feedback_by = agent.id[:255]
            draft.feedback_at = now
        draft.save(
            update_fields=["status", "edited_text", "feedback_by", "feedback_at", "shown_at"]
        )
    return draft


def drafts_shown_record(*, message_id: int, generation: int) -> int:
    """Marks a set of drafts as shown (the card displayed them); returns how many changed."""
    return Draft.objects.filter(
        message_id=message_id, generation=generation, status=Draft.Status.NEW
    ).update(status=Draft.Status.SHOWN, shown_at=timezone.now())


def sent_reply_compare(*, conversation_id: str, text: str, sent_at=None) -> Draft | None:
    """The agent replied in a conversation: the draft they used there last (and not compared
    yet) becomes "edited" with the sent text when it differs, and stays "used" when it does not.
    Only the first reply after "Use" is compared. Returns that draft, or None."""
    with transaction.atomic():
        draft = (
            Draft.objects.select_for_update()
            .filter(
                message__conversation_id=conversation_id,
                status=Draft.Status.USED,
                reply_compared_at=None,
                **({"feedback_at__lte": sent_at} if sent_at else {}),
            )
            .order_by("-feedback_at")
            .first()
        )
        if draft is None:
            return None
        draft.reply_compared_at = timezone.now()
        if not _sent_as_drafted(text, draft.text):
            draft.status = Draft.Status.EDITED
            draft.edited_text = text
        draft.save(update_fields=["status", "edited_text", "reply_compared_at"])
    return draft
