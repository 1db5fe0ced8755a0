import os

from celery import Celery
from celery.worker.consumer import Consumer as CeleryConsumer

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "copilot.settings")


class Consumer(CeleryConsumer):
    """Celery's consumer, made to survive losing the broker while deliveries are in flight.

    On a lost connection Celery 5.7.0 collects the connection, which lets go of its transport's
    client, and then closes it. Closing its default channel restores the deliveries not yet
    acknowledged through a Redis pool built from that client: "Unrecoverable error:
    AttributeError: 'NoneType' object has no attribute 'hostname'" (kombu's redis
    `_connparams`), and the worker exits. Letting go of the channel first does what Celery 5.6
    did: its unacknowledged deliveries come back after the broker's visibility timeout, and
    beat's sweep queues the work again sooner (tests/copilot/test_worker_survives_redis.py).
    """

    def on_connection_error_after_connected(self, exc):
        if self.connection is not None:
            self.connection._default_channel = None
        super().on_connection_error_after_connected(exc)


app = Celery("copilot")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.worker_consumer = "copilot.celery:Consumer"
app.autodiscover_tasks()
