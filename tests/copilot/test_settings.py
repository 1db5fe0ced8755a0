import os
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
