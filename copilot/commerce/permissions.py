"""Who may do what from the card (`SHOPIFY_ACTION_PERMISSIONS`).

The setting maps each action to a list of grants: `"*"` (every signed-in agent),
`"role:<Kustomer role>"` or `"user:<Kustomer user id>"`. An action missing from the setting is
allowed to nobody.
"""

from dataclasses import dataclass, field

from django.conf import settings

REFUND = "refund"
CANCEL = "cancel"
ADDRESS_UPDATE = "address_update"
INVOICE_SEND = "invoice_send"
ACTIONS = (REFUND, CANCEL, ADDRESS_UPDATE, INVOICE_SEND)


@dataclass(frozen=True)
class Agent:
    """The Kustomer user acting from the card, as the card identified them."""

    id: str
    name: str
    roles: frozenset[str] = field(default_factory=frozenset)

    def grants(self) -> set[str]:
        return {"*", f"user:{self.id}", *(f"role:{role}" for role in self.roles)}


def agent_may(agent: Agent, action: str) -> bool:
    allowed = set((settings.SHOPIFY_ACTION_PERMISSIONS or {}).get(action) or ())
    return bool(allowed & agent.grants()) and bool(agent.id)


def agent_allowed_actions(agent: Agent) -> frozenset[str]:
    """The actions to offer this agent on the card."""
    return frozenset(action for action in ACTIONS if agent_may(agent, action))
