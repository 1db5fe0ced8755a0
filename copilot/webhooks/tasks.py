from celery import shared_task

from copilot.integrations.http import RateLimited, TransientError, backoff_seconds

from . import services


@shared_task(bind=True, acks_late=True, max_retries=8)
def process_webhook_event(self, event_id: int) -> str:
    """Processes one stored delivery; transient vendor errors are retried with backoff, and
    beat's sweep queues the event again if the retries are lost."""
    try:
        return services.webhook_event_process(event_id=event_id)
    except RateLimited as error:
        raise self.retry(countdown=error.retry_after) from None
    except TransientError:
        raise self.retry(countdown=backoff_seconds(self.request.retries)) from None
