"""A real `celery worker` process on the Redis broker, writing to the shared database."""

import uuid

import pytest
import redis

from copilot import celery_app
from copilot.models import WorkerHeartbeat
from copilot.tasks import record_worker_heartbeat
from tests.processes import CeleryWorker, require_services, wait_until
from tests.worker_tasks import slow_heartbeat

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker():
    redis_url = require_services()
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield redis_url
    celery_app.conf.task_always_eager = previous


def test_worker_runs_a_task_and_writes_its_result_to_the_database(broker):
    worker = CeleryWorker(redis_url=broker, queue=f"test-{uuid.uuid4().hex}")
    try:
        record_worker_heartbeat.apply_async(queue=worker.queue)

        written = wait_until(
            lambda: WorkerHeartbeat.objects.filter(hostname=worker.name).exists(), timeout=30
        )
    finally:
        log = worker.stop()

    assert written, log
    assert " succeeded in " in log


def test_task_survives_a_worker_killed_mid_task_and_runs_once_more(broker):
    queue = f"test-{uuid.uuid4().hex}"
    attempts_key = f"attempts-{uuid.uuid4().hex}"
    counter = redis.Redis.from_url(broker)
    # Redelivery of an unacknowledged task waits for the visibility timeout: keep it short here.
    worker_env = {"CELERY_VISIBILITY_TIMEOUT": "3", "CELERY_RESTORE_INTERVAL": "1"}

    first = CeleryWorker(redis_url=broker, queue=queue, extra_env=worker_env)
    second = None
    try:
        slow_heartbeat.apply_async(
            kwargs={"hostname": "late-ack", "seconds": 2.0, "attempts_key": attempts_key},
            queue=queue,
        )
        assert wait_until(lambda: counter.get(attempts_key) == b"1", timeout=30), first.stop()
        first.kill()
        assert not WorkerHeartbeat.objects.filter(hostname="late-ack").exists()

        second = CeleryWorker(redis_url=broker, queue=queue, extra_env=worker_env)
        written = wait_until(
            lambda: WorkerHeartbeat.objects.filter(hostname="late-ack").exists(), timeout=60
        )
        # Give a wrongly duplicated delivery the time to show up before counting runs.
        wait_until(lambda: False, timeout=5)
        attempts = int(counter.get(attempts_key) or 0)
    finally:
        log = second.stop() if second else ""
        first.kill()
        counter.delete(attempts_key)

    assert written, log
    assert attempts == 2
    assert WorkerHeartbeat.objects.filter(hostname="late-ack").count() == 1


def test_a_running_worker_picks_up_a_newly_activated_model_without_restart(broker):
    from intents.models import ModelVersion, Prediction
    from intents.services import (
        examples_import,
        model_version_activate,
        model_version_create,
        model_version_train,
    )
    from intents.tasks import classify_message
    from tests.factories import labelled_rows

    examples_import(rows=labelled_rows())
    first = model_version_train(version_id=model_version_create().id)
    second = model_version_train(version_id=model_version_create().id)
    model_version_activate(version_id=first.id)
    worker = CeleryWorker(
        redis_url=broker,
        queue=f"test-{uuid.uuid4().hex}",
        extra_env={"INTENT_MODEL_REFRESH_SECONDS": "1"},
    )

    def classified_by(message_id: str) -> ModelVersion | None:
        prediction = Prediction.objects.filter(kustomer_message_id=message_id).first()
        return prediction.model_version if prediction else None

    try:
        classify_message.apply_async(args=["where is my order 1234", "m-1"], queue=worker.queue)
        assert wait_until(lambda: classified_by("m-1") is not None, timeout=30)

        model_version_activate(version_id=second.id)
        classify_message.apply_async(
            args=["where is my order 1234", "m-2"], queue=worker.queue, countdown=2
        )
        assert wait_until(lambda: classified_by("m-2") is not None, timeout=30)
    finally:
        log = worker.stop()

    assert classified_by("m-1") == first, log
    assert classified_by("m-2") == second, log
