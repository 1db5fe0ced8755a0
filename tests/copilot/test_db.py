import pytest

from copilot.db import insert_unless_exists
from copilot.inbox.models import KustomerEvent

pytestmark = pytest.mark.django_db


def test_inserts_once_and_returns_none_for_the_existing_row():
    payload = {"id": "evt-1", "data": {"attributes": {"preview": "héllo"}}}

    first = insert_unless_exists(
        KustomerEvent,
        unique_field="event_id",
        event_id="evt-1",
        name="a",
        status="accepted",
        payload=payload,
    )
    second = insert_unless_exists(
        KustomerEvent,
        unique_field="event_id",
        event_id="evt-1",
        name="b",
        status="ignored",
        payload={},
    )

    assert second is None
    stored = KustomerEvent.objects.get()
    assert stored.pk == first
    # The first row is untouched, defaults and auto_now_add applied as save() would.
    assert (stored.name, stored.status, stored.payload) == ("a", "accepted", payload)
    assert stored.ignore_reason == ""
    assert stored.received_at is not None
