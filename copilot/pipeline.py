"""The pipeline of a customer's message, in one place: classify → drafts → write-back.

    Kustomer webhook ──▶ inbox (stored once) ──▶ this pipeline, on a worker:
        1. intents: classify with the active model, store the prediction
        2. replies: make the reply drafts (never fails: falls back to shortcuts and templates)
        3. inbox: write the KObject, the note and the tag to Kustomer, each exactly once

Each step's state is kept on the message row, so a retried or repeated run continues where the
last one stopped. This module is the only one that knows all three: `inbox` and `replies` do not
import each other.
"""

from collections.abc import Callable

from copilot.db import connections_close_if_broken
from copilot.inbox import services as inbox
from copilot.inbox.models import InboundMessage
from copilot.integrations.http import PermanentError, RateLimited, TransientError
from copilot.integrations.kustomer import KustomerClient
from copilot.replies.selectors import top_draft_text
from copilot.replies.services import drafts_generate_for_message
from intents.prediction import NoActiveModel, classify
from intents.services import prediction_record


def message_pipeline_run(
    *,
    message_id: int,
    client_factory: Callable[[], KustomerClient] = KustomerClient.from_settings,
) -> InboundMessage | None:
    """Runs the remaining steps of one message's pipeline.

    Returns None when another worker holds the message or it is already finished. Raises
    `TransientError` (incl. `RateLimited`) for the task to retry later; marks the message failed
    on a permanent error.
    """
    message = inbox.inbound_message_lease_take(message_id=message_id)
    if message is None:
        return None
    try:
        if message.prediction is None:
            prediction = prediction_record(
                text=message.text,
                classification=classify(message.text),
                kustomer_message_id=message.kustomer_message_id,
                kustomer_conversation_id=message.conversation_id,
            )
            inbox.inbound_message_classified(message=message, prediction=prediction)
        drafts_generate_for_message(message_id=message.id)  # never raises; falls back
        with client_factory() as client:
            inbox.inbound_message_write_back(
                client=client,
                message=message,
                suggested_reply=top_draft_text(message_id=message.id, limit=1024),
            )
        inbox.inbound_message_written(message=message)
    except (PermanentError, NoActiveModel) as error:
        inbox.inbound_message_failed(message=message, reason=str(error))
    except RateLimited:
        raise
    except TransientError as error:
        inbox.inbound_message_transient_failure(message=message, reason=str(error))
        raise
    finally:
        # An error may have left the connection dead (PostgreSQL restarted, or the connection
        # ended), also one raised while recording another: release the lease on a new one, or
        # the task's retry would find its own lease held and wait all of it out (a minute).
        connections_close_if_broken()
        inbox.inbound_message_lease_release(message_id=message_id)
    return message
