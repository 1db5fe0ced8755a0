import json
from pathlib import Path

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.core.wsgi import get_wsgi_application

from copilot.inbox.models import WebhookSubscription
from copilot.inbox.setup import kustomer_setup_run, webhook_url
from copilot.integrations.kustomer import KustomerClient
from copilot.integrations.ratelimit import Limits, LocalRateLimiter
from intents.importing import read_labelled_file
from intents.models import LabeledExample, ModelVersion
from intents.services import (
    examples_import,
    intents_ensure,
    model_version_activate,
    model_version_create,
    model_version_train,
)

FIXTURES = Path(settings.BASE_DIR) / "intents" / "fixtures"


class Command(BaseCommand):
    help = (
        "Prepares the demo (idempotent): the demo intent model, the fake Kustomer and Shopify "
        "with their data, the copilot installed in the fake Kustomer, and an admin user."
    )

    def handle(self, *args, **options):
        if not (settings.DEMO_MODE and settings.COPILOT_SANDBOX):
            raise CommandError("demo_setup runs only with COPILOT_DEMO=true and the sandbox on.")
        self._intent_model()
        admin_key = self._fake_kustomer()
        self._install_in_fake_kustomer(admin_key)
        self._card_sign_in()
        call_command("sandbox_shopify_seed", stdout=self.stdout)
        self._admin_user()
        self._next_steps()

    def _intent_model(self) -> None:
        if not LabeledExample.objects.exists():
            definitions = json.loads((FIXTURES / "demo_intents.json").read_text())
            intents_ensure(
                definitions=[(item["name"], item["description"]) for item in definitions]
            )
            summary = examples_import(rows=read_labelled_file(FIXTURES / "demo_intents.csv"))
            self.stdout.write(f"Imported {summary.created} demo examples.")
        if not ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).exists():
            self.stdout.write("Training the demo intent model...")
            version = model_version_train(version_id=model_version_create().id)
            if version.status != ModelVersion.Status.READY:
                raise CommandError(f"Training failed: {version.failure_reason}")
            model_version_activate(version_id=version.id)
            self.stdout.write(
                f"Model v{version.number} is active "
                f"(accuracy {version.metrics['accuracy']:.1%} in "
                f"{version.metrics.get('protocol', 'held-out data')})."
            )

    def _fake_kustomer(self) -> str:
        from io import StringIO

        output = StringIO()
        call_command("sandbox_kustomer_seed", stdout=output)
        admin_key = output.getvalue().strip().splitlines()[-1]
        _demo_env_set("KUSTOMER_API_KEY", admin_key)
        self.stdout.write("The fake Kustomer is seeded; its API key is kept in var/demo.env.")
        return admin_key

    def _install_in_fake_kustomer(self, admin_key: str) -> None:
        # Imported here: the fake is installed only with the sandbox on, which handle() checked.
        from copilot.sandbox.kustomer import services as fake_kustomer

        # The demo may be served on another address than last time (`make run PORT=...`): the
        # webhook registered then follows it, or customers' messages would go where nothing
        # listens.
        fake_kustomer.outbound_webhooks_repoint(
            webhook_ids=WebhookSubscription.objects.values_list("kustomer_id", flat=True),
            url=webhook_url(),
        )
        # The server is not running yet: talk HTTP to the app in process instead.
        client = KustomerClient(
            base_url="http://127.0.0.1/sandbox/kustomer",
            api_key=admin_key,
            rate_limiter=LocalRateLimiter(limits=Limits(per_window=1000, per_customer=120)),
            transport=httpx.WSGITransport(app=get_wsgi_application()),
        )
        with client:
            report = kustomer_setup_run(client=client)
        self.stdout.write(
            f"The copilot is installed in the fake Kustomer (webhook to {report.webhook_url})."
        )

    def _card_sign_in(self) -> None:
        """The card's "Sign in with Kustomer": its OAuth client in the fake, with a redirect URI
        for both names of this machine (the demo frames the card from the other one)."""
        from copilot.sandbox.kustomer import oauth
        from copilot.sandbox.kustomer import services as fake_kustomer

        org = fake_kustomer.org_get_or_create()
        fake_kustomer.demo_users_ensure(org=org)
        app = oauth.app_upsert(
            org=org,
            name="copilot",
            title="Copilot",
            redirect_uris=[f"{origin}/card/oauth/callback" for origin in _demo_origins()],
        )
        _demo_env_set("KUSTOMER_OAUTH_CLIENT_ID", app.client_id)
        settings.KUSTOMER_OAUTH_CLIENT_ID = app.client_id
        self.stdout.write("Agents sign in to the card as Ada Agent or Sam Supervisor.")

    def _admin_user(self) -> None:
        users = get_user_model()
        if not users.objects.filter(username="admin").exists():
            users.objects.create_superuser("admin", "admin@example.com", "admin")

    def _next_steps(self) -> None:
        """What to open and who to sign in as (tests/copilot/test_demo_setup.py follows it)."""
        from copilot.sandbox.kustomer.workspace_views import EXAMPLES

        origin = workspace_origin()
        self.stdout.write(
            "\nThe demo is ready.\n"
            f"  Open the workspace: {origin}/sandbox/kustomer/workspace/\n"
            f"  Write as the customer, or pick one of {len(EXAMPLES)} scripted examples.\n"
            "  In the card, Sign in with Kustomer as Ada Agent (agent) or Sam Supervisor "
            "(supervisor).\n"
            f"  Staff pages: {origin}/admin/ and {origin}/training/ "
            "(user admin, password admin).\n"
            f"  Drafts: {drafts_source_text()}.\n"
        )


def workspace_origin() -> str:
    """The workspace on the `localhost` name: it frames the card from `127.0.0.1`, another site,
    as Kustomer frames it (any other public name is used as it is)."""
    return settings.COPILOT_PUBLIC_URL.replace("//127.0.0.1", "//localhost")


def drafts_source_text() -> str:
    from copilot.sandbox.kustomer.workspace_views import drafts_source

    return drafts_source()["text"]


def _demo_origins() -> list[str]:
    public = settings.COPILOT_PUBLIC_URL
    other = (
        public.replace("//127.0.0.1", "//localhost")
        if "//127.0.0.1" in public
        else public.replace("//localhost", "//127.0.0.1")
    )
    return list(dict.fromkeys([public, other]))


def _demo_env_set(name: str, value: str) -> None:
    """Keeps `name=value` in var/demo.env (read by the settings in demo mode), owner-only."""
    demo_env = Path(settings.DATA_DIR) / "demo.env"
    lines = demo_env.read_text().splitlines() if demo_env.exists() else []
    kept = [line for line in lines if not line.startswith(f"{name}=")]
    if f"{name}={value}" in lines:
        return
    demo_env.parent.mkdir(parents=True, exist_ok=True)
    demo_env.write_text("\n".join([*kept, f"{name}={value}"]) + "\n")
    demo_env.chmod(0o600)
