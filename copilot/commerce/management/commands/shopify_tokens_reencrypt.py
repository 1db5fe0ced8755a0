from django.core.management.base import BaseCommand

from copilot.commerce.services import store_tokens_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypts every stored Shopify token with the first SHOPIFY_TOKEN_ENCRYPTION_KEY "
        "(after putting a new key first; then the old key can be removed)."
    )

    def handle(self, *args, **options):
        count = store_tokens_reencrypt()
        self.stdout.write(f"Re-encrypted {count} token(s).")
