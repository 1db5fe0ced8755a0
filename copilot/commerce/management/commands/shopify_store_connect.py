from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from copilot.commerce import services
from copilot.integrations.http import IntegrationError


class Command(BaseCommand):
    help = (
        "Connects a Shopify store: checks the token with Shopify, stores it encrypted and "
        "registers our webhooks. Without arguments, the store of SHOPIFY_SHOP_DOMAIN / "
        "SHOPIFY_ACCESS_TOKEN / SHOPIFY_API_BASE_URL."
    )

    def add_arguments(self, parser):
        parser.add_argument("shop_domain", nargs="?", default="")
        parser.add_argument("--token", default="", help="Admin API access token (shpat_...).")
        parser.add_argument("--name", default="", help="Shown to agents (default: Shopify's).")
        parser.add_argument("--base-url", default="", help="Only to point at the fake Shopify.")
        parser.add_argument("--no-webhooks", action="store_true")

    def handle(self, *args, **options):
        domain = options["shop_domain"] or settings.SHOPIFY_SHOP_DOMAIN
        token = options["token"] or (
            settings.SHOPIFY_ACCESS_TOKEN if not options["shop_domain"] else ""
        )
        base_url = options["base_url"] or (
            settings.SHOPIFY_API_BASE_URL if not options["shop_domain"] else ""
        )
        if not domain or not token:
            raise CommandError(
                "Give a shop domain and --token, "
                "or set SHOPIFY_SHOP_DOMAIN and SHOPIFY_ACCESS_TOKEN."
            )
        try:
            store = services.store_connect(
                shop_domain=domain,
                access_token=token,
                name=options["name"],
                api_base_url=base_url,
                register_webhooks=not options["no_webhooks"],
                from_environment=not options["shop_domain"],
            )
        except IntegrationError as error:
            raise CommandError(f"Shopify refused: {error}") from error
        store.refresh_from_db()
        registered = "webhooks registered" if store.webhooks_registered_at else "no webhooks"
        self.stdout.write(f"Connected {store.display_name} ({store.shop_domain}); {registered}.")
