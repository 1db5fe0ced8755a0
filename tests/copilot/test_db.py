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
