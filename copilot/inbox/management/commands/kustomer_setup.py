from django.core.management.base import BaseCommand, CommandError

from copilot.inbox.setup import kustomer_setup_run
from copilot.integrations.http import IntegrationError
from copilot.integrations.kustomer import KustomerClient


class Command(BaseCommand):
    help = "Creates the insight klass and registers our outbound webhook in Kustomer (idempotent)."

    def handle(self, *args, **options):
        try:
            with KustomerClient.from_settings() as client:
                report = kustomer_setup_run(client=client)
        except IntegrationError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            "Created the klass." if report.klass_created else "The klass already exists."
        )
        if report.webhook_created:
            self.stdout.write(
                f"Registered the webhook for {report.webhook_url}; its signing token is kept."
            )
        else:
            self.stdout.write(f"The webhook for {report.webhook_url} is already registered.")
