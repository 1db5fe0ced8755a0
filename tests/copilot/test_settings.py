import json
import os
import re
import subprocess
import sys

from django.conf import settings

from tests.processes import PROJECT_ROOT


def _start_django(env_overrides: dict[str, str]) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SECRET_KEY", "COPILOT_DEMO"}
    }
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=PROJECT_ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "copilot.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_secret_stops_start_up_naming_it():
    result = _start_django({})

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
    assert "started" not in result.stdout


def test_demo_mode_starts_without_any_secret():
    result = _start_django({"COPILOT_DEMO": "true"})

    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_every_beat_entry_names_a_registered_task():
    from copilot.celery import app

    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert "copilot.tasks.sweep_queued_work" in scheduled
    assert scheduled <= set(app.tasks)


def test_check_deploy_is_clean_in_production_settings(tmp_path):
    """`manage.py check --deploy` with production settings: no warning left but those silenced
    on purpose (written down in settings.py)."""
    import os
    import secrets
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "copilot.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "DJANGO_ALLOWED_HOSTS": "copilot.example.com",
        "DJANGO_BEHIND_PROXY": "true",
        "SHOPIFY_TOKEN_ENCRYPTION_KEY": "dGVzdC1vbmx5LXNob3BpZnktdG9rZW4ta2V5LTMyYnk=",
        "SHOPIFY_WEBHOOK_SECRET": "a-webhook-secret",
        "COPILOT_DATA_DIR": str(tmp_path),
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


# Run in a fresh process: which apps are installed is decided once, when settings load.
ADMIN_PAGES = """
import json
import sys

import django

django.setup()
from django.contrib.auth import get_user_model
from django.core.management import call_command, load_command_class
from django.db import connection
from django.test import Client

from copilot.celery import app

call_command("migrate", verbosity=0)
client = Client()
client.force_login(get_user_model().objects.create_superuser("admin", "a@example.com", "admin"))
pages = {
    "admin_index": client.get("/admin/").content.decode(),
    "fake_shopify_admin": client.get("/admin/sandbox_shopify/").status_code,
    "fake_kustomer_api": client.get("/sandbox/kustomer/_control/customers").status_code,
}
app.loader.import_default_modules()
load_command_class("copilot", "demo_setup")
print(json.dumps({
    **pages,
    "tables": [name for name in connection.introspection.table_names() if "sandbox" in name],
    "modules": sorted(name for name in sys.modules if name.startswith("copilot.sandbox")),
}))
"""


def _run_with_sandbox(tmp_path, *, sandbox: bool, args: list[str]) -> str:
    """Runs `python <args>` outside the demo, on a SQLite database of its own."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "copilot.settings",
        "DJANGO_SECRET_KEY": "a-secret-key-for-this-test-only",
        "SHOPIFY_TOKEN_ENCRYPTION_KEY": "dGVzdC1vbmx5LXNob3BpZnktdG9rZW4ta2V5LTMyYnk=",
        "SHOPIFY_WEBHOOK_SECRET": "a-webhook-secret",
        "COPILOT_DATA_DIR": str(tmp_path),
        "COPILOT_SANDBOX": "true" if sandbox else "false",
        # The test client's host, and static files served without a collectstatic manifest.
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DJANGO_DEBUG": "true",
    }
    result = subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_without_the_sandbox_no_fake_is_migrated_or_shown_in_the_admin(tmp_path):
    migrations = _run_with_sandbox(tmp_path, sandbox=False, args=["manage.py", "showmigrations"])
    pages = json.loads(_run_with_sandbox(tmp_path, sandbox=False, args=["-c", ADMIN_PAGES]))

    assert "inbox" in migrations
    assert "sandbox" not in migrations
    assert pages["tables"] == []
    assert "/admin/inbox/" in pages["admin_index"]
    assert "sandbox" not in pages["admin_index"].lower()
    assert pages["fake_shopify_admin"] == 404
    assert pages["fake_kustomer_api"] == 404
    # Nothing the product loads (URLs, admin, tasks, commands) imports a fake.
    assert pages["modules"] == []


def test_with_the_sandbox_the_fakes_are_migrated_served_and_shown_in_the_admin(tmp_path):
    migrations = _run_with_sandbox(tmp_path, sandbox=True, args=["manage.py", "showmigrations"])
    pages = json.loads(_run_with_sandbox(tmp_path, sandbox=True, args=["-c", ADMIN_PAGES]))

    for label in ("sandbox_kustomer", "sandbox_shopify", "sandbox_llm"):
        assert f"\n{label}\n" in migrations
        assert f"/admin/{label}/" in pages["admin_index"]
    assert "sandbox_kustomer_outboundwebhook" in pages["tables"]
    assert pages["fake_shopify_admin"] == 200
    assert pages["fake_kustomer_api"] == 200


def test_every_setting_read_from_the_environment_is_documented_in_env_example():
    root = PROJECT_ROOT
    read = set(
        re.findall(
            r'env\.(?:str|int|bool|float|list|json|url)\(\s*"([A-Z0-9_]+)"',
            (root / "copilot" / "settings.py").read_text(),
        )
    )
    documented = set(
        re.findall(r"^#? ?([A-Z0-9_]+)=", (root / ".env.example").read_text(), re.MULTILINE)
    )

    assert read, "no setting found: the pattern no longer matches settings.py"
    assert read - documented == set(), "add these to .env.example, with a comment"
