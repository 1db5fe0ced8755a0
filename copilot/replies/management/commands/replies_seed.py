from django.core.management.base import BaseCommand

from copilot.replies.services import reply_defaults_seed


class Command(BaseCommand):
    help = (
        "Adds the default store policies and reply templates that are missing (idempotent; "
        "rows edited in the admin are kept)."
    )

    def handle(self, *args, **options) -> None:
        policies, templates = reply_defaults_seed()
        self.stdout.write(f"Added {policies} policies and {templates} reply templates.")
