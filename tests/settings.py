"""Settings for the test run: the real settings, with test defaults put in the environment first.

pytest-django imports settings before any conftest runs, so the defaults live here.
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-used-anywhere-else")
# Tasks enqueued by the code under test run in process; tests that need a real worker start one.
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("CELERY_TASK_EAGER_PROPAGATES", "true")
# The fake vendors are mounted so that tests talk to them over real HTTP.
os.environ.setdefault("COPILOT_SANDBOX", "true")
os.environ.setdefault(
    "SHOPIFY_TOKEN_ENCRYPTION_KEY", "dGVzdC1vbmx5LXNob3BpZnktdG9rZW4ta2V5LTMyYnk="
)
os.environ.setdefault("SHOPIFY_WEBHOOK_SECRET", "test-shopify-webhook-secret")
# The live server answers each keep-alive connection on a thread of its own, which would keep its
# database connection open, and the test database could not be dropped at the end of the run.
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "0")

from copilot.settings import *  # noqa: F403

# Tests serve static files from the source folders, without a `collectstatic` step.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# SQLite's shared in-memory test database fails at once ("table is locked") when the live
# server's threads write concurrently; a file database waits for the lock like production does.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # One file per test run, so that runs side by side do not share it.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(Path(tempfile.gettempdir()) / f"copilot-test-{os.getpid()}.sqlite3")
    }
