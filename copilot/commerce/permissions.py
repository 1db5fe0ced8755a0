"""Who may do what from the card (`SHOPIFY_ACTION_PERMISSIONS`).

The setting maps each action to a list of grants: `"*"` (every signed-in agent),
`"role:<Kustomer role>"` or `"user:<Kustomer user id>"`. An action missing from the setting is
allowed to nobody.
"""

from django.conf import settings

from copilot.agents import Agent

REFUND = "refund"
CANCEL = "cancel"
ADDRESS_UPDATE = "address_update"
INVOICE_SEND = "invoice_send"
ACTIONS = (REFUND, CANCEL, ADDRESS_UPDATE, INVOICE_SEND)
# Deciding, from the card, a refund that waits for approval (SHOPIFY_REFUND_APPROVAL_THRESHOLD).
REFUND_APPROVE = "refund_approve"


def agent_may(agent: Agent, action: str) -> bool:
    allowed = set((settings.SHOPIFY_ACTION_PERMISSIONS or {}).get(action) or ())
    return bool(allowed & agent.grants()) and bool(agent.id)


def agent_allowed_actions(agent: Agent) -> frozenset[str]:
    """The actions to offer this agent on the card."""
    return frozenset(action for action in ACTIONS if agent_may(agent, action))
