import socket

from celery import shared_task

from .services import worker_heartbeat_record


@shared_task(bind=True)
def record_worker_heartbeat(self) -> int:
    hostname = self.request.hostname or socket.gethostname()
    return worker_heartbeat_record(hostname=hostname).pk
