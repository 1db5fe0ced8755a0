"""Settings for the test run: the real settings, with test defaults put in the environment first.

pytest-django imports settings before any conftest runs, so the defaults live here.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-used-anywhere-else")
# Tasks enqueued by the code under test run in process; tests that need a real worker start one.
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("CELERY_TASK_EAGER_PROPAGATES", "true")

from copilot.settings import *  # noqa: F403

# Tests serve static files from the source folders, without a `collectstatic` step.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
