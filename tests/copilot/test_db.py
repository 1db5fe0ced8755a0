import pytest

from copilot.db import create_unless_exists, insert_unless_exists
from copilot.inbox.models import InboundMessage
from copilot.webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db


def _create(model, *, unique_field, **values):
    return create_unless_exists(model, **values)


# The second is the way taken on databases without RETURNING (SQLite before 3.35).
@pytest.mark.parametrize("insert", [insert_unless_exists, _create], ids=["returning", "create"])
def test_inserts_once_and_returns_none_for_the_existing_row(insert):
    first = insert(
        InboundMessage,
        unique_field="kustomer_message_id",
        kustomer_message_id="m-1",
        conversation_id="c",
        customer_id="u",
        text="héllo",
    )
    second = insert(
        InboundMessage,
        unique_field="kustomer_message_id",
        kustomer_message_id="m-1",
        conversation_id="other",
        customer_id="u",
        text="b",
    )

    assert second is None
    stored = InboundMessage.objects.get()
    assert stored.pk == first
    # The first row is untouched, defaults and auto_now_add applied as save() would.
    assert (stored.conversation_id, stored.text) == ("c", "héllo")
    assert stored.status == InboundMessage.Status.RECEIVED
    assert stored.received_at is not None and stored.task_at is not None


@pytest.mark.parametrize("insert", [insert_unless_exists, _create], ids=["returning", "create"])
def test_without_a_field_any_unique_constraint_refuses_the_row(insert):
    values = {"source": "shopify", "topic": "orders/updated", "data": {"order_id": "1"}}

    first = insert(WebhookEvent, unique_field=None, external_id="a", body_sha256="x", **values)
    same_id = insert(WebhookEvent, unique_field=None, external_id="a", body_sha256="y", **values)
    same_body = insert(WebhookEvent, unique_field=None, external_id="b", body_sha256="x", **values)

    assert first is not None
    assert same_id is None and same_body is None
    assert WebhookEvent.objects.count() == 1


def test_a_field_that_is_not_unique_is_refused():
    with pytest.raises(ValueError, match=r"inbox\.InboundMessage\.text is not unique"):
        insert_unless_exists(InboundMessage, unique_field="text", text="n")


# The second is the way taken on databases other than PostgreSQL (bulk_update).
@pytest.mark.parametrize("vendor", ["postgresql", "other"])
def test_update_each_writes_every_rows_own_values_and_nothing_else(vendor, monkeypatch):
    from datetime import UTC, datetime

    from django.db import connection

    from copilot.db import update_each

    rows = [
        InboundMessage.objects.create(
            kustomer_message_id=f"m-{n}", conversation_id=f"c-{n}", customer_id="u", text="t"
        )
        for n in range(3)
    ]
    if vendor == "other":
        monkeypatch.setattr(connection, "vendor", "sqlite")
    for n, row in enumerate(rows[:2]):
        row.text = f"ünïcode {n}"
        row.conversation_id = "changed"  # not among the fields written
        row.received_at = datetime(2026, 1, n + 1, tzinfo=UTC)

    updated = update_each(InboundMessage, rows[:2], ["text", "received_at"])

    assert updated == 2
    stored = {row.kustomer_message_id: row for row in InboundMessage.objects.all()}
    assert [stored[f"m-{n}"].text for n in range(3)] == ["ünïcode 0", "ünïcode 1", "t"]
    assert stored["m-1"].received_at == datetime(2026, 1, 2, tzinfo=UTC)
    assert {stored[f"m-{n}"].conversation_id for n in range(2)} == {"c-0", "c-1"}
    assert update_each(InboundMessage, [], ["text"]) == 0
