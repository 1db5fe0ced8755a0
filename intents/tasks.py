from celery import shared_task
from celery.signals import worker_process_init

from . import promotion, services
from .prediction import classify, warm_up


@shared_task(acks_late=True)
def train_model_version(version_id: int) -> str:
    """Runs on the `training` queue (see CELERY_TASK_ROUTES), apart from message work; a trained
    version is then measured and, when allowed and good enough, promoted."""
    version = services.model_version_train(version_id=version_id)
    if version.status == version.Status.READY:
        version = promotion.model_version_consider(version_id=version.pk)
    return version.status


@shared_task
def retrain_when_due() -> int | None:
    """Beat's check for a scheduled or label-driven training run; the version number queued."""
    version = promotion.retrain_when_due()
    return version.number if version else None


@shared_task(acks_late=True)
def classify_message(
    text: str, kustomer_message_id: str = "", kustomer_conversation_id: str = ""
) -> int:
    """Classifies one message with the active model and stores the prediction."""
    prediction = services.prediction_record(
        text=text,
        classification=classify(text),
        kustomer_message_id=kustomer_message_id,
        kustomer_conversation_id=kustomer_conversation_id,
    )
    return prediction.pk


@worker_process_init.connect
def _load_the_active_model(**_) -> None:
    """Each worker process loads the model when it starts, not on its first message."""
    warm_up()
