"""Past conversations for the fake Kustomer: what a shop's inbox holds after a few months.

Each one has a customer's first message (some as HTML email, as Kustomer stores email bodies),
an agent's reply, the tags agents put on it and a contact reason in the custom attribute
`contactReasonStr`, and a creation date in the past, so that the training UI's "Import from
Kustomer" has history to search, preview and import.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from .models import Conversation, Customer, Message, Org
from .services import conversation_create, customer_create, message_create, org_get_or_create

CONTACT_REASON_ATTRIBUTE = "contactReasonStr"


@dataclass(frozen=True)
class PastConversation:
    subject: str
    text: str
    tags: tuple[str, ...]
    contact_reason: str
    days_ago: int


# Subjects are unique: they are how a second seed finds what the first one wrote.
PAST_CONVERSATIONS: tuple[PastConversation, ...] = (
    PastConversation(
        "Parcel stuck for a week",
        "Hi, my parcel has not moved for a week according to the tracking page. When will it "
        "arrive?",
        ("shipping-delay",),
        "Where is my order",
        3,
    ),
    PastConversation(
        "Late delivery",
        "<p>Hello,</p><p>My order was due <b>yesterday</b> and still nothing. Is it lost?</p>",
        ("shipping-delay", "vip"),
        "Where is my order",
        5,
    ),
    PastConversation(
        "Still no package",
        "It has been ten days since you shipped my order and I have nothing yet.",
        ("shipping-delay",),
        "Where is my order",
        9,
    ),
    PastConversation(
        "Order not moving",
        "The carrier says 'label created' since Monday. Can you check what is going on?",
        ("shipping-delay",),
        "Where is my order",
        14,
    ),
    PastConversation(
        "How long does shipping take",
        "I ordered on Friday, how many more days until my parcel is delivered?",
        ("shipping-delay",),
        "Where is my order",
        21,
    ),
    PastConversation(
        "Delivery estimate",
        "<div>Could you tell me when my order will get here? The estimate keeps changing.</div>",
        ("shipping-delay",),
        "Where is my order",
        30,
    ),
    PastConversation(
        "Tracking not updating",
        "The tracking number you sent does not show any updates. Where is my package now?",
        ("shipping-delay",),
        "Where is my order",
        44,
    ),
    PastConversation(
        "Where is my stuff",
        "wheres my order?? paid two weeks ago",
        ("shipping-delay",),
        "Where is my order",
        61,
    ),
    PastConversation(
        "Refund please",
        "The shoes don't fit and I already sent them back. I'd like my money back please.",
        ("refund-request",),
        "Refund",
        2,
    ),
    PastConversation(
        "Money back for a broken lamp",
        "<p>The lamp arrived with a broken shade. Please refund me, I don't want a "
        "replacement.</p>",
        ("refund-request", "damaged"),
        "Refund",
        6,
    ),
    PastConversation(
        "Charged twice",
        "I was charged twice for the same order, can you refund the second payment?",
        ("refund-request", "billing"),
        "Refund",
        11,
    ),
    PastConversation(
        "Refund for cancelled order",
        "You cancelled my order because it was out of stock but I have not been refunded yet.",
        ("refund-request",),
        "Refund",
        17,
    ),
    PastConversation(
        "Want a refund",
        "Not happy with the quality of the sweater. How do I get a refund?",
        ("refund-request",),
        "Refund",
        26,
    ),
    PastConversation(
        "Reimbursement",
        "Hello, I would like to be reimbursed for the missing item in my order.",
        ("refund-request",),
        "Refund",
        38,
    ),
    PastConversation(
        "Refund not received",
        "<p>You said the refund was issued 10 days ago, but nothing on my card.</p>",
        ("refund-request",),
        "Refund",
        52,
    ),
    PastConversation(
        "Cancel my order please",
        "Please cancel the order I placed an hour ago, I ordered the wrong size.",
        ("cancel-order",),
        "Cancellation",
        4,
    ),
    PastConversation(
        "Stop my order",
        "Can you stop my order before it ships? I don't need it anymore.",
        ("cancel-order",),
        "Cancellation",
        12,
    ),
    PastConversation(
        "Cancellation",
        "I want to cancel order 5521, I found it cheaper elsewhere.",
        ("cancel-order",),
        "Cancellation",
        24,
    ),
    PastConversation(
        "Changed my mind",
        "<p>Hi! I changed my mind about the jacket, please cancel it.</p>",
        ("cancel-order",),
        "Cancellation",
        40,
    ),
    PastConversation(
        "Order by mistake",
        "I ordered twice by mistake, can you cancel one of the two orders?",
        ("cancel-order",),
        "Cancellation",
        58,
    ),
    PastConversation(
        "New address",
        "I just moved. Could you send my order to 4 Mill Lane, Leeds instead?",
        ("address-change",),
        "Shipping address",
        7,
    ),
    PastConversation(
        "Wrong address on order",
        "I typed the wrong house number on my order, it should be 27 not 72.",
        ("address-change",),
        "Shipping address",
        19,
    ),
    PastConversation(
        "Ship to my office",
        "Can you change the delivery address to my office? I'm never home during the day.",
        ("address-change",),
        "Shipping address",
        33,
    ),
    PastConversation(
        "Code not accepted",
        "The discount code from your newsletter says it is expired but the email says it is "
        "valid until Sunday.",
        ("discount-code",),
        "Promotion",
        8,
    ),
    PastConversation(
        "Promo code",
        "<p>How do I use my 15% promo code? I can't see where to enter it.</p>",
        ("discount-code",),
        "Promotion",
        27,
    ),
    PastConversation(
        "Return a dress",
        "I'd like to return a dress that is too long. How do I get a return label?",
        ("return-request",),
        "Return",
        10,
    ),
    PastConversation(
        "Exchange for a larger size",
        "Can I exchange the trainers for a size 42?",
        ("return-request",),
        "Return",
        35,
    ),
    PastConversation(
        "Thank you",
        "Just wanted to say the parcel arrived and everything is perfect, thanks!",
        (),
        "Other",
        15,
    ),
    PastConversation(
        "Question about fabric",
        "Is the blue shirt 100% cotton?",
        ("product-question",),
        "Other",
        47,
    ),
    PastConversation(
        "Old shipping problem",
        "My order from the spring sale never arrived. Where is it?",
        ("shipping-delay",),
        "Where is my order",
        150,
    ),
)

# Customers of the past only: the demo's own customers keep their current conversations alone
# (one each, or none), as the workspace and its walk-through expect.
PAST_CUSTOMERS = (
    ("Rosalind Franklin", "rosalind@example.com"),
    ("Edsger Dijkstra", "edsger@example.com"),
    ("Frances Allen", "frances@example.com"),
    ("Dennis Ritchie", "dennis@example.com"),
)

AGENT_REPLY = "Thanks for writing in! I'm looking into it and will get back to you shortly."


def _customers(org: Org) -> list[Customer]:
    customers = []
    for name, email in PAST_CUSTOMERS:
        customer = Customer.objects.filter(org=org, primary_email=email).first()
        if customer is None:
            customer = customer_create(org=org, name=name, email=email, emit_webhooks=False)
        customers.append(customer)
    return customers


@transaction.atomic
def conversation_history_seed(
    *,
    org: Org | None = None,
    conversations: tuple[PastConversation, ...] = PAST_CONVERSATIONS,
    now: datetime | None = None,
) -> int:
    """Writes the past conversations the org does not have yet (found by subject), spread over
    four customers of the past; returns how many were written. No webhook is sent: it is history."""
    org = org or org_get_or_create()
    now = now or timezone.now()
    customers = _customers(org)
    existing = set(
        Conversation.objects.filter(
            org=org, name__in=[item.subject for item in conversations]
        ).values_list("name", flat=True)
    )
    written = 0
    for index, item in enumerate(conversations):
        if item.subject in existing:
            continue
        customer = customers[index % len(customers)]
        started = now - timedelta(days=item.days_ago, hours=index % 9, minutes=index * 7 % 60)
        conversation = conversation_create(
            customer=customer,
            name=item.subject,
            status=Conversation.Status.DONE,
            tags=item.tags,
            custom={CONTACT_REASON_ATTRIBUTE: item.contact_reason},
            emit_webhooks=False,
        )
        message_create(
            conversation=conversation,
            direction=Message.Direction.IN,
            body=item.text,
            subject=item.subject,
            sent_at=started,
            emit_webhooks=False,
        )
        message_create(
            conversation=conversation,
            direction=Message.Direction.OUT,
            body=AGENT_REPLY,
            sent_at=started + timedelta(minutes=20),
            emit_webhooks=False,
        )
        # `created_at` is set when the row is written: put it back in the past, where it was.
        Conversation.objects.filter(pk=conversation.pk).update(created_at=started)
        Message.objects.filter(conversation=conversation).update(created_at=started)
        written += 1
    return written
