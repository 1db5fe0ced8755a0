"""One log line per request and per task, each tagged with its request or task id.

Only method, path, status and duration are logged: query strings, headers and bodies can carry
tokens and customer text, so they never reach the log.
"""

import contextvars
import logging
import re
import time
import uuid

from celery import signals

request_log = logging.getLogger("copilot.request")
task_log = logging.getLogger("copilot.task")

context_id: contextvars.ContextVar[str] = contextvars.ContextVar("context_id", default="-")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class ContextFilter(logging.Filter):
    """Adds `context_id` (the current request or task id) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.context_id = context_id.get()
        return True


class RequestLogMiddleware:
    """Gives each request an id (kept from a sane incoming `X-Request-ID`) and logs it once."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = context_id.set(request_id)
        request.request_id = request_id
        started = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            response["X-Request-ID"] = request_id
            return response
        finally:
            duration_ms = (time.perf_counter() - started) * 1000
            request_log.info("%s %s %s %.1fms", request.method, request.path, status, duration_ms)
            context_id.reset(token)


_task_started: dict[str, tuple[float, contextvars.Token]] = {}


@signals.task_prerun.connect
def _task_prerun(task_id=None, task=None, **_):
    _task_started[task_id] = (time.perf_counter(), context_id.set(task_id or "-"))


@signals.task_postrun.connect
def _task_postrun(task_id=None, task=None, state=None, **_):
    started, token = _task_started.pop(task_id, (None, None))
    duration_ms = (time.perf_counter() - started) * 1000 if started else 0.0
    task_log.info("%s %s %.1fms", task.name if task else "?", state, duration_ms)
    if token is not None:
        # A task run in process inside a request gives the request its own id back.
        context_id.reset(token)
