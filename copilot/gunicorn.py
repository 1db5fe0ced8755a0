"""gunicorn's settings for the web process: `gunicorn -c python:copilot.gunicorn copilot.wsgi`.

Every value can be changed from the environment (GUNICORN_*, PORT, HOST, WEB_CONCURRENCY); the
defaults keep webhook intake answering in milliseconds while a few clients send their requests
slowly or Redis hangs. Only the standard library is imported: gunicorn reads this module before
it loads Django.
"""

import os


def _number(name: str, default: int, *, fallback: str = "") -> int:
    return int(os.environ.get(name) or (fallback and os.environ.get(fallback)) or default)


# Loopback by default, for the buffering proxy in front on the same machine; HOST=0.0.0.0 where
# it is elsewhere (a container, a remote load balancer); GUNICORN_BIND for a unix socket.
bind = os.environ.get("GUNICORN_BIND") or (
    f"{os.environ.get('HOST') or '127.0.0.1'}:{os.environ.get('PORT') or '8000'}"
)

# Threads, not one request per process: a client that sends its body slowly holds one thread
# while the others answer everyone else (a `sync` worker is held whole, until `timeout` kills it).
worker_class = "gthread"
# Each worker holds the intent model (about 55 MB) and uses at most one core: one per core up to
# four, and at least two, so a restarting worker (max_requests) leaves one answering.
workers = _number(
    "GUNICORN_WORKERS", max(2, min(os.cpu_count() or 1, 4)), fallback="WEB_CONCURRENCY"
)
# Requests served at once per worker, slow senders included. Each thread keeps one PostgreSQL
# connection (DATABASE_CONN_MAX_AGE), so a web machine opens up to workers x threads of them;
# at most 10, the broker connections a process pools (CELERY_BROKER_POOL_LIMIT), so that a
# publish never waits for one.
threads = _number("GUNICORN_THREADS", 8)

# A gthread worker reports to the master from its main loop whatever its threads do, so this
# only ends a worker that is stuck as a whole; it does not cut slow requests short.
timeout = _number("GUNICORN_TIMEOUT", 30)
# In-flight requests finish on a restart or deploy; below systemd's TimeoutStopSec (35 s), so
# gunicorn, not a SIGKILL, ends what is left.
graceful_timeout = _number("GUNICORN_GRACEFUL_TIMEOUT", 25)
# An idle kept-alive connection waits in the worker's poller, not on a thread: a sender posting
# in bursts reuses it. Behind a load balancer that keeps connections open, set it above the
# balancer's idle timeout (for example 75 behind one that waits 60), or it answers 502s.
keepalive = _number("GUNICORN_KEEPALIVE", 5)

# Bounded request heads (a 400 beyond them): our URLs are short, webhook and browser requests
# send a few dozen headers; gunicorn's defaults, written here so that they are chosen.
limit_request_line = _number("GUNICORN_LIMIT_REQUEST_LINE", 4094)
limit_request_fields = _number("GUNICORN_LIMIT_REQUEST_FIELDS", 100)
limit_request_field_size = _number("GUNICORN_LIMIT_REQUEST_FIELD_SIZE", 8190)

# Each worker is replaced after this many requests (0: never), so memory that grows slowly is
# given back; the jitter keeps the workers from restarting together.
max_requests = _number("GUNICORN_MAX_REQUESTS", 10000)
max_requests_jitter = _number("GUNICORN_MAX_REQUESTS_JITTER", 1000)

# The app logs one line per request (copilot.observability) without the query string, which can
# carry a token; gunicorn's access log would write it. GUNICORN_ACCESS_LOG=- sends it to stdout.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
# Errors to stderr, which systemd's journal (or the container runtime) keeps.
errorlog = "-"
loglevel = (os.environ.get("LOG_LEVEL") or "info").lower()

# Not used here, and a unit with ProtectHome=true could not create it in $HOME anyway.
control_socket_disable = True
