"""What every vendor client shares: one error hierarchy and the retry rule that goes with it.

Transient errors (timeouts, connection failures, 429, 5xx) may succeed later and are retried by
background tasks with backoff; permanent errors (other 4xx, bad data) are not. A request that a
person waits on is never retried in line.
"""

import functools
import random
import ssl

import httpx


class IntegrationError(Exception):
    """A call to an outside service failed."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TransientError(IntegrationError):
    """Worth trying again later: a timeout, a connection failure, a 5xx or a rate limit."""


class RateLimited(TransientError):
    """The service (or our own limiter) says to wait `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: float, status: int | None = 429) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class PermanentError(IntegrationError):
    """Trying again will not help: the request was refused (4xx) or the data is wrong."""


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The process's verifying TLS context, for every httpx client we build.

    Building one loads the CA bundle, 20 to 50 ms of CPU, which each new client would otherwise
    pay: every pipeline task makes a Kustomer client. A context can be shared by any number of
    clients and threads.
    """
    return httpx.create_ssl_context()


def backoff_seconds(attempt: int, *, base: float = 2.0, cap: float = 600.0) -> float:
    """Exponential backoff with full jitter (attempt 0 → up to `base` seconds)."""
    return random.uniform(0, min(cap, base * 2**attempt))
