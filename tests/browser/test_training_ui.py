"""The training UI in Chromium: a team lead signs in through the admin's login and labels the
queue with the keyboard alone; each label brings the next message at once, and undo brings the
last one back."""

import re
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.utils import timezone
from playwright.sync_api import Page, expect

from copilot.agents import Agent
from intents import prediction as intent_prediction
from intents import services
from intents.classifier import IntentPrediction
from intents.importing import LabelledRow
from intents.models import IntentFeedback, LabelDecision, LabeledExample, ModelVersion
from intents.prediction import Classification
from intents.services import (
    examples_import,
    intent_feedback_record,
    model_version_activate,
    model_version_create,
    model_version_train,
    prediction_record,
)
from tests.browser.conftest import Origins
from tests.browser.helpers import axe, describe_violations, screenshot
from tests.factories import labelled_rows

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADA = Agent(id="agent-ada", name="Ada Lovelace")
FIRST = "My parcel came broken, I want my money back"
SECOND = "Can I stop the order before it ships, or get a refund?"
THIRD = "Please send it to my office instead"
FOURTH = "Where is it, or should I just cancel?"
FIFTH = "I moved last week, is it too late to change where it goes?"
SIXTH = "Hello?"


def _classified(version: ModelVersion, message_id: str, text: str, top) -> None:
    prediction = IntentPrediction(intent=top[0][0], confidence=top[0][1], top=top, abstained=False)
    prediction_record(
        text=text,
        classification=Classification(prediction, version.id, version.number, 3.0),
        kustomer_message_id=message_id,
        kustomer_conversation_id=f"conv-{message_id}",
    )


@pytest.fixture
def queue_world(settings) -> Iterator[ModelVersion]:
    """A trained, active model, a challenger, and six messages waiting: an agent's correction,
    then five predictions the model was unsure of."""
    settings.INTENT_MIN_EXAMPLES = 5
    settings.INTENT_MODEL_REFRESH_SECONDS = 0
    examples_import(rows=labelled_rows())
    first = model_version_train(version_id=model_version_create().id)
    model_version_activate(version_id=first.id)
    model_version_train(version_id=model_version_create().id)
    _classified(
        first, "m-1", FIRST, [("track_order", 0.62), ("get_refund", 0.30), ("cancel_order", 0.08)]
    )
    intent_feedback_record(kustomer_message_id="m-1", agent=ADA, intent_name="get_refund")
    _classified(
        first, "m-2", SECOND, [("cancel_order", 0.40), ("get_refund", 0.39), ("track_order", 0.21)]
    )
    _classified(
        first,
        "m-3",
        THIRD,
        [("track_order", 0.37), ("change_shipping_address", 0.35), ("cancel_order", 0.28)],
    )
    _classified(
        first, "m-4", FOURTH, [("track_order", 0.45), ("cancel_order", 0.40), ("get_refund", 0.15)]
    )
    _classified(
        first,
        "m-5",
        FIFTH,
        [("change_shipping_address", 0.48), ("track_order", 0.40), ("cancel_order", 0.12)],
    )
    _classified(
        first, "m-6", SIXTH, [("track_order", 0.50), ("get_refund", 0.38), ("cancel_order", 0.12)]
    )
    _agents_gave_feedback_for_two_weeks(first)
    get_user_model().objects.create_superuser("lead", "lead@example.com", "a-long-password-1")
    intent_prediction.active_model.clear()
    yield first
    intent_prediction.active_model.clear()


def _agents_gave_feedback_for_two_weeks(version: ModelVersion) -> None:
    """Verdicts on messages the dataset already holds (so none waits in the queue), more of
    them confirming the model as the days go by."""
    rows = labelled_rows()
    intents = sorted({row.intent for row in rows})
    for day in range(14):
        for index in range(4):
            row = rows[day * 4 + index]
            right = index < 1 + (13 - day) // 4
            guess = row.intent if right else next(name for name in intents if name != row.intent)
            message_id = f"history-{day}-{index}"
            _classified(version, message_id, row.text, [(guess, 0.8), (row.intent, 0.1)])
            intent_feedback_record(
                kustomer_message_id=message_id, agent=ADA, intent_name=row.intent
            )
            IntentFeedback.objects.filter(kustomer_message_id=message_id).update(
                updated_at=timezone.now() - timedelta(days=day)
            )


def sign_in(page: Page, origins: Origins, path: str) -> None:
    page.goto(f"{origins.app}{path}")
    page.get_by_label("Username").fill("lead")
    page.get_by_label("Password").fill("a-long-password-1")
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    # The URL changes before the page's script has run; keys pressed then would go unheard.
    page.wait_for_load_state("load")


def test_a_lead_labels_the_queue_with_the_keyboard_alone(
    page: Page, origins: Origins, queue_world
) -> None:
    sign_in(page, origins, "/training/queue/")
    message = page.get_by_role("article", name="Message to label")
    expect(message).to_contain_text(FIRST)
    expect(message.get_by_role("button", name=re.compile(r"^Accept"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Labelling queue"))).to_contain_text("1")
    screenshot(page, "training-queue-1280")
    page.set_viewport_size({"width": 1440, "height": 900})
    screenshot(page, "training-queue-1440")

    # Enter accepts the suggestion (the agent's pick); the next message is there at once.
    page.keyboard.press("Enter")
    expect(message).to_contain_text(SECOND)
    expect(page.locator("#queue-status")).to_have_text("Labelled “Get refund”.")

    # A number key picks that intent: 2 is the model's second guess here.
    page.keyboard.press("2")
    expect(message).to_contain_text(THIRD)

    # "/" searches every intent; Enter labels with the one found.
    page.keyboard.press("/")
    search = page.get_by_role("combobox", name="Search all intents")
    expect(search).to_be_focused()
    search.press_sequentially("change_shipping_address")
    search.press("Enter")
    expect(message).to_contain_text(FOURTH)

    # u undoes the last label: the third message comes back and its example is gone.
    page.keyboard.press("u")
    expect(message).to_contain_text(THIRD)
    expect(page.locator("#queue-status")).to_have_text("Undone: labelled.")
    assert not LabeledExample.objects.filter(kustomer_message_id="m-3").exists()

    # Labelled again; the fourth with 1 and the fifth with Enter (the model's guess), then the
    # sixth is skipped with s: the queue is empty. Five labels, keys alone.
    page.keyboard.press("3")
    expect(message).to_contain_text(FOURTH)
    page.keyboard.press("1")
    expect(message).to_contain_text(FIFTH)
    page.keyboard.press("Enter")
    expect(message).to_contain_text(SIXTH)
    page.keyboard.press("s")
    expect(page.get_by_role("heading", name="Nothing waits for a label")).to_be_visible()

    labelled = {
        example.kustomer_message_id: (example.intent.name, example.status, example.labelled_by)
        for example in LabeledExample.objects.filter(
            kustomer_message_id__in=["m-1", "m-2", "m-3", "m-4", "m-5", "m-6"]
        )
    }
    assert labelled == {
        "m-1": ("get_refund", "trusted", "lead"),
        "m-2": ("get_refund", "trusted", "lead"),
        "m-3": ("cancel_order", "trusted", "lead"),
        "m-4": ("track_order", "trusted", "lead"),
        "m-5": ("change_shipping_address", "trusted", "lead"),
    }
    decisions = list(
        LabelDecision.objects.order_by("id").values_list(
            "action", "undone_at", "decided_by__username"
        )
    )
    assert [(action, undone is not None) for action, undone, _ in decisions] == [
        ("accept", False),
        ("label", False),
        ("label", True),
        ("label", False),
        ("label", False),
        ("accept", False),
        ("skip", False),
    ]
    assert {who for *_, who in decisions} == {"lead"}

    # u brings the skipped one back, then "?" shows every shortcut.
    page.keyboard.press("u")
    expect(message).to_contain_text(SIXTH)
    violations = axe(page)
    assert not violations, describe_violations(violations)
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    screenshot(page, "training-shortcuts-1440", full_page=False)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # "g" then "s" goes to the suggested intents; the "s" does not also skip the message.
    page.keyboard.press("g")
    page.keyboard.press("s")
    expect(page.get_by_role("heading", name="Suggested intents", level=1)).to_be_visible()
    assert LabelDecision.objects.filter(action="skip", undone_at__isnull=True).count() == 0


def test_the_overview_and_versions_pages_read_well(
    page: Page, origins: Origins, queue_world
) -> None:
    sign_in(page, origins, "/training/")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    violations = axe(page)
    assert not violations, describe_violations(violations)
    screenshot(page, "training-overview-1280")

    training_nav = page.get_by_role("navigation", name="Training")
    training_nav.get_by_role("link", name=re.compile("^Versions")).click()
    expect(page.get_by_role("heading", name="All versions")).to_be_visible()
    page.get_by_role("combobox", name="Hold out").select_option("10")
    page.get_by_role("textbox", name="Why").fill("A fixed yardstick before the holidays")
    page.get_by_role("button", name="Freeze an evaluation set").click()
    frozen = re.compile(r"^Revision 1 of the evaluation set: \d+ examples")
    expect(page.get_by_text(frozen)).to_be_visible()
    revisions = page.get_by_role("table", name="Revisions of the evaluation set")
    expect(revisions).to_contain_text("A fixed yardstick before the holidays")
    expect(page.get_by_role("button", name="Add examples to the set")).to_be_visible()
    violations = axe(page)
    assert not violations, describe_violations(violations)
    screenshot(page, "training-versions-1280")

    page.set_viewport_size({"width": 1440, "height": 900})
    page.get_by_role("link", name="v2", exact=True).click()
    expect(page.get_by_role("heading", name="Confusion matrix")).to_be_visible()
    expect(page.get_by_role("button", name="Promote v2")).to_be_visible()
    violations = axe(page)
    assert not violations, describe_violations(violations)
    screenshot(page, "training-version-1440")


def test_the_dataset_and_intents_pages_read_well(page: Page, origins: Origins, queue_world) -> None:
    sign_in(page, origins, "/training/dataset/")
    filters = page.get_by_role("search", name="Filter examples")
    filters.get_by_role("combobox", name="Intent").fill("get_refund")
    filters.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"intent=get_refund"))
    expect(page.get_by_text("19 examples match these filters.")).to_be_visible()
    violations = axe(page)
    assert not violations, describe_violations(violations)
    screenshot(page, "training-dataset-1280")

    # One example relabelled, then its history: how it was added and the relabel, by whom.
    first_row = page.get_by_role("row").nth(1)
    first_row.get_by_role("combobox", name=re.compile(r"^New intent for example")).fill(
        "track_order"
    )
    first_row.get_by_role("button", name="Relabel").click()
    expect(page.get_by_text("18 examples match these filters.")).to_be_visible()
    page.goto(page.url.split("?")[0])
    page.get_by_role("link", name=re.compile(r"^History of example")).first.click()
    expect(page.get_by_role("heading", name=re.compile(r"^History of example"))).to_be_visible()
    expect(page.get_by_text("Relabelled get_refund → track_order")).to_be_visible()
    violations = axe(page)
    assert not violations, describe_violations(violations)
    screenshot(page, "training-example-history-1280")

    page.set_viewport_size({"width": 1440, "height": 900})
    training_nav = page.get_by_role("navigation", name="Training")
    training_nav.get_by_role("link", name=re.compile("^Intents")).click()
    expect(page.get_by_role("heading", name="Intents", exact=True)).to_be_visible()
    page.get_by_text("Change get_refund").click()
    expect(page.get_by_role("combobox", name="Merge into").first).to_be_visible()
    violations = axe(page)
    assert not violations, describe_violations(violations)
    screenshot(page, "training-intents-1440")


def test_a_lead_compares_promotes_and_rolls_back(page: Page, origins: Origins, queue_world) -> None:
    # A frozen evaluation set first: the comparison scores both versions on its messages.
    sign_in(page, origins, "/training/versions/")
    page.get_by_role("combobox", name="Hold out").select_option("10")
    page.get_by_role("textbox", name="Why").fill("The same yardstick for every version")
    page.get_by_role("button", name="Freeze an evaluation set").click()
    expect(page.get_by_text(re.compile(r"^Revision 1 of the evaluation set"))).to_be_visible()

    page.get_by_role("link", name="v2", exact=True).first.click()
    page.get_by_role("link", name="Compare with the active v1, per intent").click()
    expect(page.get_by_role("heading", name="v1 and v2, side by side")).to_be_visible()
    expect(
        page.get_by_text(
            re.compile(
                r"^Both versions on the same \d+ messages of the frozen evaluation set, revision 1"
            )
        )
    ).to_be_visible()
    violations = axe(page)
    assert not violations, describe_violations(violations)
    screenshot(page, "training-compare-1280")

    page.go_back()
    page.get_by_role("textbox", name="Why promote v2 over v1?").fill("More data on refunds")
    page.get_by_role("button", name="Promote v2").click()
    expect(page.get_by_text("v2 is now the active model.")).to_be_visible()

    page.get_by_role("textbox", name="Why roll back to v1").fill("Agents correct it more")
    page.get_by_role("button", name="Roll back to v1").click()
    expect(page.get_by_text("Rolled back: v1 is the active model again")).to_be_visible()
    history = page.get_by_role("table").filter(has_text="Agents correct it more")
    expect(history).to_contain_text("Rolled back to v1, replacing v2")
    expect(history).to_contain_text("Promoted to v2, replacing v1")
    violations = axe(page)
    assert not violations, describe_violations(violations)
    screenshot(page, "training-versions-history-1280")


def test_a_training_run_shows_its_progress_until_it_is_ready(
    page: Page, origins: Origins, queue_world, broker, monkeypatch
) -> None:
    sign_in(page, origins, "/training/versions/")
    page.get_by_role("button", name="Train a new version").click()
    expect(page.get_by_text(re.compile(r"^Training v\d+ has started\."))).to_be_visible()
    version = ModelVersion.objects.get(status=ModelVersion.Status.QUEUED)
    assert broker.published == [("intents.tasks.train_model_version", (version.id,))]
    run = page.get_by_role("progressbar", name=f"Training v{version.number}")
    expect(run).to_be_visible()
    expect(page.get_by_role("button", name="Train a new version")).to_be_disabled()

    # The worker's part, in a thread: real training, held at its first step past a fifth of
    # the way, so that the page is seen following it there.
    halfway, go_on = threading.Event(), threading.Event()
    write_progress = services._ProgressWriter.__call__

    def held(writer, fraction: float, message: str) -> None:
        write_progress(writer, fraction, message)
        if fraction >= 0.2 and not halfway.is_set():
            halfway.set()
            go_on.wait(timeout=30)

    monkeypatch.setattr(services._ProgressWriter, "__call__", held)

    def worker() -> None:
        try:
            model_version_train(version_id=version.id)
        finally:
            connections.close_all()

    training = threading.Thread(target=worker)
    training.start()
    try:
        assert halfway.wait(timeout=30)
        step = ModelVersion.objects.get(pk=version.id).progress_message
        shown = page.get_by_text(re.compile(rf"^Training: {re.escape(step)} \((\d+)%\)$"))
        expect(shown).to_be_visible()
        percent = int(re.search(r"\((\d+)%\)", shown.inner_text()).group(1))
        assert 20 <= percent < 100
        expect(run).to_have_js_property("value", percent)
    finally:
        go_on.set()
        training.join(timeout=60)

    # The page follows the run to its end and shows the new version.
    expect(run).to_be_hidden(timeout=10_000)
    row = page.get_by_role("row", name=re.compile(rf"^v{version.number} "))
    expect(row).to_contain_text("Ready")
    expect(page.get_by_role("button", name="Train a new version")).to_be_enabled()


def test_a_lead_follows_a_confused_pair_to_its_examples_and_relabels_one(
    page: Page, origins: Origins, queue_world
) -> None:
    # Three parcels-not-here messages labelled as refunds, then a version trained on them.
    mislabelled = ["where is my parcel 77, not arrived", "has my order 78 shipped", "tracking 79?"]
    examples_import(
        rows=[
            LabelledRow(text=text, intent="get_refund", row=number)
            for number, text in enumerate(mislabelled, 1)
        ]
    )
    version = model_version_train(version_id=model_version_create().id)
    sign_in(page, origins, f"/training/versions/{version.number}/")

    pairs = page.get_by_role("region", name="Most confused pairs")
    pairs.get_by_role("link", name=re.compile(r"^get_refund taken for track_order")).click()
    expect(page.get_by_role("heading", name="get_refund taken for track_order")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=mislabelled[0])
    expect(row).to_be_visible()
    violations = axe(page)
    assert not violations, describe_violations(violations)
    screenshot(page, "training-confused-pair-1280")

    row.get_by_role("button", name=re.compile(r"^Relabel track_order")).click()
    expect(page.get_by_text("Relabelled “Track order”.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=mislabelled[0])).to_contain_text(
        "now track_order"
    )
    assert LabeledExample.objects.get(text=mislabelled[0]).intent.name == "track_order"
