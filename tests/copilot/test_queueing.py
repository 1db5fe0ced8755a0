"""The sweep queues what was not queued or was lost, and nothing else."""

from datetime import timedelta

import pytest
from celery.signals import before_task_publish
from django.utils import timezone

from copilot import queueing
from copilot.inbox.models import InboundMessage

pytestmark = pytest.mark.django_db

PIPELINE = "copilot.tasks.run_message_pipeline"


def message(name: str, **fields) -> InboundMessage:
    return InboundMessage.objects.create(
        kustomer_message_id=name, conversation_id="c", customer_id="u", text="hi", **fields
    )


def test_a_backlog_is_not_taken_for_lost_tasks(broker, monkeypatch):
    waiting = message("waiting-in-a-long-queue", task_at=timezone.now() - timedelta(minutes=5))
    unpublished = message("publish-failed", needs_queueing=True)
    monkeypatch.setattr(queueing, "_queue_is_empty", lambda queue: False)

    assert queueing.work_sweep() == {"inbound message": 1}

    assert broker.tasks(PIPELINE) == [(unpublished.pk,)]
    monkeypatch.setattr(queueing, "_queue_is_empty", lambda queue: True)
    assert queueing.work_sweep() == {"inbound message": 1}
    assert broker.tasks(PIPELINE)[-1] == (waiting.pk,)


def test_a_task_retried_later_is_not_lost_before_it_is_due(broker):
    retried = message("rate-limited", task_at=timezone.now() - timedelta(minutes=5))
    due = timezone.now() + timedelta(minutes=3)

    # What Celery publishes for `self.retry(countdown=180)`.
    before_task_publish.send(
        sender=PIPELINE, body=((retried.pk,), {}, {}), headers={"eta": due.isoformat()}
    )

    retried.refresh_from_db()
    assert retried.task_at == due
    assert queueing.work_sweep() == {}


def test_the_broker_queue_is_read_from_redis(settings):
    import redis

    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL (a real Redis)")
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.lpush("sweep-test-queue", "a task")
    try:
        assert queueing._queue_is_empty("sweep-test-queue") is False
    finally:
        client.delete("sweep-test-queue")
    assert queueing._queue_is_empty("sweep-test-queue") is True
