import copy
import hashlib
import hmac
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from copilot.agents import Agent
from copilot.inbox.models import InboundMessage
from copilot.integrations.http import RateLimited
from copilot.pipeline import message_pipeline_run
from copilot.queueing import work_sweep
from copilot.replies.feedback import draft_feedback_record
from copilot.replies.models import Draft
from copilot.webhooks.models import WebhookEvent

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kustomer"
SECRET = "whsec-current"
OLD_SECRET = "whsec-previous"
URL = "/kustomer/webhooks/"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(client, payload, *, secret: str | None = SECRET, raw: bytes | None = None):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {"HTTP_X_KUSTOMER_WEBHOOK_EVENT": "kustomer.message.create"}
    if secret is not None:
        headers["HTTP_X_KUSTOMER_WEBHOOK_SIGNATURE"] = sign(body, secret)
    return client.post(URL, data=body, content_type="application/json", **headers)


PIPELINE = "copilot.tasks.run_message_pipeline"


@pytest.fixture(autouse=True)
def _webhook_settings(settings, broker):
    settings.KUSTOMER_WEBHOOK_SECRET = [SECRET, OLD_SECRET]
    settings.KUSTOMER_WEBHOOK_MAX_BYTES = 64 * 1024
    # Receiving is what is tested here: the queued pipeline task is recorded, not run.
    return broker


@pytest.mark.django_db(transaction=True)
def test_inbound_message_is_stored_and_queued_once(client, _webhook_settings):
    response = deliver(client, fixture("message_create_in"))

    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}
    message = InboundMessage.objects.get()
    assert message.kustomer_message_id == "6742c1f0a3b5e2001a7f9b77"
    assert message.conversation_id == "6742c1efa3b5e2001a7f9b70"
    assert message.customer_id == "6742b9e0a3b5e2001a7f9a10"
    assert message.text.startswith("Order #1042\nHi, the label for order #1042")
    assert message.status == InboundMessage.Status.RECEIVED
    assert _webhook_settings.tasks(PIPELINE) == [(message.id,)]


@pytest.mark.django_db(transaction=True)
def test_duplicate_delivery_is_a_no_op(client, _webhook_settings):
    payload = fixture("message_create_in")

    first = deliver(client, payload)
    second = deliver(client, payload)

    assert first.json()["status"] == "accepted"
    assert second.status_code == 200
    assert second.json()["status"] == "duplicate"
    assert InboundMessage.objects.count() == 1
    assert WebhookEvent.objects.count() == 1
    assert len(_webhook_settings.tasks(PIPELINE)) == 1


@pytest.mark.django_db(transaction=True)
def test_same_message_under_a_new_event_id_is_not_processed_twice(client, _webhook_settings):
    payload = fixture("message_create_in")
    redelivered = copy.deepcopy(payload)
    redelivered["id"] = "6742c1f0a3b5e2001a7f9cff"

    deliver(client, payload)
    response = deliver(client, redelivered)

    assert response.json()["status"] == "duplicate"
    assert InboundMessage.objects.count() == 1
    assert len(_webhook_settings.tasks(PIPELINE)) == 1


@pytest.mark.django_db(transaction=True)
def test_a_delivery_is_kept_when_the_broker_is_down_and_queued_by_the_next_sweep(
    client, broker, caplog
):
    broker.down = True

    response = deliver(client, fixture("message_create_in"))

    # Stored, so Kustomer must not resend; saying 200 is right.
    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}
    message = InboundMessage.objects.get()
    assert message.status == InboundMessage.Status.RECEIVED
    assert message.needs_queueing
    assert f"inbound message {message.pk} is stored but its task could not be queued" in (
        caplog.text
    )
    # Nothing of the customer's text reaches the log.
    assert "label" not in caplog.text

    broker.down = False
    assert work_sweep() == {"inbound message": 1}
    assert broker.tasks(PIPELINE) == [(message.pk,)]
    message.refresh_from_db()
    assert not message.needs_queueing
    assert work_sweep() == {}


def _message(name, **fields):
    received_at = fields.pop("received_at", None)
    message = InboundMessage.objects.create(
        kustomer_message_id=name, conversation_id="c", customer_id="u", text="hi", **fields
    )
    if received_at:
        InboundMessage.objects.filter(pk=message.pk).update(received_at=received_at)
    return message


@pytest.mark.django_db
def test_the_sweep_requeues_only_unfinished_messages_without_a_task_for_a_minute(
    _webhook_settings,
):
    now = timezone.now()
    late = now - timedelta(seconds=90)
    Status = InboundMessage.Status

    lost = _message("lost", task_at=late)
    half_done = _message("half-done", task_at=late, status=Status.CLASSIFIED)
    publish_failed = _message("publish-failed", needs_queueing=True)
    _message("queued-a-while-ago", task_at=now - timedelta(seconds=40))
    _message("being-worked-on", task_at=late, lease_until=now + timedelta(minutes=2))
    _message("written", task_at=late, status=Status.WRITTEN)
    _message("failed", task_at=late, status=Status.FAILED)
    crashed = _message("lease-expired", task_at=late, lease_until=now - timedelta(minutes=1))

    assert work_sweep() == {"inbound message": 4}

    expected = [lost.pk, half_done.pk, publish_failed.pk, crashed.pk]
    assert sorted(_webhook_settings.tasks(PIPELINE)) == sorted((pk,) for pk in expected)
    # Queued again: the next sweeps leave them to their new task.
    assert work_sweep() == {}


def test_a_message_whose_task_ran_lately_is_not_lost(_webhook_settings, trained_model):
    message = _message("rate-limited", task_at=timezone.now() - timedelta(hours=2))

    def kustomer_says_wait():
        raise RateLimited("Kustomer's rate limit is spent.", retry_after=30)

    # A worker takes it, classifies it and meets a rate limit: its retry is on the way.
    with pytest.raises(RateLimited):
        message_pipeline_run(message_id=message.pk, client_factory=kustomer_says_wait)

    message.refresh_from_db()
    assert message.status == InboundMessage.Status.CLASSIFIED
    assert work_sweep() == {}


@pytest.mark.django_db
def test_messages_unfinished_after_a_day_are_failed_not_written_back_late(_webhook_settings):
    old = _message(
        "from-last-week",
        task_at=timezone.now() - timedelta(days=7),
        received_at=timezone.now() - timedelta(days=7),
    )

    assert work_sweep() == {}

    old.refresh_from_db()
    assert old.status == InboundMessage.Status.FAILED
    assert old.failure_reason == (
        "No task finished it in the 24 hours after it arrived; "
        "retry it from the admin if it still matters."
    )
    assert _webhook_settings.tasks(PIPELINE) == []


@pytest.mark.django_db
def test_the_previous_secret_is_accepted_during_a_rotation(client):
    response = deliver(client, fixture("message_create_in"), secret=OLD_SECRET)

    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("secret", [None, "someone-else"])
def test_missing_or_wrong_signature_is_refused_before_parsing(client, secret):
    response = deliver(client, None, secret=secret, raw=b"{not even json")

    assert response.status_code == 401
    assert "X-Kustomer-Webhook-Signature" in response.json()["error"]
    assert WebhookEvent.objects.count() == 0


@pytest.mark.django_db
def test_a_body_signed_then_changed_is_refused(client):
    body = json.dumps(fixture("message_create_in")).encode()
    tampered = body.replace(b"#1042", b"#9999")

    response = client.post(
        URL,
        data=tampered,
        content_type="application/json",
        HTTP_X_KUSTOMER_WEBHOOK_SIGNATURE=sign(body),
    )

    assert response.status_code == 401


@pytest.mark.django_db
def test_oversized_body_gets_413(client):
    payload = fixture("message_create_in")
    payload["data"]["attributes"]["preview"] = "x" * (70 * 1024)

    response = deliver(client, payload)

    assert response.status_code == 413
    assert WebhookEvent.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"name": "kustomer.message.create"}', "The event `id` is missing."),
        (
            b'{"id": "e1", "name": "kustomer.message.create", "data": {"type": "message"}}',
            "The message id (`data.id`) is missing.",
        ),
        (
            b'{"id": "e1", "name": "kustomer.message.create", '
            b'"data": {"id": "m1", "attributes": {"direction": "in", "preview": "hi"}}}',
            "The conversation id (`data.relationships.conversation.data.id`) is missing.",
        ),
    ],
)
def test_malformed_payload_gets_400_with_a_reason(client, raw, reason):
    response = deliver(client, None, raw=raw)

    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert InboundMessage.objects.count() == 0


@pytest.mark.django_db
def test_an_agents_reply_is_not_classified(client, _webhook_settings):
    response = deliver(client, fixture("message_create_out"))

    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    assert InboundMessage.objects.count() == 0
    assert _webhook_settings.tasks(PIPELINE) == []


def _used_draft(text: str) -> Draft:
    payload = fixture("message_create_out")
    message = InboundMessage.objects.create(
        kustomer_message_id="m-in",
        conversation_id=payload["data"]["relationships"]["conversation"]["data"]["id"],
        customer_id="c1",
        text="where is my parcel",
    )
    draft = Draft.objects.create(message=message, rank=1, text=text, source="model", language="en")
    draft_feedback_record(draft_id=draft.pk, action="used", agent=Agent(id="u1", name="Ada"))
    Draft.objects.filter(pk=draft.pk).update(feedback_at=timezone.now() - timedelta(days=30))
    return draft


def _reply(text: str, *, event_id: str = "e-out-1", auto: bool = False) -> dict:
    payload = copy.deepcopy(fixture("message_create_out"))
    payload["id"] = event_id
    payload["data"]["id"] = f"m-{event_id}"
    payload["data"]["attributes"].update(body=text, auto=auto)
    return payload


@pytest.mark.django_db(transaction=True)
def test_a_reply_that_differs_from_the_used_draft_makes_it_edited(client, _webhook_settings):
    draft = _used_draft("Your parcel ships today. {agent_first_name}")

    deliver(client, _reply("Your parcel shipped yesterday, sorry! Ada"))
    deliver(client, _reply("Anything else?", event_id="e-out-2"))  # only the first reply counts

    draft.refresh_from_db()
    assert draft.status == Draft.Status.EDITED
    assert draft.edited_text == "Your parcel shipped yesterday, sorry! Ada"


@pytest.mark.django_db(transaction=True)
def test_a_reply_sent_as_drafted_keeps_it_used(client, _webhook_settings):
    draft = _used_draft("Your parcel ships today.\n\n{agent_first_name}")

    deliver(client, _reply("Your parcel ships today. Ada Lovelace"))

    draft.refresh_from_db()
    assert draft.status == Draft.Status.USED
    assert draft.reply_compared_at is not None


@pytest.mark.django_db(transaction=True)
def test_an_automatic_message_is_not_the_agents_reply(client, _webhook_settings):
    draft = _used_draft("Your parcel ships today.")

    response = deliver(client, _reply("How did we do? Rate us.", auto=True))

    assert response.json()["status"] == "ignored"
    draft.refresh_from_db()
    assert draft.status == Draft.Status.USED and draft.reply_compared_at is None


@pytest.mark.django_db
def test_unknown_event_type_is_acknowledged_and_ignored(client, _webhook_settings):
    response = deliver(client, fixture("conversation_update"))

    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert InboundMessage.objects.count() == 0
    assert _webhook_settings.tasks(PIPELINE) == []


def test_only_post_is_allowed(client):
    assert client.get(URL).status_code == 405
