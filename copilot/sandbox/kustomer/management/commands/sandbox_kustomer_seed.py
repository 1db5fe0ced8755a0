"""Seeds the fake Kustomer with a demo org: an admin API key, customers, conversations, shortcuts,
and two people who can sign in with OAuth (the agent Ada Agent, the supervisor Sam Supervisor).

Safe to run any number of times: existing rows are found by name or email and kept. The klass
`copilot_insight` is left for the app's own setup command to create.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from copilot.sandbox.kustomer import history, services
from copilot.sandbox.kustomer.auth import Role
from copilot.sandbox.kustomer.models import ApiKey, Customer

SEED_KEY_NAME = "Seed admin key"

# (name, email, [(subject, first message), ...]); the emails match the fake Shopify's customers.
CUSTOMERS: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "Ada Lovelace",
        "ada@example.com",
        [
            (
                "Where is order #1042?",
                "Hi, the label for order #1042 was created 9 days ago and nothing has moved "
                "since. Can you check where my parcel is?",
            )
        ],
    ),
    (
        "Grace Hopper",
        "grace@example.com",
        [
            (
                "Refund for a damaged mug",
                "The mug in order #1057 arrived cracked. I'd like a refund please, photos "
                "attached.",
            )
        ],
    ),
    (
        "Alan Turing",
        "alan@example.com",
        [
            (
                "Return the jacket",
                "The jacket from order #1061 is too small. How do I send it back for a "
                "larger size?",
            )
        ],
    ),
    (
        "Katherine Johnson",
        "katherine@example.com",
        [
            (
                "Cancel my order",
                "Please cancel order #1063, I ordered the wrong colour by mistake.",
            )
        ],
    ),
    (
        "Linus Pauling",
        "linus@example.com",
        [
            (
                "New delivery address",
                "I'm moving next week. Can you change the shipping address on order #1066 to "
                "12 Harbour Street, Bristol?",
            )
        ],
    ),
    (
        "Margaret Hamilton",
        "margaret@example.com",
        [
            (
                "Still waiting",
                "My order #1070 was supposed to arrive on Monday. It's Thursday. What's going on?",
            ),
            (
                "Discount code not working",
                "The code WELCOME10 says it is invalid at checkout.",
            ),
        ],
    ),
    ("Tim Berners-Lee", "tim@example.com", []),
    ("Barbara Liskov", "barbara@example.com", []),
]

SHORTCUTS: list[tuple[str, str]] = [
    (
        "Order tracking",
        "Hi {{customer.firstName}},\n\nThanks for reaching out! Your order is on its way; you "
        "can follow it with the tracking link in your shipping confirmation email. Carriers "
        "can take 24 hours to show the first scan.\n\nBest,\n{{user.firstName}}",
    ),
    (
        "Refund issued",
        "Hi {{customer.firstName}},\n\nI'm sorry about that. I've issued a full refund to your "
        "original payment method; it usually shows within 5 to 10 business days.\n\nBest,\n"
        "{{user.firstName}}",
    ),
    (
        "Return instructions",
        "Hi {{customer.firstName}},\n\nNo problem! You can return any unworn item within 30 "
        "days. Start your return from the link in your order confirmation and we'll email you "
        "a prepaid label.\n\nBest,\n{{user.firstName}}",
    ),
    (
        "Exchange for another size",
        "Hi {{customer.firstName}},\n\nHappy to help with an exchange. Reply with the size "
        "you'd like and we'll reserve it while your return is on its way.\n\nBest,\n"
        "{{user.firstName}}",
    ),
    (
        "Order cancelled",
        "Hi {{customer.firstName}},\n\nDone: your order has been cancelled and you have not "
        "been charged. Anything else I can do for you?\n\nBest,\n{{user.firstName}}",
    ),
    (
        "Cannot cancel, already shipped",
        "Hi {{customer.firstName}},\n\nYour order has already left our warehouse, so I can't "
        "cancel it any more. Once it arrives you can return it for a full refund.\n\nBest,\n"
        "{{user.firstName}}",
    ),
    (
        "Address changed",
        "Hi {{customer.firstName}},\n\nI've updated the shipping address on your order. You'll "
        "get a new confirmation email shortly.\n\nBest,\n{{user.firstName}}",
    ),
    (
        "Shipping delay apology",
        "Hi {{customer.firstName}},\n\nI'm really sorry for the wait. Our carrier is running "
        "behind this week; your parcel should arrive within 3 business days. I've added a 10% "
        "discount to your next order for the trouble.\n\nBest,\n{{user.firstName}}",
    ),
    (
        "Damaged item",
        "Hi {{customer.firstName}},\n\nI'm sorry your item arrived damaged! Could you send a "
        "photo of it and the box? I'll send a replacement right away.\n\nBest,\n"
        "{{user.firstName}}",
    ),
    (
        "Discount code help",
        "Hi {{customer.firstName}},\n\nSorry about the trouble with your code. It applies to "
        "full-price items only; I've sent you a new one that works on everything.\n\nBest,\n"
        "{{user.firstName}}",
    ),
]


class Command(BaseCommand):
    help = "Seeds the fake Kustomer with a demo org (idempotent) and prints its admin API key."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        org = services.org_get_or_create()
        key = ApiKey.objects.filter(org=org, name=SEED_KEY_NAME).first()
        if key is None:
            key = services.api_key_create(
                org=org,
                roles=[Role.ADMIN.value],
                name=SEED_KEY_NAME,
                user_name="Copilot Integration",
            )

        created_customers = 0
        for name, email, conversations in CUSTOMERS:
            customer = Customer.objects.filter(org=org, primary_email=email).first()
            if customer is None:
                customer = services.customer_create(
                    org=org, name=name, email=email, emit_webhooks=False
                )
                created_customers += 1
            if customer.conversations.exists():
                continue
            for subject, text in conversations:
                conversation = services.conversation_create(
                    customer=customer, name=subject, emit_webhooks=False
                )
                services.message_create(
                    conversation=conversation,
                    direction="in",
                    body=text,
                    subject=subject,
                    emit_webhooks=False,
                )

        # After the customers' current conversations, which are written only for a customer
        # without any: past ones must not keep them from being written.
        past = history.conversation_history_seed(org=org)

        for name, text in SHORTCUTS:
            services.shortcut_upsert(org=org, name=name, text=text)
        people = services.demo_users_ensure(org=org)

        self.stdout.write(
            f"Fake Kustomer org {org.name!r} ({org.id}): {created_customers} new customers, "
            f"{len(CUSTOMERS)} in all, {len(SHORTCUTS)} shortcuts, {past} new past "
            "conversations to import; people who can sign in: "
            f"{', '.join(person.name for person in people)}.\n"
            "Base URL: http://127.0.0.1:8000/sandbox/kustomer\n"
            "Admin API key (KUSTOMER_API_KEY):"
        )
        self.stdout.write(key.token)
