import pytest

from copilot.db import create_unless_exists, insert_unless_exists
from copilot.inbox.models import KustomerEvent

pytestmark = pytest.mark.django_db


def _create(model, *, unique_field, **values):
    return create_unless_exists(model, **values)


# The second is the way taken on databases without RETURNING (SQLite before 3.35).
@pytest.mark.parametrize("insert", [insert_unless_exists, _create], ids=["returning", "create"])
def test_inserts_once_and_returns_none_for_the_existing_row(insert):
    payload = {"id": "evt-1", "data": {"attributes": {"preview": "héllo"}}}

    first = insert(
        KustomerEvent,
        unique_field="event_id",
        event_id="evt-1",
        name="a",
        status="accepted",
        payload=payload,
    )
    second = insert(
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


def test_a_field_that_is_not_unique_is_refused():
    with pytest.raises(ValueError, match=r"inbox\.KustomerEvent\.name is not unique"):
        insert_unless_exists(KustomerEvent, unique_field="name", event_id="e", name="n")
