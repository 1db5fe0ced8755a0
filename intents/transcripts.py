"""A conversation as Kustomer has it, both ways (the customer's messages and the agents'
replies), for the labelling queue: a message often makes sense only after what the agent
asked. Read when a person asks for it, on the training UI's share of Kustomer's rate limit."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from django.core.cache import cache

from copilot.integrations.kustomer import KustomerClient

# The messages read at most (two pages), and shown around the one being labelled.
READ_AT_MOST = 200
SHOWN = 12
_CACHE_SECONDS = 5 * 60


@dataclass(frozen=True)
class TranscriptLine:
    from_customer: bool
    text: str
    sent_at: datetime | None
    is_this: bool  # the message being labelled
    automated: bool


@dataclass(frozen=True)
class Transcript:
    lines: list[TranscriptLine]
    earlier: int  # messages before the first line shown
    later: int  # messages after the last line shown


def conversation_transcript(
    *, client_factory: Callable[[], KustomerClient], conversation_id: str, message_id: str
) -> Transcript:
    """The conversation's messages around `message_id`, oldest first. Kept for a few minutes,
    so that undo and going back ask Kustomer nothing. Raises the client's errors."""
    key = f"intents:transcript:{conversation_id}"
    messages = cache.get(key)
    if messages is None:
        with client_factory() as client:
            read = list(islice(client.iter_messages(conversation_id), READ_AT_MOST))
        read.sort(key=lambda message: (message.sent_at is None, message.sent_at))
        messages = [
            (m.id, m.direction == "in", m.text, m.sent_at, m.automated) for m in read if m.text
        ]
        cache.set(key, messages, _CACHE_SECONDS)
    at = next((i for i, m in enumerate(messages) if m[0] == message_id), len(messages) - 1)
    first = max(0, min(at - SHOWN // 2, len(messages) - SHOWN))
    shown = messages[first : first + SHOWN]
    return Transcript(
        lines=[
            TranscriptLine(from_customer, text, sent_at, message_id == mid, automated)
            for mid, from_customer, text, sent_at, automated in shown
        ],
        earlier=first,
        later=max(0, len(messages) - first - len(shown)),
    )
