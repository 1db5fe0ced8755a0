"""What the web server loads (copilot/wsgi.py), in a process of its own as gunicorn's worker."""

import os
import subprocess
import sys

from tests.processes import PROJECT_ROOT

# After loading the app: whether the views are imported, and how many objects are left for the
# garbage collector's full passes compared with the ones set aside.
PROBE = """
import gc, sys
import copilot.wsgi
print("intents.views" in sys.modules, gc.get_freeze_count(), len(gc.get_objects()))
"""


def test_loading_the_app_imports_the_views_and_sets_them_aside_from_full_collections():
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=PROJECT_ROOT,
        env={**os.environ, "COPILOT_DEMO": "true", "DJANGO_SETTINGS_MODULE": "copilot.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    views_loaded, frozen, scanned = result.stdout.split()
    assert views_loaded == "True"
    # Django and the libraries: tens of thousands of objects no full collection walks again.
    assert int(frozen) > 50_000
    assert int(scanned) < int(frozen) / 5
