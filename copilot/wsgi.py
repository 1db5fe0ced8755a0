import gc
import os
import threading

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "copilot.settings")

application = get_wsgi_application()

from django.urls import get_resolver  # noqa: E402 - needs the settings loaded above

from intents.prediction import warm_up  # noqa: E402

# Every view imported now rather than by the first request, then everything loaded so far set
# aside from the garbage collector: Django, the libraries and the URLs live as long as the
# process, and a full collection that scans them all (every few hundred requests) stopped a
# request for about 150 ms.
get_resolver().url_patterns  # noqa: B018 - imports the views
gc.freeze()


def _warm_up() -> None:
    warm_up()
    gc.freeze()  # the intent model, loaded once, lives as long as the process too


# Load the intent model beside the first requests rather than in one of them (/readyz loads it).
threading.Thread(target=_warm_up, name="intent-model-warm-up", daemon=True).start()
