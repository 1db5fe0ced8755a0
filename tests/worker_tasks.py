"""Tasks loaded only by the test worker (`celery worker --include tests.worker_tasks`)."""

import os
import time

import redis
from celery import shared_task

from copilot.services import worker_heartbeat_record


@shared_task(bind=True)
def slow_heartbeat(self, *, hostname: str, seconds: float, attempts_key: str) -> None:
    """Counts its runs in Redis, sleeps so a test can kill the worker mid-task, then writes."""
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.incr(attempts_key)
    time.sleep(seconds)
    worker_heartbeat_record(hostname=hostname)


@shared_task(acks_late=True)
def acknowledged_after_running(seconds: float) -> None:
    """Acknowledged only once it has run (as every task of the pipeline is), so a test that stops
    the broker catches deliveries in flight: received by the worker, not yet acknowledged."""
    time.sleep(seconds)
