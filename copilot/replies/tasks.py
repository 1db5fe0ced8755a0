from celery import shared_task

from . import services


@shared_task(acks_late=True)
def regenerate_drafts(message_id: int, generation: int) -> int:
    """Makes the new set of drafts the card asked for (`services.DRAFT_REGENERATION`, whose row
    is keyed by the message); safe to run twice (one set per generation). Never fails for a
    vendor's sake, so it has nothing to retry."""
    return len(services.drafts_regenerate(message_id=message_id, generation=generation))
