"""Import from Kustomer: preview, mapping, duplicates, resume, cancel, and the training UI's
pages, against the fake Kustomer over real HTTP."""

import html

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from copilot.integrations.http import TransientError
from copilot.integrations.kustomer import KustomerClient
from copilot.integrations.ratelimit import Limits, LocalRateLimiter
from copilot.sandbox.kustomer import history
from copilot.sandbox.kustomer import services as sandbox
from intents import history_import
from intents.history_import import (
    history_import_cancel,
    history_import_preview,
    history_import_resume,
    history_import_run,
    history_import_start,
)
from intents.models import HistoryImport, Intent, LabeledExample, text_fingerprint
from intents.services import intents_ensure

pytestmark = pytest.mark.django_db(transaction=True)

MAPPING = {
    "shipping-delay": "track_order",
    "refund-request": "get_refund",
    "cancel-order": "cancel_order",
}
# Of the seeded history, within the last 90 days.
IN_RANGE = sum(1 for item in history.PAST_CONVERSATIONS if item.days_ago <= 90)
MAPPED = sum(
    1
    for item in history.PAST_CONVERSATIONS
    if item.days_ago <= 90 and any(tag in MAPPING for tag in item.tags)
)


@pytest.fixture
def kustomer(live_server, settings):
    """The seeded history in the fake, and this deployment configured to read it."""
    history.conversation_history_seed()
    key = sandbox.api_key_create(roles=["org.user.search.read", "org.user.message.read"])
    settings.KUSTOMER_API_BASE_URL = live_server.url + "/sandbox/kustomer"
    settings.KUSTOMER_API_KEY = key.token
    intents_ensure(definitions=[("track_order", ""), ("get_refund", ""), ("cancel_order", "")])
    return key


def _client(live_server, key) -> KustomerClient:
    return KustomerClient(
        base_url=live_server.url + "/sandbox/kustomer",
        api_key=key.token,
        rate_limiter=LocalRateLimiter(limits=Limits(per_window=1000, per_customer=120)),
    )


def _previewed(live_server, key, *, source: str = "tags") -> HistoryImport:
    from django.utils import timezone

    today = timezone.localdate()
    with _client(live_server, key) as client:
        return history_import_preview(
            client=client,
            date_from=today - timezone.timedelta(days=90),
            date_to=today,
            mapping_source=source,
            time_zone="UTC",
        )


def _queued(live_server, key, broker, *, mapping=MAPPING) -> HistoryImport:
    row = _previewed(live_server, key)
    history_import_start(history_import_id=row.pk, mapping=mapping)
    assert broker.tasks("intents.history_tasks.import_kustomer_history") == [(row.pk,)]
    return row


def test_the_preview_counts_each_tag_and_what_it_would_yield(live_server, kustomer):
    row = _previewed(live_server, kustomer)

    values = {entry["value"]: entry for entry in row.preview["values"]}
    assert row.status == HistoryImport.Status.PREVIEWING
    assert row.preview["total"] == IN_RANGE
    assert row.preview["exact"] is True
    assert values["shipping-delay"]["conversations"] == sum(
        1
        for item in history.PAST_CONVERSATIONS
        if item.days_ago <= 90 and "shipping-delay" in item.tags
    )
    # One message from the customer in each seeded conversation: one example each.
    assert values["shipping-delay"]["inbound_messages"] == values["shipping-delay"]["conversations"]
    assert values["refund-request"]["examples"] == values["refund-request"]["conversations"]
    assert row.preview["without_value_in_sample"] == 1
    assert row.preview["sampled_messages"] <= history_import.PREVIEW_MESSAGE_SAMPLE


def test_the_preview_maps_a_custom_attribute_too(live_server, kustomer):
    row = _previewed(live_server, kustomer, source="contactReasonStr")

    values = {entry["value"]: entry["conversations"] for entry in row.preview["values"]}
    assert values["Refund"] == 7
    assert values["Cancellation"] == 5


def test_an_import_labels_the_first_customer_message_of_each_mapped_conversation(
    live_server, kustomer, broker
):
    row = _queued(live_server, kustomer, broker)

    outcome = history_import_run(
        history_import_id=row.pk, client_factory=lambda: _client(live_server, kustomer)
    )

    row.refresh_from_db()
    assert outcome.status == row.status == HistoryImport.Status.DONE
    assert row.conversations_done == row.conversations_total == IN_RANGE
    assert row.messages_imported == MAPPED
    assert row.skipped_unmapped == IN_RANGE - MAPPED
    examples = LabeledExample.objects.filter(source=LabeledExample.Source.KUSTOMER_HISTORY)
    assert examples.count() == MAPPED
    html = examples.get(text__contains="Late delivery")
    assert (
        html.text
        == "Late delivery\nHello,\nMy order was due yesterday and still nothing. Is it lost?"
    )
    assert html.intent.name == "track_order"
    assert html.labelled_by == "kustomer:shipping-delay"
    assert html.status == LabeledExample.Status.TRUSTED
    assert html.kustomer_conversation_id and html.kustomer_message_id
    assert not examples.filter(text__contains="Thanks for writing in").exists()  # agents' replies


def test_a_text_already_in_the_dataset_is_skipped(live_server, kustomer, broker):
    intents_ensure(definitions=[("track_order", "")])
    existing = (
        "Parcel stuck for a week\nHi, my parcel has not moved for a week according to the "
        "tracking page. When will it arrive?"
    )

    LabeledExample.objects.create(
        text=existing.upper(),
        text_sha256=text_fingerprint(existing),
        intent=Intent.objects.get(name="track_order"),
    )
    row = _queued(live_server, kustomer, broker)

    history_import_run(
        history_import_id=row.pk, client_factory=lambda: _client(live_server, kustomer)
    )

    row.refresh_from_db()
    assert row.skipped_duplicates == 1
    assert row.messages_imported == MAPPED - 1


def test_a_run_that_failed_mid_way_resumes_from_its_cursor_without_importing_twice(
    live_server, kustomer, broker, settings
):
    settings.KUSTOMER_MAX_RETRIES = 0
    calls: list[str] = []

    class FlakyClient(KustomerClient):
        def iter_messages(self, conversation_id, **kwargs):
            calls.append(conversation_id)
            if len(calls) == 4:
                raise TransientError("Kustomer failed GET messages: Internal server error")
            yield from super().iter_messages(conversation_id, **kwargs)

    def flaky():
        return FlakyClient(
            base_url=live_server.url + "/sandbox/kustomer",
            api_key=kustomer.token,
            rate_limiter=LocalRateLimiter(limits=Limits(per_window=1000, per_customer=120)),
        )

    row = _queued(live_server, kustomer, broker)

    failed = history_import_run(history_import_id=row.pk, client_factory=flaky)
    row.refresh_from_db()
    assert failed.status == row.status == HistoryImport.Status.FAILED
    assert "Kustomer kept failing" in row.failure_reason
    assert row.messages_imported == 3
    assert row.cursor["ids"]

    assert history_import_resume(history_import_id=row.pk)
    done = history_import_run(
        history_import_id=row.pk, client_factory=lambda: _client(live_server, kustomer)
    )

    row.refresh_from_db()
    assert done.status == HistoryImport.Status.DONE
    assert row.messages_imported == MAPPED
    assert row.skipped_duplicates == 0
    assert row.conversations_done == IN_RANGE
    assert LabeledExample.objects.filter(source="kustomer_history").count() == MAPPED


def test_a_cancelled_run_stops_and_can_be_resumed(live_server, kustomer, broker, admin_user):
    row = _queued(live_server, kustomer, broker)
    seen: list[str] = []

    class CancellingClient(KustomerClient):
        def iter_messages(self, conversation_id, **kwargs):
            seen.append(conversation_id)
            if len(seen) == 2:
                history_import_cancel(history_import_id=row.pk, user=admin_user)
            yield from super().iter_messages(conversation_id, **kwargs)

    outcome = history_import_run(
        history_import_id=row.pk,
        client_factory=lambda: CancellingClient(
            base_url=live_server.url + "/sandbox/kustomer",
            api_key=kustomer.token,
            rate_limiter=LocalRateLimiter(limits=Limits(per_window=1000, per_customer=120)),
        ),
    )

    row.refresh_from_db()
    assert outcome.status == row.status == HistoryImport.Status.CANCELLED
    assert row.messages_imported == 1  # the second conversation's write found it cancelled
    assert not history_import_cancel(history_import_id=row.pk, user=admin_user)
    assert history_import_resume(history_import_id=row.pk)
    history_import_run(
        history_import_id=row.pk, client_factory=lambda: _client(live_server, kustomer)
    )
    row.refresh_from_db()
    assert row.status == HistoryImport.Status.DONE
    assert row.messages_imported == MAPPED


def test_a_queued_import_is_covered_by_the_sweep(live_server, kustomer, broker):
    from copilot import queueing

    broker.down = True
    row = _previewed(live_server, kustomer)
    history_import_start(history_import_id=row.pk, mapping=MAPPING)
    row.refresh_from_db()
    assert row.needs_queueing

    broker.down = False
    queued = queueing.work_sweep()

    assert queued == {"Kustomer history import": 1}
    assert broker.tasks("intents.history_tasks.import_kustomer_history") == [(row.pk,)]


def test_an_import_needs_a_mapping_to_known_intents(live_server, kustomer):
    row = _previewed(live_server, kustomer)

    with pytest.raises(history_import.HistoryImportError, match="Map at least one"):
        history_import_start(history_import_id=row.pk, mapping={"shipping-delay": ""})
    with pytest.raises(history_import.HistoryImportError, match="No intent is called nope"):
        history_import_start(history_import_id=row.pk, mapping={"shipping-delay": "nope"})


# --- the pages ----------------------------------------------------------------------------


@pytest.fixture
def viewer(django_user_model):
    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_labeledexample"))
    return user


@pytest.fixture
def lead(django_user_model):
    user = django_user_model.objects.create_user("lead", password="pw", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_labeledexample", "change_labeledexample"])
    )
    return user


def test_the_preview_page_shows_each_tag_with_its_counts_and_a_choice(client, lead, kustomer):
    client.force_login(lead)

    answer = client.post(
        reverse("intents:kustomer-import-preview"),
        {"date_from": "", "date_to": "", "source": "tags"},
    )
    page = client.get(answer["Location"])

    assert answer.status_code == 302
    html = page.content.decode()
    assert f"{IN_RANGE} conversations in the range" in html
    assert "shipping-delay" in html and "refund-request" in html
    assert 'aria-label="Import shipping-delay as"' in html
    assert '<option value="track_order"' in html


def test_the_whole_flow_through_the_pages(client, lead, kustomer, broker):
    client.force_login(lead)
    preview = client.post(reverse("intents:kustomer-import-preview"), {"source": "tags"})
    row = HistoryImport.objects.get()
    values = [entry["value"] for entry in row.preview["values"]]
    choices = {f"intent-{index}": MAPPING.get(value, "") for index, value in enumerate(values)}

    started = client.post(reverse("intents:kustomer-import-start", args=[row.pk]), choices)
    progress = client.get(reverse("intents:kustomer-import-progress", args=[row.pk])).json()
    listed = client.get(reverse("intents:kustomer-import")).content.decode()

    assert preview.status_code == started.status_code == 302
    row.refresh_from_db()
    assert row.status == HistoryImport.Status.QUEUED
    assert row.mapping == MAPPING
    assert progress["status"] == "queued" and progress["finished"] is False
    assert progress["message"] == "waiting for a worker"
    assert f"#{row.pk}" in listed


def test_a_tag_the_preview_did_not_show_is_mapped_by_hand_and_imported(
    client, lead, kustomer, broker, live_server, monkeypatch
):
    monkeypatch.setattr(history_import, "PREVIEW_VALUES", 1)  # only the most common tag shown
    client.force_login(lead)
    client.post(reverse("intents:kustomer-import-preview"), {"source": "tags"})
    row = HistoryImport.objects.get()
    [shown] = [entry["value"] for entry in row.preview["values"]]
    hidden = next(tag for tag in MAPPING if tag != shown)
    page = client.get(reverse("intents:kustomer-import-detail", args=[row.pk])).content.decode()
    assert "less frequent tags are not shown; name any of them below the table" in page

    client.post(
        reverse("intents:kustomer-import-start", args=[row.pk]),
        {"intent-0": "", "extra-value-0": f" {hidden} ", "extra-intent-0": MAPPING[hidden]},
    )
    row.refresh_from_db()
    assert row.mapping == {hidden: MAPPING[hidden]}
    history_import_run(
        history_import_id=row.pk, client_factory=lambda: _client(live_server, kustomer)
    )

    imported = LabeledExample.objects.filter(source="kustomer_history")
    expected = sum(
        1 for item in history.PAST_CONVERSATIONS if item.days_ago <= 90 and hidden in item.tags
    )
    assert imported.count() == expected > 0
    assert set(imported.values_list("intent__name", flat=True)) == {MAPPING[hidden]}


def test_a_kustomer_refusal_is_a_sentence_on_the_form(client, lead, kustomer, settings):
    settings.KUSTOMER_API_KEY = sandbox.api_key_create(roles=["org.user.message.read"]).token
    client.force_login(lead)

    answer = client.post(reverse("intents:kustomer-import-preview"), {"source": "tags"})

    assert answer.status_code == 502
    assert "needs a search role" in answer.content.decode()
    assert not HistoryImport.objects.exists()


def test_viewers_follow_imports_but_cannot_start_cancel_or_resume(client, viewer, kustomer):
    client.force_login(viewer)
    row = HistoryImport.objects.create(
        date_from="2026-01-01", date_to="2026-01-31", status=HistoryImport.Status.FAILED
    )

    assert client.get(reverse("intents:kustomer-import")).status_code == 200
    assert client.get(reverse("intents:kustomer-import-detail", args=[row.pk])).status_code == 200
    assert client.get(reverse("intents:kustomer-import-progress", args=[row.pk])).status_code == 200
    assert client.post(reverse("intents:kustomer-import-preview")).status_code == 403
    for name in ("start", "cancel", "resume"):
        url = reverse(f"intents:kustomer-import-{name}", args=[row.pk])
        assert client.post(url).status_code == 403


def test_people_without_the_view_permission_are_refused(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("x", password="pw", is_staff=True))

    assert client.get(reverse("intents:kustomer-import")).status_code == 403


# --- a queue item's conversation ----------------------------------------------------------------


def test_a_queue_items_whole_conversation_is_read_from_kustomer_both_ways(client, viewer, kustomer):
    from copilot.sandbox.kustomer.models import Conversation

    conversation = Conversation.objects.order_by("id").first()
    inbound = conversation.messages.get(direction="in")
    client.force_login(viewer)

    page = client.get(
        reverse("intents:queue-conversation", args=[conversation.id]),
        {"message": str(inbound.id)},
    )

    assert page.status_code == 200
    text = html.unescape(page.content.decode())
    assert inbound.body[:40] in text and history.AGENT_REPLY[:40] in text
    assert text.index("Customer") < text.index("Agent")  # oldest first
    assert 'aria-current="true"' in text and "this one" in text


def test_a_conversation_kustomer_does_not_give_is_a_sentence(client, viewer, kustomer, settings):
    settings.KUSTOMER_API_BASE_URL = "http://127.0.0.1:9/sandbox/kustomer"  # nothing listens
    client.force_login(viewer)

    page = client.get(reverse("intents:queue-conversation", args=["c0ffee"]), {"message": "m"})

    assert page.status_code == 502
    assert 'role="alert"' in page.content.decode()
    assert "Traceback" not in page.content.decode()
