"""Who is acting: the one identity that order permissions, draft feedback and the audit share.

The card's sign-in produces an `Agent` (Kustomer's `GET /v1/users/current`: the user's id, display
name and roles); everything an agent does is attributed to it.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Agent:
    """A Kustomer user acting from the card."""

    id: str
    name: str
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def display_name(self) -> str:
        return self.name or self.id

    def grants(self) -> set[str]:
        """What `SHOPIFY_ACTION_PERMISSIONS` may name to allow this agent something."""
        return {"*", f"user:{self.id}", *(f"role:{role}" for role in self.roles)}
