"""Background work of the commerce app: thin wrappers that call one service each and retry only
what is transient (rate limits, timeouts, 5xx), with backoff.

`execute_order_action`, `follow_order_cancel` and `write_action_note` are queued through
`copilot.queueing` (see `action_lifecycle`), so the sweep queues them again when they are lost;
each claims or checks its row first, so a second copy acts once."""

import logging

from celery import shared_task

from copilot.integrations.http import (
    IntegrationError,
    RateLimited,
    TransientError,
    backoff_seconds,
)

from . import services

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, max_retries=5)
def refresh_customer_orders(self, store_id: int, email: str) -> None:
    """Fills the cache for a customer whose card found the store busy or unreachable."""
    try:
        services.customer_orders_refresh(store_id=store_id, email=email)
    except RateLimited as error:
        raise self.retry(exc=error, countdown=error.retry_after) from None
    except TransientError as error:
        raise self.retry(exc=error, countdown=backoff_seconds(self.request.retries)) from None


@shared_task(bind=True, acks_late=True, max_retries=12)
def execute_order_action(self, action_id: int) -> None:
    """Sends an approved refund, or an action whose first attempt Shopify did not confirm."""
    try:
        services.order_action_execute(action_id=action_id)
    except services.RetryLater as later:
        if self.request.retries >= self.max_retries:
            services.order_action_give_up(action_id=action_id)
            return
        countdown = max(later.countdown, backoff_seconds(self.request.retries, base=1.0))
        raise self.retry(countdown=countdown) from None


@shared_task(bind=True, acks_late=True, max_retries=60)
def follow_order_cancel(self, action_id: int) -> None:
    """Follows Shopify's asynchronous cancellation job until it is done."""
    try:
        done = services.order_cancel_follow(action_id=action_id)
    except TransientError as error:
        countdown = error.retry_after if isinstance(error, RateLimited) else 5.0
        raise self.retry(exc=error, countdown=countdown) from None
    if not done:
        raise self.retry(countdown=5.0)


@shared_task(bind=True, acks_late=True, max_retries=8)
def write_action_note(self, audit_id: int) -> None:
    """Writes the internal note of an action on its Kustomer conversation, once per state: the
    note's externalId carries the audit row id, so a retry cannot write a second note."""
    from copilot.integrations.kustomer import KustomerClient

    try:
        with KustomerClient.from_settings() as client:
            services.order_action_note_write(action_id=audit_id, client=client)
    except IntegrationError as error:
        if isinstance(error, TransientError) and self.request.retries < self.max_retries:
            countdown = (
                error.retry_after
                if isinstance(error, RateLimited)
                else backoff_seconds(self.request.retries)
            )
            raise self.retry(exc=error, countdown=countdown) from None
        # Refused, or still failing after every retry: the note is given up, and the row says so
        # (the sweep only queues notes whose task was lost).
        logger.warning("note of order action %s not written: %s", audit_id, error)
        services.order_action_note_failed(action_id=audit_id, error=str(error))
