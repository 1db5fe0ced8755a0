import json

from django.core.management.base import BaseCommand

from copilot.inbox.setup import app_definition


class Command(BaseCommand):
    help = "Prints the Kustomer app definition JSON that installs the copilot."

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(app_definition(), indent=2))
