"""Publishing queued work is bounded: a hung Redis costs a request well under a second."""

import json
import signal
import time

import pytest
import redis

from copilot import celery_app, queueing
from copilot.inbox.models import InboundMessage
from copilot.inbox.services import MESSAGE_PIPELINE
from tests.processes import RedisServer, publishing_to

pytestmark = pytest.mark.django_db(transaction=True)


def message(name: str) -> InboundMessage:
    return InboundMessage.objects.create(
        kustomer_message_id=name, conversation_id="c", customer_id="u", text="hi"
    )


def test_a_published_task_is_in_its_queue():
    redis_server = RedisServer()
    client = redis.Redis.from_url(redis_server.url)
    try:
        with publishing_to(redis_server.url):
            stored = message("published")

            queueing.enqueue_on_commit(MESSAGE_PIPELINE, stored.pk)

            assert client.llen("default") == 1
            headers = json.loads(client.lindex("default", 0))["headers"]
            assert headers["task"] == MESSAGE_PIPELINE.task
            assert headers["argsrepr"] == f"({stored.pk},)"
            stored.refresh_from_db()
            assert stored.needs_queueing is False
    finally:
        client.close()
        redis_server.stop()
    # Only these publishes wait briefly: Celery's own connections (the workers') keep theirs.
    assert celery_app.conf.broker_transport_options["socket_timeout"] == 10
    assert "max_retries" not in celery_app.conf.broker_transport_options


@pytest.mark.parametrize("connected_before", [True, False], ids=["connected", "not-connected"])
def test_a_hung_redis_holds_a_publish_under_a_second_and_leaves_it_to_the_sweep(
    connected_before,
):
    redis_server = RedisServer()
    try:
        with publishing_to(redis_server.url):
            if connected_before:
                queueing.enqueue_on_commit(MESSAGE_PIPELINE, message("before").pk)
            stored = message("while-redis-hangs")
            # Stopped, Redis still accepts connections (the kernel does) but never answers.
            redis_server.process.send_signal(signal.SIGSTOP)

            started = time.monotonic()
            queueing.enqueue_on_commit(MESSAGE_PIPELINE, stored.pk)
            elapsed = time.monotonic() - started

            assert elapsed < 1.0
            stored.refresh_from_db()
            assert stored.needs_queueing is True
    finally:
        redis_server.process.send_signal(signal.SIGCONT)
        redis_server.stop()
