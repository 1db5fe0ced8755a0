import pytest
from django.core.management import CommandError, call_command

from copilot.inbox.models import WebhookSubscription
from copilot.sandbox.kustomer import selectors as sandbox_selectors
from copilot.sandbox.kustomer import services as sandbox
from intents.models import Intent, ModelVersion

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(settings, tmp_path):
    settings.DEMO_MODE = True
    settings.COPILOT_SANDBOX = True
    settings.DATA_DIR = tmp_path
    settings.KUSTOMER_API_KEY = ""
    return tmp_path


def test_demo_setup_prepares_everything_and_can_run_again(demo, capsys):
    call_command("demo_setup")
    call_command("demo_setup")

    active = ModelVersion.objects.get(status=ModelVersion.Status.ACTIVE)
    assert ModelVersion.objects.count() == 1
    assert Intent.objects.count() >= 20
    assert active.metrics["accuracy"] > 0.6
    org = sandbox.org_get_or_create()
    assert [klass.name for klass in sandbox_selectors.klasses(org=org)] == ["copilot_insight"]
    assert WebhookSubscription.objects.count() == 1
    key = (demo / "demo.env").read_text()
    assert key.startswith("KUSTOMER_API_KEY=") and len(key) > 40
    assert "user admin, password admin" in capsys.readouterr().out


def test_demo_setup_points_the_webhook_at_the_address_the_demo_now_serves_on(demo, settings):
    settings.COPILOT_PUBLIC_URL = "http://127.0.0.1:8000"
    call_command("demo_setup")
    settings.COPILOT_PUBLIC_URL = "http://127.0.0.1:8765"

    call_command("demo_setup")

    webhooks = sandbox_selectors.outbound_webhooks(org=sandbox.org_get_or_create())
    assert [hook.url for hook in webhooks] == ["http://127.0.0.1:8765/kustomer/webhooks/"]
    subscription = WebhookSubscription.objects.get()
    assert subscription.url == "http://127.0.0.1:8765/kustomer/webhooks/"
    # Deliveries to the new address are signed with the token kept the first time.
    assert subscription.token == webhooks[0].token


def test_demo_setup_refuses_to_run_outside_the_demo(settings):
    settings.DEMO_MODE = False

    with pytest.raises(CommandError, match="COPILOT_DEMO=true"):
        call_command("demo_setup")
