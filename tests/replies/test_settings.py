"""The model settings at start-up (a process of its own, as in tests/copilot/test_settings.py)."""

import os
import subprocess
import sys

from tests.processes import PROJECT_ROOT


def read_settings(code: str, **overrides: str) -> subprocess.CompletedProcess:
    """Imports the settings module alone (what start-up does first), then runs `code`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OPENAI_", "COPILOT_DEMO", "REPLIES_"))
    }
    env.update(overrides)
    return subprocess.run(
        [sys.executable, "-c", f"from copilot import settings; {code}"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_model_url_without_a_key_stops_start_up_naming_it():
    result = read_settings(
        "print('read')",
        DJANGO_SECRET_KEY="x",
        OPENAI_BASE_URL="https://api.openai.com/v1",
    )

    assert result.returncode != 0
    assert "OPENAI_API_KEY is not set" in result.stderr


def test_the_demo_talks_to_the_fake_model_and_production_to_none_by_default():
    show = "print(repr(settings.OPENAI_BASE_URL))"

    demo = read_settings(show, COPILOT_DEMO="true", COPILOT_PUBLIC_URL="http://demo:8000")
    production = read_settings(show, DJANGO_SECRET_KEY="x", SHOPIFY_TOKEN_ENCRYPTION_KEY="k")

    assert demo.stdout.strip() == "'http://demo:8000/sandbox/llm/v1'", demo.stderr
    assert production.stdout.strip() == "''", production.stderr
