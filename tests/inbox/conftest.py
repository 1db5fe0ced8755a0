"""The pipeline against the fake Kustomer over real HTTP (pytest-django's live server)."""

from dataclasses import dataclass

import pytest

from copilot.inbox import setup
from copilot.sandbox.kustomer import selectors as sandbox_selectors
from copilot.sandbox.kustomer import services as sandbox
from intents.prediction import active_model
from intents.services import (
    examples_import,
    model_version_activate,
    model_version_create,
    model_version_train,
)
from tests.factories import labelled_rows

COPILOT_ROLES = [
    "org.user.customer.read",
    "org.user.conversation.read",
    "org.user.conversation.write",
    "org.user.message.read",
    "org.user.note.write",
    "org.user.kobject.read",
    "org.user.kobject.write",
    "org.user.shortcut.read",
]


@dataclass
class Kustomer:
    """The fake org the copilot is installed in, and what it holds."""

    base_url: str
    org: object

    def kobjects(self):
        return list(sandbox_selectors.kobjects(org=self.org))

    def notes(self):
        return list(sandbox_selectors.notes(org=self.org))

    def requests(self, path_prefix: str = "/v1/"):
        return [
            entry
            for entry in sandbox_selectors.request_log(org=self.org)
            if entry.path.startswith(path_prefix)
        ]


@pytest.fixture
def trained_model(transactional_db, settings):
    settings.INTENT_MODEL_REFRESH_SECONDS = 0
    settings.INTENT_MIN_EXAMPLES = 5
    active_model.clear()
    examples_import(rows=labelled_rows())
    version = model_version_train(version_id=model_version_create().id)
    model_version_activate(version_id=version.id)
    yield version
    active_model.clear()


@pytest.fixture
def kustomer(live_server, settings, trained_model):
    """A fake Kustomer org with the copilot installed by `kustomer_setup`, as a user would."""
    settings.SANDBOX_KUSTOMER_WEBHOOK_RETRY_SCALE = 0.0005
    settings.SANDBOX_KUSTOMER_ALLOW_HTTP_WEBHOOKS = True
    settings.SANDBOX_KUSTOMER_LATENCY_MS = 0
    settings.KUSTOMER_WEBHOOK_SECRET = []
    settings.KUSTOMER_NOTES = "always"
    settings.KUSTOMER_TAG_INTENT = False
    settings.COPILOT_PUBLIC_URL = live_server.url
    settings.KUSTOMER_API_BASE_URL = live_server.url + "/sandbox/kustomer"
    org = sandbox.org_get_or_create()
    admin_key = sandbox.api_key_create(roles=["org.admin"], name="setup")
    settings.KUSTOMER_API_KEY = admin_key.token
    from django.core.management import call_command

    call_command("kustomer_setup")
    setup._secrets_cache = (0.0, [])
    settings.KUSTOMER_API_KEY = sandbox.api_key_create(roles=COPILOT_ROLES, name="copilot").token
    yield Kustomer(base_url=settings.KUSTOMER_API_BASE_URL, org=org)
    sandbox.webhook_deliveries_wait(timeout=10)


@pytest.fixture
def customer(kustomer):
    return sandbox.customer_create(name="Ada Lovelace", email="ada@example.com")
