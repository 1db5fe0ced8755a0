"""What the agent may see, asked of Kustomer with the agent's own token.

The card's context (customer, conversation) comes from a script in the browser, so it proves
nothing by itself: before showing a conversation's intent and drafts, the card asks Kustomer, as
the agent, for that conversation. Kustomer's answer is remembered for a few minutes per agent.
"""

from dataclasses import dataclass

from django.core.cache import cache

from copilot.integrations.http import IntegrationError, PermanentError

from .models import CardSession
from .sessions import SessionEnded, agent_kustomer, refused_by_kustomer

REMEMBER_SECONDS = 600


@dataclass(frozen=True)
class ConversationAccess:
    visible: bool
    customer_id: str = ""
    unavailable: bool = False  # Kustomer could not be asked


def conversation_access(session: CardSession, conversation_id: str) -> ConversationAccess:
    """Whether Kustomer shows the agent this conversation, and whose it is. Raises
    `SessionEnded` when Kustomer no longer accepts the agent's token."""
    if not conversation_id or len(conversation_id) > 64:
        return ConversationAccess(visible=False)
    key = f"card:conversation:{session.agent_id}:{conversation_id}"
    remembered = cache.get(key)
    if remembered is not None:
        return ConversationAccess(visible=bool(remembered), customer_id=remembered or "")
    try:
        with agent_kustomer(session) as kustomer:
            conversation = kustomer.get_conversation(conversation_id)
    except IntegrationError as error:
        if refused_by_kustomer(session, error):
            raise SessionEnded from error
        if not (isinstance(error, PermanentError) and error.status in (403, 404)):
            return ConversationAccess(visible=False, unavailable=True)
        conversation = None  # Kustomer does not show it to this agent
    customer_id = conversation.customer_id if conversation else ""
    cache.set(key, customer_id, timeout=REMEMBER_SECONDS)
    return ConversationAccess(visible=conversation is not None, customer_id=customer_id)
