"""The training UI at /training/: who may see it, the labelling queue's order and every action
with its record (who, when, undo), training runs, promotion and rollback with their history."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from copilot.agents import Agent
from intents import curation, reports
from intents.classifier import IntentPrediction
from intents.importing import LabelledRow
from intents.models import (
    Intent,
    IntentChange,
    IntentFeedback,
    LabelDecision,
    LabeledExample,
    ModelVersion,
    ModelVersionDataset,
    ModelVersionEvent,
    Prediction,
    intent_display_name,
    text_fingerprint,
)
from intents.prediction import Classification
from intents.review import labelling_queue, labelling_queue_count
from intents.services import (
    examples_import,
    intent_feedback_record,
    intents_ensure,
    model_version_activate,
    model_version_create,
    model_version_train,
    prediction_record,
)

pytestmark = pytest.mark.django_db

ADA = Agent(id="agent-ada", name="Ada Lovelace")
PAGES = ["overview", "queue", "dataset", "intents", "versions"]


@pytest.fixture
def intents(db):
    return intents_ensure(
        definitions=[(name, "") for name in ("track_order", "get_refund", "cancel_order")]
    )


@pytest.fixture
def version(intents):
    version = ModelVersion.objects.create(number=1, status=ModelVersion.Status.ACTIVE)
    return version


def classified(version, message_id: str, text: str, top) -> Prediction:
    prediction = IntentPrediction(intent=top[0][0], confidence=top[0][1], top=top, abstained=False)
    return prediction_record(
        text=text,
        classification=Classification(prediction, version.id, version.number, 0.5),
        kustomer_message_id=message_id,
        kustomer_conversation_id=f"conv-{message_id}",
    )


SURE = [("track_order", 0.95), ("get_refund", 0.03), ("cancel_order", 0.02)]
UNSURE = [("get_refund", 0.41), ("cancel_order", 0.39), ("track_order", 0.2)]
VERY_UNSURE = [("cancel_order", 0.34), ("get_refund", 0.33), ("track_order", 0.33)]


@pytest.fixture
def world(version):
    """One message of each kind the queue holds: an agent's correction (a pending example),
    an agent's "none of these", and two predictions the model was unsure of."""
    classified(version, "m-corrected", "where is my parcel, it is late", SURE)
    intent_feedback_record(kustomer_message_id="m-corrected", agent=ADA, intent_name="get_refund")
    classified(version, "m-none", "do you sell gift cards", SURE)
    intent_feedback_record(kustomer_message_id="m-none", agent=ADA, intent_name=None)
    classified(version, "m-unsure", "money back or cancel, whichever is quicker", UNSURE)
    classified(version, "m-very-unsure", "stop it or refund it", VERY_UNSURE)
    classified(version, "m-sure", "track my order 1234", SURE)


def keys(user) -> list[str]:
    return [item.key for item in labelling_queue(user_id=user.pk, limit=10)]


def key_of(kind: str, **lookup) -> str:
    model = {"example": LabeledExample, "feedback": IntentFeedback, "prediction": Prediction}[kind]
    return f"{kind}:{model.objects.get(**lookup).pk}"


def decide(client, key: str, choice: str, **extra):
    return client.post(
        reverse("intents:queue-decide"),
        {"key": key, "choice": choice, **extra},
        HTTP_ACCEPT="application/json",
    )


# --- Who may see it ----------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_people_are_sent_to_the_admin_login(client, page):
    response = client.get(reverse(f"intents:{page}"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    assert "next=/training/" in response.url


@pytest.mark.parametrize("page", PAGES)
def test_people_who_are_not_staff_are_refused(client, django_user_model, page):
    client.force_login(django_user_model.objects.create_user("agent", password="pw"))

    assert client.get(reverse(f"intents:{page}")).status_code == 403


def test_staff_without_the_labelling_permission_cannot_label(client, django_user_model, world):
    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_labeledexample"))
    client.force_login(user)

    assert client.get(reverse("intents:overview")).status_code == 200
    assert client.get(reverse("intents:queue")).status_code == 403
    assert decide(client, "prediction:1", "skip:").status_code == 403
    assert client.post(reverse("intents:training-start")).status_code == 403
    assert not LabelDecision.objects.exists()


def test_the_admin_links_to_the_training_ui(admin_client):
    response = admin_client.get(reverse("admin:index"))

    assert reverse("intents:overview").encode() in response.content


@pytest.mark.parametrize("page", PAGES)
def test_every_page_shows_the_navigation_with_what_waits(lead_client, world, page):
    response = lead_client.get(reverse(f"intents:{page}"))

    assert response.status_code == 200
    navigation = response.content.decode()
    assert 'aria-label="Training"' in navigation
    # The agent's correction and the "none of these" wait for a review.
    assert '2<span class="sr-only"> waiting</span>' in navigation


# --- The labelling queue -----------------------------------------------------------------------


def test_the_queue_puts_feedback_first_then_disagreements_then_the_least_sure(reviewer, world):
    assert keys(reviewer) == [
        key_of("example", kustomer_message_id="m-corrected"),
        key_of("feedback", kustomer_message_id="m-none"),
        key_of("prediction", kustomer_message_id="m-very-unsure"),
        key_of("prediction", kustomer_message_id="m-unsure"),
    ]
    assert labelling_queue_count(user_id=reviewer.pk) == 2


def test_a_queue_item_shows_the_message_the_models_top_three_and_who_said_what(lead_client, world):
    response = lead_client.get(reverse("intents:queue"))
    page = response.content.decode()

    item = response.context["item"]
    assert item.text == "where is my parcel, it is late"
    assert [choice.name for choice in item.choices] == ["track_order", "get_refund", "cancel_order"]
    assert item.suggestion == "get_refund"  # the agent's pick
    assert "Agent Ada Lovelace" in page
    assert "corrected the model" in page
    assert "Model v1" in page
    assert "95%" in page
    # The next item is already in the page.
    assert response.context["next_item"].kind == "feedback"
    assert '<template id="queue-next">' in page


def test_accepting_a_pending_example_makes_it_trusted_and_records_who(lead_client, reviewer, world):
    key = key_of("example", kustomer_message_id="m-corrected")

    response = decide(lead_client, key, "accept:get_refund")

    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert response.json()["remaining"] == 1
    example = LabeledExample.objects.get(kustomer_message_id="m-corrected")
    assert example.status == LabeledExample.Status.TRUSTED
    assert example.intent.name == "get_refund"
    assert example.labelled_by == "lead"
    decision = LabelDecision.objects.get()
    assert (decision.action, decision.decided_by, decision.example) == ("accept", reviewer, example)
    assert decision.previous["labelled_by"] == ADA.id
    assert decision.decided_at is not None
    assert key not in keys(reviewer)


def test_picking_another_intent_relabels_the_pending_example(lead_client, world):
    decide(lead_client, key_of("example", kustomer_message_id="m-corrected"), "label:track_order")

    example = LabeledExample.objects.get(kustomer_message_id="m-corrected")
    assert (example.intent.name, example.status) == ("track_order", "trusted")
    assert LabelDecision.objects.get().action == "label"


def test_labelling_a_disagreement_adds_a_trusted_example(lead_client, reviewer, world):
    key = key_of("feedback", kustomer_message_id="m-none")

    decide(lead_client, key, "label:", search_intent="cancel_order")

    example = LabeledExample.objects.get(text_sha256=text_fingerprint("do you sell gift cards"))
    assert (example.intent.name, example.status, example.source) == (
        "cancel_order",
        "trusted",
        "admin",
    )
    assert LabelDecision.objects.get().example_created is True
    assert key not in keys(reviewer)


def test_labelling_an_unsure_prediction_adds_a_trusted_example(lead_client, reviewer, world):
    key = key_of("prediction", kustomer_message_id="m-unsure")

    decide(lead_client, key, "label:get_refund")

    example = LabeledExample.objects.get(kustomer_message_id="m-unsure")
    assert (example.intent.name, example.status, example.labelled_by) == (
        "get_refund",
        "trusted",
        "lead",
    )
    assert key not in keys(reviewer)


def test_a_skip_changes_no_data_and_hides_the_item_from_that_reviewer_only(
    lead_client, reviewer, django_user_model, world
):
    key = key_of("example", kustomer_message_id="m-corrected")

    decide(lead_client, key, "skip:")

    assert LabeledExample.objects.get(kustomer_message_id="m-corrected").status == "pending_review"
    assert LabelDecision.objects.get().action == "skip"
    assert key not in keys(reviewer)
    other = django_user_model.objects.create_user("other", is_staff=True)
    assert key in keys(other)


def test_undo_restores_the_example_and_brings_the_item_back(lead_client, reviewer, world):
    key = key_of("example", kustomer_message_id="m-corrected")
    decide(lead_client, key, "label:track_order")

    response = lead_client.post(reverse("intents:queue-undo"), HTTP_ACCEPT="application/json")

    assert response.json()["ok"] is True
    assert f'data-key="{key}"' in response.json()["html"]
    example = LabeledExample.objects.get(kustomer_message_id="m-corrected")
    assert (example.intent.name, example.status, example.labelled_by) == (
        "get_refund",
        "pending_review",
        ADA.id,
    )
    decision = LabelDecision.objects.get()
    assert decision.undone_at is not None  # kept, marked undone
    assert keys(reviewer)[0] == key


def test_undo_removes_an_example_the_decision_created(lead_client, world):
    decide(lead_client, key_of("prediction", kustomer_message_id="m-unsure"), "label:get_refund")

    lead_client.post(reverse("intents:queue-undo"), HTTP_ACCEPT="application/json")

    assert not LabeledExample.objects.filter(kustomer_message_id="m-unsure").exists()


def test_undo_goes_back_one_decision_at_a_time_and_then_says_there_is_nothing(lead_client, world):
    decide(lead_client, key_of("example", kustomer_message_id="m-corrected"), "skip:")
    decide(lead_client, key_of("feedback", kustomer_message_id="m-none"), "skip:")

    first = lead_client.post(reverse("intents:queue-undo"), HTTP_ACCEPT="application/json")
    second = lead_client.post(reverse("intents:queue-undo"), HTTP_ACCEPT="application/json")
    third = lead_client.post(reverse("intents:queue-undo"), HTTP_ACCEPT="application/json")

    assert "feedback:" in first.json()["html"]
    assert "example:" in second.json()["html"]
    assert third.status_code == 409
    assert third.json()["message"] == "There is nothing to undo."


def test_the_next_item_leaves_out_the_ones_the_page_holds(lead_client, world):
    first = key_of("example", kustomer_message_id="m-corrected")

    response = lead_client.get(reverse("intents:queue-next"), {"exclude": first})

    assert (
        f'data-key="{key_of("feedback", kustomer_message_id="m-none")}"'
        in response.content.decode()
    )


def test_an_unknown_intent_or_an_example_already_reviewed_is_refused_with_a_sentence(
    lead_client, world
):
    key = key_of("example", kustomer_message_id="m-corrected")

    unknown = decide(lead_client, key, "label:make_coffee")
    decide(lead_client, key, "accept:get_refund")
    again = decide(lead_client, key, "accept:get_refund")

    assert unknown.status_code == 400
    assert "no active intent named 'make_coffee'" in unknown.json()["message"]
    assert again.json()["message"] == "Someone has already reviewed this example."
    assert LabelDecision.objects.count() == 1


def test_without_javascript_a_decision_redirects_back_to_the_queue(lead_client, world):
    response = lead_client.post(
        reverse("intents:queue-decide"),
        {"key": key_of("example", kustomer_message_id="m-corrected"), "choice": "skip:"},
    )

    assert response.status_code == 302
    assert response.url == reverse("intents:queue")


# --- Versions ----------------------------------------------------------------------------------


@pytest.fixture
def trained_versions(labelled_examples):
    first = model_version_train(version_id=model_version_create().id)
    model_version_activate(version_id=first.id)
    second = model_version_train(version_id=model_version_create().id)
    return first, second


def test_a_version_page_shows_its_metrics_per_intent_table_and_confusion_heat_map(
    lead_client, trained_versions
):
    _, second = trained_versions

    response = lead_client.get(reverse("intents:version-detail", args=[second.number]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Per intent" in page and "track_order" in page
    assert 'class="matrix"' in page
    assert "Promote v2" in page
    rows = response.context["heat_map"]
    assert [row.label for row in rows] == second.training_metrics.confusion_matrix.labels


def test_starting_a_training_run_queues_a_version_and_shows_its_progress(
    lead_client, reviewer, labelled_examples, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_client.post(reverse("intents:training-start"))

    version = ModelVersion.objects.get()
    assert response.status_code == 302
    assert version.created_by == reviewer
    assert broker.published == [("intents.tasks.train_model_version", (version.id,))]
    page = lead_client.get(reverse("intents:versions")).content.decode()
    assert f'data-progress-url="/training/versions/{version.number}/progress"' in page
    progress = lead_client.get(reverse("intents:version-progress", args=[version.number])).json()
    assert (progress["status"], progress["finished"]) == ("queued", False)

    # A second start while the first waits (a double click, another tab) queues nothing.
    again = lead_client.post(reverse("intents:training-start"), follow=True)
    assert f"v{version.number} is already queued: wait for it" in again.content.decode()
    assert ModelVersion.objects.count() == 1


def test_promote_and_roll_back_keep_who_when_and_why(lead_client, reviewer, trained_versions):
    first, second = trained_versions

    refused = lead_client.post(
        reverse("intents:version-promote", args=[second.number]), {"reason": " "}
    )
    assert ModelVersion.objects.get(pk=second.pk).status == "ready"
    assert refused.status_code == 302

    lead_client.post(
        reverse("intents:version-promote", args=[second.number]), {"reason": "better refunds"}
    )
    assert ModelVersion.objects.get(pk=second.pk).status == "active"

    lead_client.post(reverse("intents:version-roll-back"), {"reason": "refunds got worse live"})
    assert ModelVersion.objects.get(pk=first.pk).status == "active"
    assert ModelVersion.objects.get(pk=second.pk).status == "retired"

    history = list(
        ModelVersionEvent.objects.order_by("performed_at", "id").values_list(
            "action", "version__number", "previous_version__number", "performed_by", "reason"
        )
    )
    assert history == [
        ("promote", 2, 1, reviewer.pk, "better refunds"),
        ("roll_back", 1, 2, reviewer.pk, "refunds got worse live"),
    ]
    page = lead_client.get(reverse("intents:versions")).content.decode()
    assert "refunds got worse live" in page and "Rolled back" in page


def test_roll_back_without_an_earlier_version_says_so(lead_client, trained_versions):
    response = lead_client.post(
        reverse("intents:version-roll-back"), {"reason": "try"}, follow=True
    )

    assert "no earlier live version" in response.content.decode()


# --- Overview ----------------------------------------------------------------------------------


def test_the_overview_shows_the_active_model_and_the_trend_agents_confirm(
    lead_client, trained_versions, version_with_feedback
):
    response = lead_client.get(reverse("intents:overview"))

    page = response.content.decode()
    assert "<title>Overview · Copilot training</title>" in page
    assert page.count('id="volumes-title"') == 1
    assert "Active model" in page and "v1" in page
    assert '<svg class="trend"' in page
    assert response.context["confirmed_accuracy"] == pytest.approx(0.5)
    # The two classified messages, both "track_order".
    assert [(v.intent, v.count) for v in response.context["volumes"]] == [("track_order", 2)]
    assert response.context["abstain_rate"] == 0


def test_the_overview_charts_each_days_predictions_per_intent_and_the_abstain_rate(
    lead_client, trained_versions
):
    first, _ = trained_versions
    three_days_ago = timezone.localtime() - timedelta(days=3)
    for number in range(3):
        made = classified(first, f"old-{number}", f"where is order {number}", SURE)
        Prediction.objects.filter(pk=made.pk).update(created_at=three_days_ago)
    classified(first, "new-1", "refund please", UNSURE)
    abstained = classified(first, "new-2", "hmm", VERY_UNSURE)
    Prediction.objects.filter(pk=abstained.pk).update(intent="", abstained=True)

    page = lead_client.get(reverse("intents:overview")).content.decode()

    assert "Messages the model classified each day over the last 30 days" in page
    assert f"{three_days_ago:%d %b}: track_order 3 of 3" in page
    today = timezone.localdate()
    assert f"{today:%d %b}: get_refund 1 of 2" in page
    assert f"{today:%d %b}: abstained 1 of 2" in page
    # The abstain rate: none three days ago, half of today's messages.
    assert f"{three_days_ago:%d %b}: abstained on 0% of 3 messages" in page
    assert f"{today:%d %b}: abstained on 50% of 2 messages" in page
    # The legend: each intent with its total over the 30 days, the abstentions last.
    legend = page[page.index('aria-label="Intents in the chart"') :]
    assert legend.index("track_order") < legend.index("get_refund") < legend.index("abstained")


def test_a_day_that_is_over_is_counted_once(
    lead_client, trained_versions, django_assert_num_queries
):
    first, _ = trained_versions
    made = classified(first, "old-1", "where is my order", SURE)
    Prediction.objects.filter(pk=made.pk).update(created_at=timezone.now() - timedelta(days=2))
    assert reports.predictions_per_day(days=30)[-3].counts == {"track_order": 1}

    # Counting again reads today alone: the days that are over come from the cache.
    with django_assert_num_queries(1):
        again = reports.predictions_per_day(days=30)
    assert again[-3].counts == {"track_order": 1} and sum(day.total for day in again) == 1


def test_the_overview_counts_the_suggested_intents_once_they_are_grouped(
    lead_client, trained_versions
):
    first, _ = trained_versions
    for number, text in enumerate(["gift wrap please", "can you gift wrap it", "gift wrap?"]):
        made = classified(first, f"a-{number}", text, VERY_UNSURE)
        Prediction.objects.filter(pk=made.pk).update(intent="", abstained=True)
    overview = reverse("intents:overview")

    assert "open to group" in lead_client.get(overview).content.decode()
    lead_client.get(reverse("intents:suggestions"))
    waits = lead_client.get(overview).context
    assert waits["suggested_groups"] is not None and len(waits["suggested_groups"]) == 1


@pytest.fixture
def version_with_feedback(trained_versions):
    first, _ = trained_versions
    classified(first, "m-1", "where is my order 1", SURE)
    classified(first, "m-2", "refund order 2", SURE)
    intent_feedback_record(kustomer_message_id="m-1", agent=ADA, confirm=True)
    intent_feedback_record(kustomer_message_id="m-2", agent=ADA, intent_name="get_refund")


# --- Dataset -----------------------------------------------------------------------------------


def test_the_dataset_filters_by_the_url_and_pages_by_keyset(lead_client, labelled_examples):
    url = reverse("intents:dataset")

    first = lead_client.get(url, {"intent": "get_refund", "status": "trusted"})
    page = first.context["page"]
    assert page.total == 18
    assert len(page.examples) == 18 and page.next_before is None

    everything = lead_client.get(url).context["page"]
    assert everything.total == 72 and len(everything.examples) == 50
    second = lead_client.get(url, {"before": everything.next_before}).context["page"]
    assert len(second.examples) == 22
    assert max(e.id for e in second.examples) < min(e.id for e in everything.examples)

    found = lead_client.get(url, {"q": "REFUND ORDER #"}).context["page"]
    assert {example.intent.name for example in found.examples} == {"get_refund"}


def test_the_dataset_filters_by_the_days_labelled_and_by_the_evaluation_set(
    lead_client, labelled_examples, settings
):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    settings.TIME_ZONE = "Europe/Paris"
    paris = ZoneInfo("Europe/Paris")
    ids = list(LabeledExample.objects.order_by("id").values_list("id", flat=True))
    # 23:30 on 2 Nov in Paris is 22:30 UTC: the day is Paris's.
    days = {ids[0]: (1, 12), ids[1]: (2, 23), ids[2]: (3, 0), ids[3]: (4, 9)}
    for example_id, (day, hour) in days.items():
        LabeledExample.objects.filter(pk=example_id).update(
            labelled_at=datetime(2026, 11, day, hour, 30, tzinfo=paris)
        )
    LabeledExample.objects.filter(pk__in=ids[1:3]).update(held_out_at=timezone.now())
    url = reverse("intents:dataset")

    def found(**query) -> set[int]:
        response = lead_client.get(url, query)
        return {example.id for example in response.context["page"].examples}

    assert found(**{"from": "2026-11-02", "to": "2026-11-03"}) == {ids[1], ids[2]}
    assert found(**{"to": "2026-11-01"}) == {ids[0]}
    assert found(set="evaluation") == {ids[1], ids[2]}
    assert lead_client.get(url, {"set": "training"}).context["page"].total == len(ids) - 2
    assert found(**{"from": "2026-11-02", "to": "2026-11-04", "set": "training"}) == {ids[3]}
    page = lead_client.get(url, {"from": "2 Nov", "to": "2026-11-01"}).content.decode()
    assert "“2 Nov” is not a date (YYYY-MM-DD), so the list is not filtered by it." in page
    assert 'value="2026-11-01"' in page  # the date that was one stays in the form


def test_a_bulk_change_reaches_the_examples_of_the_days_asked_for_only(
    lead_client, labelled_examples
):
    from datetime import UTC, datetime

    ids = list(LabeledExample.objects.order_by("id").values_list("id", flat=True))
    LabeledExample.objects.filter(pk__in=ids[:3]).update(
        labelled_at=datetime(2026, 10, 5, 12, tzinfo=UTC)
    )

    lead_client.post(
        reverse("intents:dataset-bulk"),
        {"from": "2026-10-05", "to": "2026-10-05", "expected_total": "3", "choice": "delete"},
    )

    assert not LabeledExample.objects.filter(pk__in=ids[:3]).exists()
    assert LabeledExample.objects.count() == len(ids) - 3


def test_relabelling_an_example_is_recorded_and_can_be_undone(
    lead_client, reviewer, labelled_examples
):
    example = LabeledExample.objects.filter(intent__name="track_order").first()

    response = lead_client.post(
        reverse("intents:example-relabel", args=[example.id]),
        {"intent": "cancel_order", "next": "/training/dataset/?intent=track_order"},
    )

    assert response.url == "/training/dataset/?intent=track_order"
    example.refresh_from_db()
    assert (example.intent.name, example.labelled_by) == ("cancel_order", "lead")
    decision = LabelDecision.objects.get()
    assert (decision.decided_by, decision.previous["labelled_by"]) == (reviewer, "")

    lead_client.post(reverse("intents:queue-undo"), HTTP_ACCEPT="application/json")
    example.refresh_from_db()
    assert example.intent.name == "track_order"


def test_relabelling_goes_back_only_to_the_dataset(lead_client, labelled_examples):
    example = LabeledExample.objects.first()

    response = lead_client.post(
        reverse("intents:example-relabel", args=[example.id]),
        {"intent": "cancel_order", "next": "https://evil.example/"},
    )

    assert response.url == reverse("intents:dataset")


# --- Intents -----------------------------------------------------------------------------------


def test_the_intents_page_shows_counts_and_the_active_models_f1(lead_client, trained_versions):
    rows = lead_client.get(reverse("intents:intents")).context["rows"]

    by_name = {row.intent.name: row for row in rows}
    assert by_name["track_order"].trusted == 18
    assert by_name["track_order"].f1 == pytest.approx(1.0)


def test_creating_an_intent_is_recorded(lead_client, reviewer, intents):
    lead_client.post(
        reverse("intents:intent-create"), {"name": "Exchange item", "description": "swap it"}
    )

    intent = Intent.objects.get(name="exchange_item")
    assert intent.description == "swap it"
    assert IntentChange.objects.get().performed_by == reviewer
    duplicate = lead_client.post(
        reverse("intents:intent-create"), {"name": "exchange_item"}, follow=True
    )
    assert "already an intent named" in duplicate.content.decode()


def test_merging_moves_the_examples_keeps_who_labelled_them_and_retires_the_intent(
    lead_client, reviewer, labelled_examples
):
    source = Intent.objects.get(name="cancel_order")
    moved = set(LabeledExample.objects.filter(intent=source).values_list("id", "labelled_by"))

    lead_client.post(
        reverse("intents:intent-change", args=[source.id]),
        {"action": "merge", "target": "get_refund"},
    )

    source.refresh_from_db()
    assert source.active is False
    assert (
        set(
            LabeledExample.objects.filter(id__in=[i for i, _ in moved]).values_list(
                "id", "labelled_by"
            )
        )
        == moved
    )
    assert LabeledExample.objects.filter(intent__name="get_refund").count() == 36
    change = IntentChange.objects.get()
    assert (change.action, change.target.name, change.performed_by) == (
        "merge",
        "get_refund",
        reviewer,
    )
    assert sorted(change.example_ids) == sorted(i for i, _ in moved)


def test_describing_and_retiring_are_recorded(lead_client, intents):
    intent = Intent.objects.get(name="track_order")
    url = reverse("intents:intent-change", args=[intent.id])

    lead_client.post(url, {"action": "describe", "description": "Where is my parcel"})
    lead_client.post(url, {"action": "retire"})

    intent.refresh_from_db()
    assert (intent.description, intent.active) == ("Where is my parcel", False)
    assert list(IntentChange.objects.order_by("id").values_list("action", flat=True)) == [
        "describe",
        "retire",
    ]


def test_staff_without_the_intent_permission_cannot_change_intents(
    client, django_user_model, intents
):
    user = django_user_model.objects.create_user("viewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_labeledexample"))
    client.force_login(user)

    response = client.post(reverse("intents:intent-create"), {"name": "new_one"})

    assert response.status_code == 403
    assert not Intent.objects.filter(name="new_one").exists()


def test_two_versions_side_by_side_per_intent(lead_client, trained_versions):
    first, second = trained_versions

    response = lead_client.get(
        reverse("intents:versions-compare"), {"base": first.number, "other": second.number}
    )

    assert response.status_code == 200
    rows = response.context["rows"]
    assert {row.name for row in rows} == {
        "track_order",
        "get_refund",
        "cancel_order",
        "change_shipping_address",
    }
    assert all(row.delta == pytest.approx(0.0) for row in rows)
    assert "v1 and v2, side by side" in response.content.decode()


def test_comparing_without_two_versions_goes_back_to_the_list(lead_client, trained_versions):
    response = lead_client.get(reverse("intents:versions-compare"), {"base": "1"})

    assert response.url == reverse("intents:versions")


def test_cancelling_a_queued_run_keeps_who_cancelled_it_and_the_task_trains_nothing(
    lead_client, labelled_examples
):
    version = model_version_create()

    lead_client.post(reverse("intents:training-cancel", args=[version.number]))
    model_version_train(version_id=version.id)  # the task, arriving late

    version.refresh_from_db()
    assert version.status == "failed"
    assert version.failure_reason.startswith("Cancelled by lead")
    assert version.artifact is None
    again = lead_client.post(reverse("intents:training-cancel", args=[version.number]), follow=True)
    assert "had already ended" in again.content.decode()


def test_a_bulk_relabel_reaches_every_page_of_the_result_and_one_undo_reverts_it(
    lead_client, reviewer, labelled_examples
):
    # Shown 50 to a page: a filter on "or" (most texts have it) spans pages.
    filters = {"q": "or", "intent": "", "source": "", "status": "", "labelled_by": ""}
    total = lead_client.get(reverse("intents:dataset"), {"q": "or"}).context["page"].total
    assert total > 50
    fields = ("id", "intent__name", "status", "labelled_by", "labelled_at")
    before = set(LabeledExample.objects.values_list(*fields))

    response = lead_client.post(
        reverse("intents:dataset-bulk"),
        {
            **filters,
            "expected_total": total,
            "choice": "label",
            "new_intent": "cancel_order",
            "query": "q=or",
        },
    )

    assert response.url == "/training/dataset/?q=or"
    matching = LabeledExample.objects.filter(text__icontains="or")
    assert set(matching.values_list("intent__name", flat=True)) == {"cancel_order"}
    assert set(matching.values_list("labelled_by", flat=True)) == {"lead"}
    assert LabelDecision.objects.filter(decided_by=reviewer).count() == total
    assert LabelDecision.objects.values("batch").distinct().count() == 1

    undo = lead_client.post(reverse("intents:queue-undo"), {"next": "/training/dataset/?q=or"})

    assert undo.url == "/training/dataset/?q=or"

    assert set(LabeledExample.objects.values_list(*fields)) == before
    assert not LabelDecision.objects.filter(undone_at__isnull=True).exists()


def test_a_bulk_accept_trusts_the_pending_examples_with_their_own_intents(lead_client, world):
    filters = {"q": "", "intent": "", "source": "", "status": "pending_review", "labelled_by": ""}

    lead_client.post(
        reverse("intents:dataset-bulk"), {**filters, "expected_total": 1, "choice": "accept"}
    )

    example = LabeledExample.objects.get(kustomer_message_id="m-corrected")
    assert (example.intent.name, example.status) == ("get_refund", "trusted")
    assert LabelDecision.objects.get().action == "accept"


def test_a_bulk_change_on_a_list_that_changed_since_it_was_shown_does_nothing(lead_client, world):
    filters = {"q": "", "intent": "", "source": "", "status": "pending_review", "labelled_by": ""}

    response = lead_client.post(
        reverse("intents:dataset-bulk"),
        {**filters, "expected_total": 5, "choice": "accept"},
        follow=True,
    )

    assert "The list has changed since you loaded it: 1 examples match now" in (
        response.content.decode()
    )
    assert not LabelDecision.objects.exists()


def test_renaming_changes_the_name_people_read_and_keeps_the_key(lead_client, reviewer, intents):
    track = Intent.objects.get(name="track_order")

    response = lead_client.post(
        reverse("intents:intent-change", args=[track.id]),
        {"action": "rename", "title": "Where is my order"},
        follow=True,
    )

    assert "track_order is now called Where is my order." in response.content.decode()
    track.refresh_from_db()
    assert (track.name, track.display_name) == ("track_order", "Where is my order")
    # Everything that names intents by the key the model predicts reads the new title.
    assert intent_display_name("track_order") == "Where is my order"
    change = IntentChange.objects.get(action=IntentChange.Action.RENAME)
    assert (change.detail, change.performed_by) == ("Track order", reviewer)
    page = lead_client.get(reverse("intents:intents")).content.decode()
    assert "once called “Track order”" in page


def test_a_rename_to_another_intents_name_or_to_nothing_is_refused(lead_client, intents):
    track = Intent.objects.get(name="track_order")

    for title, sentence in [
        ("Get refund", "get_refund is already called &#x27;Get refund&#x27;."),
        ("   ", "Give the intent a name people will read"),
    ]:
        response = lead_client.post(
            reverse("intents:intent-change", args=[track.id]),
            {"action": "rename", "title": title},
            follow=True,
        )
        assert sentence in response.content.decode()
    track.refresh_from_db()
    assert track.title == ""


def test_editing_an_examples_text_is_recorded_and_undone(lead_client, reviewer, labelled_examples):
    example = LabeledExample.objects.order_by("id").first()
    before = example.text

    lead_client.post(
        reverse("intents:example-change", args=[example.id]),
        {"action": "edit", "text": "  where is my parcel 1000  "},
    )

    example.refresh_from_db()
    assert (example.text, example.text_sha256) == (
        "where is my parcel 1000",
        text_fingerprint("where is my parcel 1000"),
    )
    decision = LabelDecision.objects.get(action="edit")
    assert (decision.previous["text"], decision.decided_by) == (before, reviewer)
    lead_client.post(reverse("intents:queue-undo"), {"next": reverse("intents:dataset")})
    example.refresh_from_db()
    assert example.text == before


def test_an_edit_to_another_examples_text_or_to_nothing_is_refused(lead_client, labelled_examples):
    first, second = LabeledExample.objects.order_by("id")[:2]

    for text, sentence in [(second.text, "Another example already has this text."), ("  ", "")]:
        response = lead_client.post(
            reverse("intents:example-change", args=[first.id]),
            {"action": "edit", "text": text},
            follow=True,
        )
        assert sentence in response.content.decode()
    assert not LabelDecision.objects.exists()


def test_a_deleted_example_is_kept_in_the_history_and_undo_brings_it_back(
    lead_client, reviewer, labelled_examples
):
    example = LabeledExample.objects.order_by("id").first()
    fields = {f: getattr(example, f) for f in ("text", "intent_id", "source", "labelled_at")}

    lead_client.post(reverse("intents:example-change", args=[example.id]), {"action": "delete"})

    assert not LabeledExample.objects.filter(pk=example.pk).exists()
    decision = LabelDecision.objects.get(action="delete")
    assert (decision.item_id, decision.previous["text"]) == (example.pk, fields["text"])
    lead_client.post(reverse("intents:queue-undo"), {"next": reverse("intents:dataset")})
    restored = LabeledExample.objects.get(pk=example.pk)
    assert {f: getattr(restored, f) for f in fields} == fields


def test_a_bulk_delete_reaches_every_page_and_one_undo_brings_them_back(
    lead_client, labelled_examples
):
    total = LabeledExample.objects.filter(intent__name="track_order").count()
    fields = ("id", "text", "intent__name", "source", "status", "labelled_by", "labelled_at")
    before = set(LabeledExample.objects.values_list(*fields))

    response = lead_client.post(
        reverse("intents:dataset-bulk"),
        {"intent": "track_order", "expected_total": str(total), "choice": "delete"},
        follow=True,
    )

    assert f"{total} examples deleted. Undo brings them all back." in response.content.decode()
    assert not LabeledExample.objects.filter(intent__name="track_order").exists()
    lead_client.post(reverse("intents:queue-undo"), {"next": reverse("intents:dataset")})
    assert set(LabeledExample.objects.values_list(*fields)) == before


def test_examples_of_the_frozen_evaluation_set_are_relabelled_never_deleted(
    lead_client, reviewer, labelled_examples
):
    curation.evaluation_set_freeze(user=reviewer, share=0.25)
    frozen = LabeledExample.objects.filter(held_out_at__isnull=False).first()

    one = lead_client.post(
        reverse("intents:example-change", args=[frozen.id]), {"action": "delete"}, follow=True
    )
    assert "This example is in the frozen evaluation set" in one.content.decode()
    total = LabeledExample.objects.filter(intent=frozen.intent).count()
    every = lead_client.post(
        reverse("intents:dataset-bulk"),
        {"intent": frozen.intent.name, "expected_total": str(total), "choice": "delete"},
        follow=True,
    )
    held = LabeledExample.objects.filter(intent=frozen.intent, held_out_at__isnull=False).count()
    assert f"{held} of these examples are in the frozen evaluation set" in every.content.decode()
    assert LabeledExample.objects.filter(intent=frozen.intent).count() == total

    # Outside the set, the same bulk delete goes through.
    trainable = total - held
    lead_client.post(
        reverse("intents:dataset-bulk"),
        {
            "intent": frozen.intent.name,
            "set": "training",
            "expected_total": str(trainable),
            "choice": "delete",
        },
    )
    assert LabeledExample.objects.filter(intent=frozen.intent).count() == held


def test_a_large_confusion_matrix_keeps_the_intents_most_mixed_up():
    from intents.metrics import ConfusionMatrix, IntentScores, TrainingMetrics
    from intents.reports import confusion_heat_map

    labels = [f"intent_{n}" for n in range(6)]
    matrix = [[10 if i == j else 0 for j in range(6)] for i in range(6)]
    matrix[4][1] = 7  # intent_4 taken for intent_1
    matrix[5][3] = 2
    metrics = TrainingMetrics(
        accuracy=0.9,
        macro_f1=0.9,
        per_intent={label: IntentScores(0.9, 0.9, 0.9, 10) for label in labels},
        confusion_matrix=ConfusionMatrix(labels, matrix),
        calibration_error=0.0,
        threshold=0.5,
        coverage=1.0,
        precision_at_threshold=0.9,
        n_train=60,
        n_test=60,
        n_labels=6,
    )

    rows = confusion_heat_map(metrics, limit=3)

    assert [row.label for row in rows] == ["intent_1", "intent_3", "intent_4"]
    assert [cell.count for cell in rows[2].cells] == [7, 0, 10]  # intent_4's row, kept columns
    assert len(confusion_heat_map(metrics)) == 6


def test_a_queue_item_shows_the_customers_other_messages_of_the_conversation(lead_client, world):
    from copilot.inbox.models import InboundMessage

    for message_id, text in [
        ("m-before", "I ordered the blue kettle last week"),
        ("m-corrected", "where is my parcel, it is late"),
        ("m-after", "never mind, it just arrived"),
    ]:
        InboundMessage.objects.create(
            kustomer_message_id=message_id,
            conversation_id="conv-m-corrected",
            customer_id="customer-1",
            text=text,
        )

    page = lead_client.get(reverse("intents:queue")).content.decode()

    assert "The customer's 3 messages in this conversation" in page
    assert page.index("I ordered the blue kettle") < page.index("never mind, it just arrived")
    assert 'aria-current="true"' in page


def test_a_change_to_an_intent_that_does_not_exist_is_a_sentence(lead_client, intents):
    response = lead_client.post(
        reverse("intents:intent-change", args=[999999]), {"action": "retire"}, follow=True
    )

    assert response.status_code == 200
    assert "This intent does not exist. Reload the page" in response.content.decode()


def test_undo_in_the_queue_of_a_dataset_change_does_not_show_it_as_a_queue_item(
    lead_client, labelled_examples
):
    example = LabeledExample.objects.filter(intent__name="track_order").first()
    lead_client.post(
        reverse("intents:example-relabel", args=[example.id]), {"intent": "cancel_order"}
    )

    undone = lead_client.post(reverse("intents:queue-undo"), HTTP_ACCEPT="application/json")

    body = undone.json()
    assert body["ok"] and "which was not a queue item; the queue goes on" in body["message"]
    assert example.text not in body["html"]
    example.refresh_from_db()
    assert (example.intent.name, example.status) == ("track_order", "trusted")


def test_each_confused_pair_links_to_the_examples_the_version_took_for_the_other_intent(
    lead_client, labelled_examples
):
    # Three parcels-not-here messages labelled as refunds: trained without them, the model
    # takes them for what they are.
    mislabelled = ["where is my parcel 77, not arrived", "has my order 78 shipped", "tracking 79?"]
    examples_import(
        rows=[
            LabelledRow(text=text, intent="get_refund", row=n)
            for n, text in enumerate(mislabelled, 1)
        ]
    )
    version = model_version_train(version_id=model_version_create().id)

    detail = lead_client.get(reverse("intents:version-detail", args=[version.number]))
    link = f"/training/versions/{version.number}/confused?true=get_refund&amp;predicted=track_order"
    assert link in detail.content.decode()

    page = lead_client.get(
        reverse("intents:version-confused", args=[version.number]),
        {"true": "get_refund", "predicted": "track_order"},
    )
    shown = [example.text for example in page.context["examples"]]
    assert set(mislabelled) <= set(shown)
    assert "get_refund taken for track_order" in page.content.decode()
    example = LabeledExample.objects.get(text=mislabelled[0])
    assert reverse("intents:example-history", args=[example.id]) in page.content.decode()

    # Relabelled from the page, which it comes back to, saying what the example is now.
    here = page.request["PATH_INFO"] + "?" + page.request["QUERY_STRING"]
    back = lead_client.post(
        reverse("intents:example-relabel", args=[example.id]),
        {"intent": "track_order", "next": here},
        follow=True,
    )
    assert back.redirect_chain[-1][0] == here
    example.refresh_from_db()
    assert example.intent.name == "track_order"
    assert "now track_order" in back.content.decode()


def test_a_version_trained_before_its_confusions_were_kept_says_so(lead_client, trained_versions):
    first, _ = trained_versions
    ModelVersionDataset.objects.filter(version=first).update(confusions=None)

    page = lead_client.get(
        reverse("intents:version-confused", args=[first.number]), {"true": "get_refund"}
    )

    assert (
        "was trained before the examples behind its confusions were kept" in page.content.decode()
    )
