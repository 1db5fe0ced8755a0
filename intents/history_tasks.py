"""The task that imports past Kustomer conversations (intents/history_import.py).

It runs on the `training` queue (CELERY_TASK_ROUTES), never on the live pipeline's default
queue, and registers with the sweep as HISTORY_IMPORT_RUN (intents/apps.py).
"""

import logging
import time

from celery import current_app, shared_task

from copilot import queueing

from . import history_import
from .models import HistoryImport

logger = logging.getLogger(__name__)

# In process (no broker), a wait is slept through; with a worker it is a countdown.
LONGEST_SLEEP_SECONDS = 60.0


@shared_task(acks_late=True)
def import_kustomer_history(history_import_id: int) -> str:
    """Runs one slice of the import and, when it is to go on, queues the next one."""
    while True:
        outcome = history_import.history_import_run(history_import_id=history_import_id)
        if outcome.again_after is None:
            return outcome.status
        wait = outcome.again_after
        if current_app.conf.task_always_eager or wait <= history_import.SHORT_WAIT_SECONDS:
            time.sleep(min(wait, LONGEST_SLEEP_SECONDS))
            continue
        _continue_later(history_import_id, countdown=wait)
        return outcome.status


def _continue_later(history_import_id: int, *, countdown: float) -> None:
    try:
        import_kustomer_history.apply_async(args=[history_import_id], countdown=countdown)
    except queueing.BROKER_ERRORS as error:
        # The row is queued: the sweep publishes it at its next run.
        HistoryImport.objects.filter(pk=history_import_id).update(needs_queueing=True)
        logger.warning(
            "Kustomer import %s could not be queued again (%s); the sweep will",
            history_import_id,
            type(error).__name__,
        )
