"""The customer the card is open on, asked of Kustomer with the agent's own token.

The card's context names a Kustomer customer id, but it comes from a script in the browser and
proves nothing by itself: the card asks Kustomer, as the agent, for that customer, and shows
orders only for the email Kustomer gives. The answer is remembered for ten minutes per agent and
customer.
"""

import re
from dataclasses import dataclass

from django.core.cache import cache

from copilot.integrations.http import IntegrationError

from .models import CardSession
from .sessions import SessionEnded, agent_kustomer, refused_by_kustomer

REMEMBER_SECONDS = 600
CUSTOMER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class CustomerLookup:
    visible: bool  # Kustomer shows the agent this customer
    email: str = ""  # their first email ("" when they have none)
    unavailable: bool = False  # Kustomer could not be asked right now


def customer_lookup(session: CardSession, customer_id: str) -> CustomerLookup:
    """Whether Kustomer shows the agent this customer, and their email. Raises `SessionEnded`
    when Kustomer no longer accepts the agent's token."""
    if not CUSTOMER_ID.match(customer_id or ""):
        return CustomerLookup(visible=False)
    key = f"card:customer-email:{session.agent_id}:{customer_id}"
    remembered = cache.get(key)
    if remembered is not None:
        return CustomerLookup(visible=remembered["visible"], email=remembered["email"])
    try:
        with agent_kustomer(session) as kustomer:
            customer = kustomer.get_customer(customer_id)
    except IntegrationError as error:
        if refused_by_kustomer(session, error):
            raise SessionEnded from error
        return CustomerLookup(visible=False, unavailable=True)
    email = next((email.strip().lower() for email in customer.emails), "") if customer else ""
    lookup = CustomerLookup(visible=customer is not None, email=email)
    cache.set(key, {"visible": lookup.visible, "email": lookup.email}, timeout=REMEMBER_SECONDS)
    return lookup
