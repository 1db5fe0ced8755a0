import os
import threading

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "copilot.settings")

application = get_wsgi_application()

# Load the intent model beside the first requests rather than in one of them (/readyz loads it).
from intents.prediction import warm_up  # noqa: E402 - needs the settings loaded above

threading.Thread(target=warm_up, name="intent-model-warm-up", daemon=True).start()
