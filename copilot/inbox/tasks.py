import random
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from copilot.integrations.http import RateLimited, TransientError, backoff_seconds

from . import services


@shared_task(bind=True, acks_late=True, max_retries=None)
def process_inbound_message(self, message_id: int) -> str:
    """Classifies one inbound message and writes the result back to Kustomer.

    A rate limit waits as long as Kustomer asks and is never given up on; other transient
    failures are retried with backoff up to KUSTOMER_MAX_RETRIES, then the message is failed.
    """
    try:
        message = services.inbound_message_process(message_id=message_id)
    except RateLimited as error:
        if self.request.is_eager:
            # Without a worker (the embedded default) there is no later: say so in the admin.
            services.inbound_message_fail(
                message_id=message_id, reason=f"{error} Retry it from the admin."
            )
            return "failed"
        # A little jitter spreads the retries of many messages over the freed slots.
        raise self.retry(countdown=error.retry_after + random.uniform(0, 1)) from None
    except TransientError as error:
        attempts = services.inbound_message_attempts(message_id=message_id)
        if attempts > settings.KUSTOMER_MAX_RETRIES or self.request.is_eager:
            services.inbound_message_fail(
                message_id=message_id,
                reason=f"Gave up after {attempts} attempts: {error}",
            )
            return "failed"
        raise self.retry(countdown=backoff_seconds(attempts)) from None
    return message.status if message else "skipped"


@shared_task
def requeue_lost_messages() -> int:
    """Run by beat every minute: queues again the messages whose task was lost (see the service)."""
    return len(
        services.inbound_messages_requeue(
            lost_after=timedelta(seconds=settings.INBOX_REQUEUE_AFTER_SECONDS),
            give_up_after=timedelta(seconds=settings.INBOX_GIVE_UP_AFTER_SECONDS),
        )
    )
