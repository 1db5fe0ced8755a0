"""What the card writes: an agent's draft put in Kustomer's reply box."""

import logging
from dataclasses import dataclass

from copilot.integrations.http import IntegrationError, PermanentError, RateLimited
from copilot.replies.feedback import draft_feedback_record
from copilot.replies.models import Draft
from copilot.replies.selectors import render

from .models import CardSession
from .sessions import SessionEnded, agent_kustomer, refused_by_kustomer

logger = logging.getLogger(__name__)

DEFAULT_CHANNEL = "email"


@dataclass(frozen=True)
class DraftUse:
    ok: bool
    sentence: str


def draft_use(session: CardSession, *, draft: Draft) -> DraftUse:
    """Puts the draft, signed with the agent's name, in the reply box of its conversation
    (Kustomer's Drafts API, as the agent), and records it as used. A conversation holds one
    draft per channel: when Kustomer says one is there, that one is replaced. Raises
    `SessionEnded` when Kustomer no longer accepts the agent's token."""
    message = draft.message
    agent = session.agent
    body = render(draft.text, agent_name=agent.name)
    channel = message.channel or DEFAULT_CHANNEL
    try:
        with agent_kustomer(session) as kustomer:
            try:
                kustomer.create_draft(
                    message.customer_id,
                    conversation_id=message.conversation_id,
                    channel=channel,
                    body=body,
                )
            except PermanentError as error:
                if error.status != 400:
                    raise
                existing = next(
                    (
                        found
                        for found in kustomer.list_drafts(message.customer_id)
                        if found.conversation_id == message.conversation_id
                        and found.channel == channel
                    ),
                    None,
                )
                if existing is None:
                    raise
                kustomer.update_draft(existing.id, body=body)
    except RateLimited:
        return DraftUse(False, "Kustomer is busy: try Use again in a minute, or Copy the draft.")
    except IntegrationError as error:
        if refused_by_kustomer(session, error):
            raise SessionEnded from error
        logger.warning("draft %s could not be put in the reply box: %s", draft.pk, error)
        return DraftUse(
            False, "Kustomer did not take the draft. Copy it into the reply box instead."
        )
    draft_feedback_record(draft_id=draft.pk, action="used", agent=agent)
    return DraftUse(True, "In your reply box: edit it there, then send.")
