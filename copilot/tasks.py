import random
import socket

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, InterfaceError

from copilot.integrations.http import RateLimited, TransientError, backoff_seconds

from . import pipeline, queueing
from .db import connections_close_if_broken
from .inbox import services as inbox
from .services import worker_heartbeat_record


@shared_task(bind=True)
def record_worker_heartbeat(self) -> int:
    hostname = self.request.hostname or socket.gethostname()
    return worker_heartbeat_record(hostname=hostname).pk


@shared_task
def sweep_queued_work() -> dict[str, int]:
    """Run by beat every COPILOT_SWEEP_SECONDS: queues the work whose task was not queued or was
    lost (see `copilot.queueing`)."""
    return queueing.work_sweep()


# Shorter than the message's lease (inbox.services.LEASE), so a run never outlives it.
@shared_task(bind=True, acks_late=True, max_retries=None, soft_time_limit=45, time_limit=50)
def run_message_pipeline(self, message_id: int) -> str:
    """Classifies one inbound message, makes its drafts and writes the result back to Kustomer.

    A rate limit waits as long as Kustomer asks and is never given up on; other transient
    failures (the vendor's, or the database restarting) are retried with backoff up to
    KUSTOMER_MAX_RETRIES, then the message is failed.
    """
    try:
        message = pipeline.message_pipeline_run(message_id=message_id)
    except RateLimited as error:
        if self.request.is_eager:
            # Without a worker (the embedded default) there is no later: say so in the admin.
            inbox.inbound_message_fail(
                message_id=message_id, reason=f"{error} Retry it from the admin."
            )
            return "failed"
        # A little jitter spreads the retries of many messages over the freed slots.
        raise self.retry(countdown=error.retry_after + random.uniform(0, 1)) from None
    except TransientError as error:
        attempts = inbox.inbound_message_attempts(message_id=message_id)
        if attempts > settings.KUSTOMER_MAX_RETRIES or self.request.is_eager:
            inbox.inbound_message_fail(
                message_id=message_id,
                reason=f"Gave up after {attempts} attempts: {error}",
            )
            return "failed"
        raise self.retry(countdown=backoff_seconds(attempts)) from None
    except (DatabaseError, InterfaceError, SoftTimeLimitExceeded):
        if self.request.is_eager:
            raise
        # The database restarting (or this connection ended), or a run too slow for its lease:
        # the lease is released (or ends), and the message is tried again shortly on a new
        # connection (the retry's publish records when it is due, so not on the dead one; Celery's
        # Django fixup closes connections before each task); the sweep is the backstop.
        connections_close_if_broken()
        raise self.retry(countdown=backoff_seconds(self.request.retries, cap=30.0)) from None
    if message is not None:
        return message.status
    wait = inbox.inbound_message_lease_wait(message_id=message_id)
    if wait and not self.request.is_eager:
        # Delivered again while a run that died still holds the lease: try once it ends rather
        # than be acknowledged with the message unfinished.
        raise self.retry(countdown=wait + 1)
    return "skipped"
