import re
from io import StringIO

import httpx
import pytest
from django.core.management import CommandError, call_command

from copilot.inbox.models import WebhookSubscription
from copilot.sandbox.kustomer import models as kustomer_models
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


def test_the_printed_workspace_address_and_sign_ins_work_as_printed(demo, settings, live_server):
    # Given the demo served where `make run` serves it (127.0.0.1 and a port).
    port = live_server.thread.port
    settings.COPILOT_PUBLIC_URL = f"http://127.0.0.1:{port}"
    settings.KUSTOMER_FRAME_ANCESTORS = [f"http://localhost:{port}"]
    settings.CSRF_COOKIE_SECURE = False
    settings.SESSION_COOKIE_SECURE = False
    output = StringIO()

    call_command("demo_setup", stdout=output)

    printed = output.getvalue()
    workspace_url = re.search(r"Open the workspace: (\S+)", printed).group(1)
    assert workspace_url == f"http://localhost:{port}/sandbox/kustomer/workspace/"
    examples = int(re.search(r"pick one of (\d+) scripted examples", printed).group(1))
    people = re.search(r"Sign in with Kustomer as (.+) \(agent\) or (.+) \(supervisor\)", printed)
    admin_url, username, password = re.search(
        r"Staff pages: (\S+) .*\(user (\w+), password (\w+)\)", printed
    ).groups()

    # The workspace opens on the localhost name and frames the card from 127.0.0.1.
    page = httpx.get(workspace_url, timeout=10)
    assert page.status_code == 200
    assert "Ada Lovelace" in page.text and "grace@example.com" in page.text
    assert f'data-src="http://127.0.0.1:{port}/card/?parentUrl=' in page.text
    assert page.text.count("data-example=") == examples
    # The card's pop-up offers the two people printed, and accepts the card's callback address.
    org = sandbox.org_get_or_create()
    assert {user.name for user in kustomer_models.User.objects.filter(org=org)} >= {
        people.group(1),
        people.group(2),
    }
    app = kustomer_models.App.objects.get(org=org, name="copilot")
    assert f"http://127.0.0.1:{port}/card/oauth/callback" in app.redirect_uris
    # The staff sign-in printed opens the admin.
    with httpx.Client(base_url=admin_url, timeout=10) as client:
        login = client.get("login/")
        answer = client.post(
            "login/?next=/admin/",
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": client.cookies["csrftoken"],
                "next": "/admin/",
            },
            headers={"Referer": str(login.url)},
        )
        assert answer.status_code == 302 and answer.headers["location"] == "/admin/"
        assert "Site administration" in client.get("").text
