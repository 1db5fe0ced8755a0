import io
import logging
import re

import pytest
from django.conf import settings

from copilot.observability import ContextFilter


@pytest.fixture
def request_log():
    """The request logger's output, formatted exactly as the configured console handler does."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(settings.LOGGING["formatters"]["line"]["format"]))
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("copilot.request")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def test_each_request_is_logged_once_with_its_id_and_duration(client, request_log):
    response = client.get("/healthz?token=super-secret-value", HTTP_X_REQUEST_ID="req-12345678")

    assert response["X-Request-ID"] == "req-12345678"
    lines = request_log.getvalue().splitlines()
    assert len(lines) == 1
    assert re.search(r"INFO copilot.request \[req-12345678\] GET /healthz 200 \d+\.\dms$", lines[0])
    assert "super-secret-value" not in request_log.getvalue()


def test_an_unsafe_incoming_request_id_is_replaced(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")

    assert response["X-Request-ID"] != "bad id\nwith newline"
    assert len(response["X-Request-ID"]) == 32


def test_a_task_run_in_a_request_logs_with_its_id_and_gives_the_request_its_id_back(
    request_log,
):
    from copilot import celery_app
    from copilot.observability import context_id

    @celery_app.task(name="tests.echo_context")
    def echo_context():
        return context_id.get()

    token = context_id.set("request-1234")
    try:
        task_seen = echo_context.apply().get()
        after = context_id.get()
    finally:
        context_id.reset(token)

    assert task_seen not in ("request-1234", "-")
    assert after == "request-1234"
