"""Facts made by hand for the pure tests (grounding, fallback, prompts)."""

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from copilot.integrations.shopify import Money
from copilot.replies import defaults
from copilot.replies.facts import Facts, Item, OrderFacts, Policy, SavedReply, Shipment

TRACKING_URL = "https://www.ups.com/track?tracknum=1Z999AA100123456"
SANDBOX_KEY = "sk-sandbox-demo-key"
INTENT_DESCRIPTIONS = {
    item["name"]: item["description"]
    for item in json.loads(
        (Path(__file__).parents[2] / "intents" / "fixtures" / "demo_intents.json").read_text()
    )
}


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def shipped_order(**changes) -> OrderFacts:
    values = {
        "number": "#1020",
        "store": "Northwind Goods",
        "placed_on": date(2026, 5, 1),
        "financial_status": "PAID",
        "fulfillment_status": "FULFILLED",
        "cancelled_on": None,
        "total": usd("121.00"),
        "subtotal": usd("113.00"),
        "shipping": usd("8.00"),
        "refunded": usd("0.00"),
        "items": (
            Item("Merino Crew Sweater", "Charcoal / M", 1, usd("89.00")),
            Item("Wool Blend Beanie", "Oat", 1, usd("24.00")),
        ),
        "shipments": (
            Shipment("IN_TRANSIT", "UPS", "1Z999AA100123456", TRACKING_URL, date(2026, 5, 2)),
        ),
        "status_url": "https://northwind-goods.example/orders/abc/authenticate",
    }
    values.update(changes)
    return OrderFacts(**values)


def unshipped_order(**changes) -> OrderFacts:
    return shipped_order(
        number="#1031",
        placed_on=date(2026, 5, 20),
        fulfillment_status="UNFULFILLED",
        shipments=(),
        **changes,
    )


def policies() -> tuple[Policy, ...]:
    return tuple(Policy(key, title, text) for key, title, text in defaults.POLICIES)


def facts(*orders: OrderFacts, first_name: str = "Ada", **changes) -> Facts:
    values = {
        "customer_first_name": first_name,
        "customer_name": f"{first_name} Lovelace" if first_name else "",
        "customer_email": "ada@example.com",
        "orders": orders if orders else (shipped_order(),),
        "policies": policies(),
        "shortcuts": (),
    }
    values.update(changes)
    return Facts(**values)


def shortcut(name: str, text: str) -> SavedReply:
    return SavedReply(name, text)
