"""Demo data for the fake Shopify: "Northwind Goods", an apparel and home-goods store.

Eight customers (the same emails as the fake Kustomer's demo customers) with one to five orders
each, in every state an agent meets: paid and waiting, shipped with tracking, delivered, partially
refunded, cancelled and refunded, payment only authorised, and a large order whose refund needs a
supervisor's approval. Seeding is idempotent: orders are keyed by shop and number, and an existing
order is left as it is.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from .models import (
    Customer,
    Fulfillment,
    FulfillmentLineItem,
    LineItem,
    Order,
    Refund,
    RefundLineItem,
    Shop,
    Transaction,
    WebhookSubscription,
)

DEMO_DOMAIN = "northwind-goods.myshopify.com"
DEMO_TOKEN = "shpat_sandbox_northwind_goods"  # noqa: S105 (the fake's demo token)
DEMO_NAME = "Northwind Goods"
WEBHOOK_TOPICS = (
    "ORDERS_CREATE",
    "ORDERS_UPDATED",
    "ORDERS_CANCELLED",
    "REFUNDS_CREATE",
    "APP_UNINSTALLED",
)

# title, variant, sku, price
PRODUCTS = {
    "sweater": ("Merino Crew Sweater", "Charcoal / M", "NW-MCS-CHR-M", "89.00"),
    "tee": ("Organic Cotton Tee", "White / L", "NW-OCT-WHT-L", "32.00"),
    "jacket": ("Denim Chore Jacket", "Indigo / M", "NW-DCJ-IND-M", "128.00"),
    "beanie": ("Wool Blend Beanie", "Oat", "NW-WBB-OAT", "24.00"),
    "tote": ("Waxed Canvas Tote", "Olive", "NW-WCT-OLV", "65.00"),
    "pillow": ("Linen Throw Pillow Cover", "Sand / 20x20", "NW-LPC-SND-20", "28.00"),
    "mugs": ("Stoneware Mug Set", "Speckled / Set of 4", "NW-SMS-SPK-4", "42.00"),
    "throw": ("Alpaca Throw Blanket", "Natural", "NW-ATB-NAT", "149.00"),
    "lamp": ("Ceramic Table Lamp", "Matte White", "NW-CTL-MWH", "110.00"),
    "skillet": ("Cast Iron Skillet", "10 in", "NW-CIS-10", "48.00"),
    "towel": ("Bamboo Bath Towel", "Slate", "NW-BBT-SLT", "36.00"),
    "wallet": ("Leather Card Wallet", "Tan", "NW-LCW-TAN", "45.00"),
    "socks": ("Chunky Knit Socks", "Grey / One size", "NW-CKS-GRY", "18.00"),
}

CARRIERS = {
    "UPS": ("1Z999AA1{n:08d}", "https://www.ups.com/track?tracknum={number}"),
    "USPS": (
        "9400 1000 0000 {n:010d}",
        "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
    ),
    "FedEx": ("7{n:011d}", "https://www.fedex.com/fedextrack/?trknbr={number}"),
}


@dataclass(frozen=True)
class SeedCustomer:
    first_name: str
    last_name: str
    email: str
    phone: str
    address: dict
    orders: tuple  # (days ago, state, [(product, quantity)], tags)


def _address(address1, city, province, zip_code, country="US", address2=""):
    return {
        "address1": address1,
        "address2": address2,
        "city": city,
        "provinceCode": province,
        "zip": zip_code,
        "countryCode": country,
    }


CUSTOMERS = (
    SeedCustomer(
        "Ada",
        "Lovelace",
        "ada@example.com",
        "+1 415-555-0101",
        _address("12 Marsh Lane", "Portland", "OR", "97205", address2="Apt 3"),
        (
            (2, "paid", [("sweater", 1), ("beanie", 1)], ["gift"]),
            (20, "delivered", [("mugs", 1)], []),
            (45, "partially_refunded", [("tee", 2), ("tote", 1)], []),
        ),
    ),
    SeedCustomer(
        "Grace",
        "Hopper",
        "grace@example.com",
        "+1 212-555-0102",
        _address("88 Harbor Street", "Arlington", "VA", "22201"),
        (
            (4, "in_transit", [("jacket", 1)], []),
            (12, "cancelled", [("lamp", 1)], []),
        ),
    ),
    SeedCustomer(
        "Alan",
        "Turing",
        "alan@example.com",
        "+44 161 555 0103",
        _address("4 Wilmslow Road", "Manchester", "", "M14 5TQ", country="GB"),
        ((1, "paid", [("throw", 1), ("lamp", 1)], ["vip"]),),
    ),
    SeedCustomer(
        "Katherine",
        "Johnson",
        "katherine@example.com",
        "+1 757-555-0104",
        _address("301 Langley Boulevard", "Hampton", "VA", "23666"),
        (
            (3, "paid", [("wallet", 1)], []),
            (30, "partially_refunded", [("pillow", 4)], []),
            (58, "delivered", [("towel", 2)], []),
            (85, "delivered", [("skillet", 1)], []),
        ),
    ),
    SeedCustomer(
        "Linus",
        "Torvalds",
        "linus@example.com",
        "+1 503-555-0105",
        _address("1 Penguin Way", "Beaverton", "OR", "97006"),
        (
            (1, "authorized", [("socks", 3), ("beanie", 1)], []),
            (40, "delivered", [("tee", 1)], []),
        ),
    ),
    SeedCustomer(
        "Margaret",
        "Hamilton",
        "margaret@example.com",
        "+1 617-555-0106",
        _address("77 Apollo Avenue", "Cambridge", "MA", "02139"),
        (
            (0, "paid", [("pillow", 2), ("mugs", 1)], []),
            (5, "in_transit", [("sweater", 1)], []),
            (25, "delivered", [("towel", 1), ("socks", 2)], []),
            (35, "cancelled", [("jacket", 1)], []),
            (70, "delivered", [("skillet", 1), ("mugs", 1)], ["repeat"]),
        ),
    ),
    SeedCustomer(
        "Tim",
        "Berners-Lee",
        "tim@example.com",
        "+44 20 5550 0107",
        _address("9 Meridian Court", "London", "", "SW1A 1AA", country="GB"),
        ((15, "partially_refunded", [("tote", 1), ("wallet", 1)], []),),
    ),
    SeedCustomer(
        "Barbara",
        "Liskov",
        "barbara@example.com",
        "+1 781-555-0108",
        _address("52 Substitution Street", "Boston", "MA", "02116"),
        (
            (2, "paid", [("throw", 1)], []),
            (6, "in_transit", [("lamp", 1), ("pillow", 2)], []),
            (50, "delivered", [("beanie", 2)], []),
        ),
    ),
)

STATES = ("paid", "in_transit", "delivered", "partially_refunded", "cancelled", "authorized")


def _extra_customers(count: int) -> list[SeedCustomer]:
    """Synthetic customers for load tests: customer0001@example.com... with 1 to 5 orders."""
    product_names = list(PRODUCTS)
    extra = []
    for index in range(1, count + 1):
        orders = []
        for number in range(index % 5 + 1):
            first = product_names[(index + number) % len(product_names)]
            second = product_names[(index * 3 + number) % len(product_names)]
            lines = [(first, 1 + number % 2)] + ([(second, 1)] if second != first else [])
            orders.append(
                (3 + number * 11 + index % 7, STATES[(index + number) % len(STATES)], lines, [])
            )
        extra.append(
            SeedCustomer(
                "Customer",
                f"{index:04d}",
                f"customer{index:04d}@example.com",
                "",
                _address(f"{index} Load Test Road", "Springfield", "IL", "62701"),
                tuple(orders),
            )
        )
    return extra


@dataclass(frozen=True)
class SeedSummary:
    shop: Shop
    customers_created: int
    orders_created: int
    subscriptions_created: int


def shop_seed(
    *,
    domain: str = DEMO_DOMAIN,
    token: str = DEMO_TOKEN,
    name: str = DEMO_NAME,
    extra_customers: int = 0,
    webhook_url: str = "",
    reset: bool = False,
) -> SeedSummary:
    """Creates the demo shop and whatever of its customers and orders is missing."""
    with transaction.atomic():
        if reset:
            Shop.objects.filter(domain=domain).delete()
        shop, _ = Shop.objects.get_or_create(
            domain=domain,
            defaults={"name": name, "access_token": token, "email": f"support@{domain}"},
        )
        if shop.access_token != token or not shop.installed:
            shop.access_token = token
            shop.installed = True
            shop.save(update_fields=["access_token", "installed"])

        now = timezone.now().replace(microsecond=0)
        seed_customers = (*CUSTOMERS, *_extra_customers(extra_customers))
        customers = {c.email: c for c in Customer.objects.filter(shop=shop)}
        missing = [
            Customer(
                shop=shop,
                email=seed.email,
                first_name=seed.first_name,
                last_name=seed.last_name,
                phone=seed.phone,
                created_at=now - timedelta(days=120),
            )
            for seed in seed_customers
            if seed.email not in customers
        ]
        Customer.objects.bulk_create(missing)
        customers.update({c.email: c for c in missing})

        plans = [(seed, order) for seed in seed_customers for order in seed.orders]
        # Numbers follow the order dates, oldest first, as a real store's do.
        plans.sort(key=lambda plan: (-plan[1][0], plan[0].email))
        taken = set(Order.objects.filter(shop=shop).values_list("number", flat=True))
        wanted = [
            (number, seed, plan)
            for number, (seed, plan) in enumerate(plans, start=1001)
            if number not in taken
        ]
        _orders_create(shop, customers, wanted, now)

        subscriptions_created = 0
        if webhook_url:
            for topic in WEBHOOK_TOPICS:
                _, created = WebhookSubscription.objects.get_or_create(
                    shop=shop, topic=topic, uri=webhook_url
                )
                subscriptions_created += created
    return SeedSummary(shop, len(missing), len(wanted), subscriptions_created)


FINANCIAL_STATUS = {
    "paid": Order.FinancialStatus.PAID,
    "in_transit": Order.FinancialStatus.PAID,
    "delivered": Order.FinancialStatus.PAID,
    "partially_refunded": Order.FinancialStatus.PARTIALLY_REFUNDED,
    "cancelled": Order.FinancialStatus.REFUNDED,
    "authorized": "AUTHORIZED",
}


def _orders_create(shop: Shop, customers: dict, wanted: list, now) -> None:
    """Creates the planned orders with a handful of bulk inserts (the tests seed often)."""
    orders, lines_of = [], []
    for number, seed, (days_ago, state, lines, tags) in wanted:
        created_at = now - timedelta(days=days_ago, hours=number % 9, minutes=number * 7 % 60)
        subtotal = sum(Decimal(PRODUCTS[key][3]) * quantity for key, quantity in lines)
        shipping = Decimal("0.00") if subtotal >= Decimal("150") else Decimal("8.00")
        cancelled_at = created_at + timedelta(hours=5) if state == "cancelled" else None
        orders.append(
            Order(
                shop=shop,
                number=number,
                customer=customers[seed.email],
                email=seed.email,
                currency_code=shop.currency_code,
                shipping_price=shipping,
                shipping_refunded=shipping if state == "cancelled" else Decimal("0"),
                financial_status=FINANCIAL_STATUS[state],
                fulfillment_status=Order.FulfillmentStatus.FULFILLED
                if state in {"in_transit", "delivered", "partially_refunded"}
                else Order.FulfillmentStatus.UNFULFILLED,
                tags=list(tags),
                note="Please gift wrap." if "gift" in tags else "",
                shipping_address={
                    "firstName": seed.first_name,
                    "lastName": seed.last_name,
                    "phone": seed.phone,
                    **seed.address,
                },
                created_at=created_at,
                updated_at=cancelled_at or created_at,
                cancelled_at=cancelled_at,
                closed_at=cancelled_at,
                cancel_reason="CUSTOMER" if cancelled_at else "",
            )
        )
        lines_of.append((state, subtotal + shipping, lines))
    Order.objects.bulk_create(orders)

    items_of = []
    for order, (state, _, lines) in zip(orders, lines_of, strict=True):
        items = [
            LineItem(
                order=order,
                title=PRODUCTS[key][0],
                variant_title=PRODUCTS[key][1],
                sku=PRODUCTS[key][2],
                quantity=quantity,
                price=Decimal(PRODUCTS[key][3]),
                refunded_quantity=quantity
                if state == "cancelled"
                else (1 if state == "partially_refunded" and index == 0 else 0),
            )
            for index, (key, quantity) in enumerate(lines)
        ]
        items_of.append(items)
    LineItem.objects.bulk_create([item for items in items_of for item in items])

    sales = [
        Transaction(
            order=order,
            kind=Transaction.Kind.AUTHORIZATION if state == "authorized" else Transaction.Kind.SALE,
            amount=total,
            created_at=order.created_at,
        )
        for order, (state, total, _) in zip(orders, lines_of, strict=True)
    ]
    Transaction.objects.bulk_create(sales)

    fulfillments, fulfilled_items = [], []
    refunds, refund_plans = [], []
    for order, items, (state, total, _) in zip(orders, items_of, lines_of, strict=True):
        if state in {"in_transit", "delivered", "partially_refunded"}:
            carrier = ("UPS", "USPS", "FedEx")[order.number % 3]
            pattern, url = CARRIERS[carrier]
            tracking = pattern.format(n=order.number * 7919)
            fulfillments.append(
                Fulfillment(
                    order=order,
                    display_status="IN_TRANSIT" if state == "in_transit" else "DELIVERED",
                    tracking_company=carrier,
                    tracking_number=tracking,
                    tracking_url=url.format(number=tracking.replace(" ", "")),
                    created_at=order.created_at + timedelta(days=1),
                )
            )
            fulfilled_items.append(items)
        if state == "partially_refunded":
            refund_items = [(items[0], 1)]
            refunds.append(
                Refund(
                    shop=shop,
                    order=order,
                    note="Arrived damaged",
                    total_amount=items[0].price,
                    created_at=order.created_at + timedelta(days=6),
                )
            )
            refund_plans.append((order, refund_items, items[0].price))
        elif state == "cancelled":
            refunds.append(
                Refund(
                    shop=shop,
                    order=order,
                    note="Order cancelled",
                    shipping_amount=order.shipping_price,
                    total_amount=total,
                    created_at=order.cancelled_at,
                )
            )
            refund_plans.append((order, [(item, item.quantity) for item in items], total))
    Fulfillment.objects.bulk_create(fulfillments)
    FulfillmentLineItem.objects.bulk_create(
        [
            FulfillmentLineItem(fulfillment=fulfillment, line_item=item, quantity=item.quantity)
            for fulfillment, items in zip(fulfillments, fulfilled_items, strict=True)
            for item in items
        ]
    )
    Refund.objects.bulk_create(refunds)
    sale_of = {sale.order_id: sale for sale in sales}
    refund_items, refund_transactions = [], []
    for refund, (order, items, amount) in zip(refunds, refund_plans, strict=True):
        for item, quantity in items:
            refund_items.append(
                RefundLineItem(
                    refund=refund,
                    line_item=item,
                    quantity=quantity,
                    restock_type="CANCEL" if order.cancelled_at else "NO_RESTOCK",
                    subtotal=item.price * quantity,
                )
            )
        refund_transactions.append(
            Transaction(
                order=order,
                kind=Transaction.Kind.REFUND,
                amount=amount,
                parent=sale_of[order.pk],
                refund=refund,
                created_at=refund.created_at,
            )
        )
    RefundLineItem.objects.bulk_create(refund_items)
    Transaction.objects.bulk_create(refund_transactions)
