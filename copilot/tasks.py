import socket

from celery import shared_task

from . import queueing
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
