from django.conf import settings
from django.core.management.base import BaseCommand

from copilot.sandbox.shopify.seed import DEMO_DOMAIN, DEMO_NAME, DEMO_TOKEN, shop_seed


class Command(BaseCommand):
    help = (
        "Seeds the fake Shopify with the demo store Northwind Goods (8 customers and their "
        "orders). Safe to run again: only what is missing is created."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--domain",
            default=settings.SHOPIFY_SHOP_DOMAIN or DEMO_DOMAIN,
            help="Shop domain (default: SHOPIFY_SHOP_DOMAIN, so the copilot's first store "
            "connects to it).",
        )
        parser.add_argument(
            "--token",
            default=settings.SHOPIFY_ACCESS_TOKEN or DEMO_TOKEN,
            help="Access token the fake accepts (default: SHOPIFY_ACCESS_TOKEN).",
        )
        parser.add_argument("--name", default=DEMO_NAME)
        parser.add_argument(
            "--extra-customers",
            type=int,
            default=0,
            help="Also create this many synthetic customers (customer0001@example.com...) with "
            "1-5 orders each, for load tests.",
        )
        parser.add_argument(
            "--webhook-url",
            default=settings.SHOPIFY_WEBHOOK_URL,
            help="Subscribe this URL to the orders, refunds and app/uninstalled topics "
            "(default: SHOPIFY_WEBHOOK_URL; pass '' for none).",
        )
        parser.add_argument(
            "--reset", action="store_true", help="Delete the shop and everything in it first."
        )

    def handle(self, *args, **options):
        summary = shop_seed(
            domain=options["domain"],
            token=options["token"],
            name=options["name"],
            extra_customers=options["extra_customers"],
            webhook_url=options["webhook_url"],
            reset=options["reset"],
        )
        self.stdout.write(
            f"{summary.shop.name} ({summary.shop.domain}): {summary.customers_created} customers "
            f"and {summary.orders_created} orders created, {summary.subscriptions_created} "
            "webhook subscriptions added."
        )
