"""From a customer's message in (fake) Kustomer to the KObject and note written back."""

import pytest
from django.core.management import call_command

from copilot.inbox.models import InboundMessage, WebhookSubscription
from copilot.inbox.services import inbound_message_retry
from copilot.integrations.http import RateLimited
from copilot.pipeline import message_pipeline_run
from copilot.sandbox.kustomer import services as sandbox

pytestmark = pytest.mark.django_db(transaction=True)


def customer_writes(customer, text, *, subject="", copies=1):
    message = sandbox.message_send_from_customer(
        customer=customer, body=text, subject=subject, webhook_copies=copies
    )
    assert sandbox.webhook_deliveries_wait(timeout=15)
    return message


def test_a_customer_message_gets_one_kobject_and_one_note(kustomer, customer):
    message = customer_writes(customer, "Please cancel order 1042, I ordered by mistake")

    inbound = InboundMessage.objects.get(kustomer_message_id=message.id)
    assert inbound.status == InboundMessage.Status.WRITTEN
    assert inbound.prediction.intent == "cancel_order"
    [kobject] = kustomer.kobjects()
    assert kobject.external_id == message.id
    assert kobject.customer_id == customer.id
    assert kobject.custom["intentStr"] == "cancel_order"
    assert kobject.custom["modelVersionStr"] == "v1"
    assert 0 < kobject.custom["confidenceNum"] <= 1
    assert kobject.custom["abstainedBool"] is False
    assert kobject.title.startswith("Intent: cancel_order")
    [note] = kustomer.notes()
    assert note.conversation_id == message.conversation_id
    assert note.external_id == f"copilot-note-{message.id}"
    assert "cancel_order" in note.body and "model v1" in note.body
    assert inbound.kobject_id == kobject.id and inbound.note_id == note.id


def test_duplicate_deliveries_write_one_kobject_and_one_note(kustomer, customer):
    message = customer_writes(customer, "where is my order 5501", copies=3)

    assert InboundMessage.objects.filter(kustomer_message_id=message.id).count() == 1
    assert len(kustomer.kobjects()) == 1
    assert len(kustomer.notes()) == 1


def test_agent_replies_are_not_classified(kustomer, customer):
    message = customer_writes(customer, "where is my order 5501")
    sandbox.message_send_from_agent(conversation=message.conversation, body="On its way!")
    assert sandbox.webhook_deliveries_wait(timeout=15)

    assert InboundMessage.objects.count() == 1
    assert len(kustomer.notes()) == 1


@pytest.mark.parametrize(("mode", "notes"), [("never", 0), ("confident", 0), ("always", 1)])
def test_the_note_setting_decides_when_a_note_is_written(kustomer, customer, settings, mode, notes):
    settings.KUSTOMER_NOTES = mode
    # A message the model is not sure about: it abstains.
    settings.INTENT_MODEL_REFRESH_SECONDS = 0
    from intents.models import ModelVersion

    ModelVersion.objects.update(metrics={})
    from intents.prediction import active_model

    active_model.clear()
    loaded = active_model.get()
    loaded.classifier.threshold = 1.01  # nothing is sure enough

    customer_writes(customer, "hello there")

    inbound = InboundMessage.objects.get()
    assert inbound.prediction.abstained
    assert inbound.status == InboundMessage.Status.WRITTEN
    assert len(kustomer.notes()) == notes
    assert len(kustomer.kobjects()) == 1
    assert kustomer.kobjects()[0].custom["abstainedBool"] is True


def test_a_rate_limit_in_the_middle_resumes_without_writing_twice(kustomer, customer, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    sandbox.failure_inject(path_prefix="/v1/conversations", mode="429", count=1, seconds=1)
    message = customer_writes(customer, "please refund order 1042")

    inbound = InboundMessage.objects.get(kustomer_message_id=message.id)
    # The KObject went out; the note met the 429 and waits (no worker here: marked failed).
    assert inbound.kobject_state == InboundMessage.Step.DONE
    assert inbound.note_state == InboundMessage.Step.PENDING
    assert inbound.status == InboundMessage.Status.FAILED
    assert "rate limit" in inbound.failure_reason.lower()

    import time

    time.sleep(1.1)
    assert inbound_message_retry(message_id=inbound.id)

    inbound.refresh_from_db()
    assert inbound.status == InboundMessage.Status.WRITTEN
    assert len(kustomer.kobjects()) == 1
    assert len(kustomer.notes()) == 1


def test_a_timeout_after_kustomer_created_the_kobject_does_not_create_another(
    kustomer, customer, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.KUSTOMER_NOTES = "never"
    with pytest.MonkeyPatch.context() as patch:
        # Receive without processing, so that the first attempt can be made slow by hand.
        patch.setattr("copilot.queueing.enqueue_on_commit", lambda *args: None)
        message = customer_writes(customer, "where is my order 2207")
    inbound = InboundMessage.objects.get(kustomer_message_id=message.id)

    settings.KUSTOMER_TIMEOUT_SECONDS = 0.3
    settings.SANDBOX_KUSTOMER_LATENCY_MS = 800  # Kustomer writes it, but answers too late
    from copilot.integrations.http import TransientError

    with pytest.raises(TransientError):
        message_pipeline_run(message_id=inbound.id)
    inbound.refresh_from_db()
    assert inbound.kobject_state == InboundMessage.Step.SENDING
    assert inbound.attempts == 1

    settings.KUSTOMER_TIMEOUT_SECONDS = 10
    settings.SANDBOX_KUSTOMER_LATENCY_MS = 0
    import time

    time.sleep(1)  # the slow request finishes on the server
    message_pipeline_run(message_id=inbound.id)

    inbound.refresh_from_db()
    assert inbound.status == InboundMessage.Status.WRITTEN
    assert len(kustomer.kobjects()) == 1
    assert inbound.kobject_id == kustomer.kobjects()[0].id


def test_a_refusal_marks_the_message_failed_with_kustomers_reason(kustomer, customer, settings):
    settings.KUSTOMER_INSIGHT_KLASS = "no_such_klass"

    message = customer_writes(customer, "where is my order 5501")

    inbound = InboundMessage.objects.get(kustomer_message_id=message.id)
    assert inbound.status == InboundMessage.Status.FAILED
    assert "Kustomer refused POST" in inbound.failure_reason
    assert kustomer.kobjects() == []


def test_our_limiter_holds_requests_once_the_budget_is_spent(kustomer, customer, settings):
    from copilot.integrations.kustomer import WINDOW_MARGIN_SECONDS, KustomerClient

    sent_before = len(kustomer.requests())  # installing the copilot made these calls
    settings.KUSTOMER_RATE_LIMIT_PER_MINUTE = sent_before + 3

    with KustomerClient.from_settings() as client:
        for _ in range(3):
            client.list_shortcuts()
        with pytest.raises(RateLimited) as error:
            client.list_shortcuts()

    # Kustomer's minute plus our margin for requests still in flight at its end.
    assert 0 < error.value.retry_after <= 60 + WINDOW_MARGIN_SECONDS
    assert len(kustomer.requests()) - sent_before == 3


def test_kustomers_own_count_stops_every_sender(kustomer, customer, settings):
    from copilot.integrations.kustomer import KustomerClient

    # Other keys of the org spend the budget: Kustomer's headers say so before we count it.
    settings.SANDBOX_KUSTOMER_ORG_RATE_LIMIT = len(kustomer.requests()) + 2
    with KustomerClient.from_settings() as client:
        client.list_shortcuts()
        client.list_shortcuts()  # answered with x-ratelimit-remaining: 0
        sent = len(kustomer.requests())
        with pytest.raises(RateLimited):
            client.list_shortcuts()

    assert len(kustomer.requests()) == sent


def test_setup_is_idempotent_and_keeps_the_signing_token(kustomer, capsys, settings):
    settings.KUSTOMER_API_KEY = sandbox.api_key_create(roles=["org.admin"]).token

    call_command("kustomer_setup")

    output = capsys.readouterr().out
    assert "The klass already exists." in output
    assert "is already registered" in output
    assert WebhookSubscription.objects.count() == 1
    assert WebhookSubscription.objects.get().token


def test_setup_without_the_admin_role_says_what_kustomer_refused(kustomer):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="Kustomer refused GET /v1/klasses"):
        call_command("kustomer_setup")


def test_app_definition_installs_the_card_the_klass_and_the_webhook(kustomer, capsys, settings):
    import json

    call_command("kustomer_app_definition")

    definition = json.loads(capsys.readouterr().out)
    allowed = {
        "app",
        "version",
        "title",
        "description",
        "visibility",
        "settings",
        "klasses",
        "kviews",
        "outboundWebhooks",
        "redirectUris",
        "commands",
        "iconUrl",
    }
    assert set(definition) <= allowed
    assert definition["klasses"][0]["name"] == "copilot_insight"
    card = definition["kviews"][0]
    assert card["context"] == "smartbar-card"
    assert f'src={{"{settings.COPILOT_PUBLIC_URL}/card/"}}' in card["template"]
    assert definition["outboundWebhooks"][0]["url"].endswith("/kustomer/webhooks/")


@pytest.mark.parametrize("then", ["a query fails", "a Kustomer failure is recorded"])
def test_a_run_whose_database_connection_is_ended_releases_its_lease_for_the_retry(
    kustomer, customer, settings, then
):
    import psycopg
    from django.db import DatabaseError, close_old_connections, connection

    from copilot.integrations.http import TransientError
    from tests.processes import require_services, shared_database_url

    require_services()
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with pytest.MonkeyPatch.context() as patch:
        # Receive without processing, so that the run below is the first.
        patch.setattr("copilot.queueing.enqueue_on_commit", lambda *args: None)
        message = customer_writes(customer, "where is my order 3105")
    inbound = InboundMessage.objects.get(kustomer_message_id=message.id)

    def connection_ended(**_):
        # As an operator's pg_terminate_backend (or PostgreSQL restarting) would, mid-run.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            [pid] = cursor.fetchone()
        with psycopg.connect(shared_database_url(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        if then == "a query fails":
            InboundMessage.objects.count()
        else:
            raise TransientError("Kustomer failed: Internal server error")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("copilot.pipeline.drafts_generate_for_message", connection_ended)
        with pytest.raises(DatabaseError):
            message_pipeline_run(message_id=inbound.id)

    close_old_connections()  # as Celery's Django fixup does before the retry
    inbound.refresh_from_db()
    assert inbound.lease_until is None
    assert message_pipeline_run(message_id=inbound.id) is not None
    inbound.refresh_from_db()
    assert inbound.status == InboundMessage.Status.WRITTEN
    assert len(kustomer.kobjects()) == 1
    assert len(kustomer.notes()) == 1
