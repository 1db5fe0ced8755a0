"""The dataset's files in the training UI: importing a CSV or JSON Lines file (a report first,
nothing saved until confirmed), exporting the filtered dataset, and exporting exactly what a
model version was trained on."""

import csv
import io
import json

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from intents.dataset_files import MAX_UPLOAD_BYTES
from intents.models import (
    Intent,
    IntentChange,
    LabeledExample,
    ModelVersionDataset,
)
from intents.services import (
    examples_import,
    intents_ensure,
    model_version_create,
    model_version_train,
)
from intents.training import training_data_hash
from tests.factories import labelled_rows

pytestmark = pytest.mark.django_db

IMPORT_URL = reverse("intents:dataset-import")


def _staff(django_user_model, username: str, *codenames: str):
    user = django_user_model.objects.create_user(username, password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def lead(django_user_model):
    """Staff who may view, label and change intents."""
    return _staff(
        django_user_model, "lead", "view_labeledexample", "change_labeledexample", "change_intent"
    )


@pytest.fixture
def lead_client(client, lead):
    client.force_login(lead)
    return client


@pytest.fixture
def dataset(db):
    intents_ensure(definitions=[(name, "") for name in ("track_order", "get_refund")])
    retired = Intent.objects.create(name="old_intent", active=False)
    examples_import(
        rows=_rows([("Where is my order 1042?", "track_order"), ("refund me please", "get_refund")])
    )
    return retired


def _rows(pairs):
    from intents.importing import LabelledRow

    return [
        LabelledRow(text=text, intent=intent, row=index)
        for index, (text, intent) in enumerate(pairs)
    ]


def _upload(client, name: str, content: str | bytes, **data):
    body = content.encode() if isinstance(content, str) else content
    return client.post(IMPORT_URL, {"file": SimpleUploadedFile(name, body), **data})


BAD_CSV = "\n".join(
    [
        "text,intent,labelled_by",
        "my parcel never came,track_order,ada",  # 1: new, labelled by the file
        ",track_order,",  # 2: empty text
        "WHERE is my   order 1042?,track_order,",  # 3: in the dataset already
        "can I swap the size,exchange_item,",  # 4: an intent that does not exist
        "My parcel never came,get_refund,",  # 5: the same text as row 1
        "stop the order,not a name!,",  # 6: not an intent's name
        "is this old,old_intent,",  # 7: a retired intent
        "cancel it now please,get_refund,",  # 8: new
    ]
)


def _report(client, response):
    assert response.status_code == 302, response.content.decode()[:500]
    return client.get(response["Location"])


def test_the_report_lists_every_problem_and_nothing_is_saved(lead_client, dataset):
    before = (LabeledExample.objects.count(), Intent.objects.count())

    report = _report(lead_client, _upload(lead_client, "examples.csv", BAD_CSV))

    assert report.status_code == 200
    figures = report.context["report"]
    assert len(figures.new) == 2
    assert figures.duplicates_of_examples == 1
    assert figures.duplicates_in_file == 1
    assert figures.unknown_intents == ["exchange_item"]
    assert figures.errors == 4
    assert [(line.row, line.refused) for line in figures.lines] == [
        (2, True),
        (3, False),
        (4, True),
        (5, False),
        (6, True),
        (7, True),
    ]
    page = report.content.decode()
    for sentence in (
        "The text is empty.",
        "The dataset has this text already, with the same intent.",
        "There is no intent &#x27;exchange_item&#x27;",
        "Row 1 has the same text, labelled &#x27;track_order&#x27;, and the first row wins.",
        "The intent &#x27;not a name!&#x27; is not a valid name",
        "The intent &#x27;old_intent&#x27; is retired",
        "Import 2 examples",
    ):
        assert sentence in page
    assert (LabeledExample.objects.count(), Intent.objects.count()) == before


def test_confirming_saves_the_new_rows_as_trusted_imports_in_the_users_name(lead_client, dataset):
    report = _report(lead_client, _upload(lead_client, "examples.csv", BAD_CSV))
    token = report.context["upload"].token

    response = lead_client.post(
        reverse("intents:dataset-import-confirm", args=[token]), {"expected_new": "2"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('intents:dataset')}?source=import"
    saved = {
        example.text: example
        for example in LabeledExample.objects.select_related("intent").exclude(
            text__in=["Where is my order 1042?", "refund me please"]
        )
    }
    assert set(saved) == {"my parcel never came", "cancel it now please"}
    assert saved["my parcel never came"].labelled_by == "ada"
    assert saved["cancel it now please"].labelled_by == "lead"
    assert {example.source for example in saved.values()} == {LabeledExample.Source.IMPORT}
    assert {example.status for example in saved.values()} == {LabeledExample.Status.TRUSTED}
    assert not Intent.objects.filter(name="exchange_item").exists()
    page = lead_client.get(response["Location"]).content.decode()
    assert "Imported 2 examples from examples.csv" in page
    assert "cancel it now please" in page

    again = lead_client.post(
        reverse("intents:dataset-import-confirm", args=[token]), {"expected_new": "2"}
    )

    assert again["Location"] == IMPORT_URL
    assert LabeledExample.objects.count() == 4


def test_missing_intents_are_created_only_when_chosen_and_their_creation_recorded(
    lead_client, lead, dataset
):
    report = _report(lead_client, _upload(lead_client, "examples.csv", BAD_CSV, create_intents="1"))
    assert report.context["report"].intents_to_create == ["exchange_item"]
    assert "Import 3 examples" in report.content.decode()
    token = report.context["upload"].token

    lead_client.post(
        reverse("intents:dataset-import-confirm", args=[token]),
        {"expected_new": "3", "create_intents": "1"},
    )

    example = LabeledExample.objects.get(text="can I swap the size")
    assert example.intent.name == "exchange_item"
    change = IntentChange.objects.get(intent__name="exchange_item")
    assert change.action == IntentChange.Action.CREATE
    assert change.performed_by == lead


def test_without_the_permission_to_change_intents_none_is_created(
    client, django_user_model, dataset
):
    labeller = _staff(django_user_model, "labeller", "view_labeledexample", "change_labeledexample")
    client.force_login(labeller)

    report = _report(client, _upload(client, "examples.csv", BAD_CSV, create_intents="1"))

    assert report.context["report"].intents_to_create == []
    assert "creating intents needs the permission to change intents" in report.content.decode()


def test_confirming_after_the_dataset_changed_asks_for_a_new_check(lead_client, dataset):
    report = _report(lead_client, _upload(lead_client, "examples.csv", BAD_CSV))
    token = report.context["upload"].token
    examples_import(rows=_rows([("cancel it now please", "get_refund")]))

    response = lead_client.post(
        reverse("intents:dataset-import-confirm", args=[token]), {"expected_new": "2"}
    )

    assert response["Location"] == reverse("intents:dataset-import-report", args=[token])
    page = lead_client.get(response["Location"]).content.decode()
    assert "1 examples would now be imported, not 2" in page
    assert not LabeledExample.objects.filter(text="my parcel never came").exists()


def test_a_jsonl_file_reports_its_bad_lines(lead_client, dataset):
    content = "\n".join(
        [
            json.dumps({"text": "where did it go", "intent": "track_order"}),
            "{not json",
            json.dumps(["a list"]),
            json.dumps({"text": "money back", "intent": ""}),
        ]
    )

    report = _report(lead_client, _upload(lead_client, "examples.jsonl", content))

    assert len(report.context["report"].new) == 1
    assert [(line.row, line.reason) for line in report.context["report"].lines] == [
        (2, "not valid JSON (Expecting property name enclosed in double quotes)."),
        (3, "expected a JSON object."),
        (4, "the intent is empty."),
    ]


@pytest.mark.parametrize(
    ("name", "content", "sentence"),
    [
        ("examples.txt", "text,intent\nhi,track_order\n", "Choose a .csv or a .jsonl file."),
        ("examples.csv", "message,label\nhi,x\n", "The header must name the columns"),
        ("examples.csv", "text,intent\n", "The file has no examples."),
        ("examples.csv", b"text,intent\n\xff\xfe,x\n", "The file is not UTF-8 text"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_a_sentence(
    lead_client, dataset, name, content, sentence
):
    response = _upload(lead_client, name, content)

    assert response.status_code == 400
    assert sentence in response.content.decode()
    assert LabeledExample.objects.count() == 2


def test_a_file_over_the_limit_is_refused_before_it_is_read(lead_client, dataset):
    header = b"text,intent\n"
    content = header + b"x" * (MAX_UPLOAD_BYTES - len(header) + 1)

    response = _upload(lead_client, "big.csv", content)

    assert response.status_code == 413
    assert "The file is 5.1 MB; files up to 5 MB can be imported." in response.content.decode()
    assert LabeledExample.objects.count() == 2


def test_cancelling_forgets_the_file(lead_client, dataset):
    report = _report(lead_client, _upload(lead_client, "examples.csv", BAD_CSV))
    token = report.context["upload"].token

    response = lead_client.post(reverse("intents:dataset-import-cancel", args=[token]))

    assert response["Location"] == reverse("intents:dataset")
    assert (
        "Import cancelled; nothing was saved."
        in lead_client.get(response["Location"]).content.decode()
    )
    gone = lead_client.get(reverse("intents:dataset-import-report", args=[token]))
    assert gone["Location"] == IMPORT_URL
    assert LabeledExample.objects.count() == 2


def test_an_upload_is_only_its_uploaders(lead_client, client, django_user_model, dataset):
    report = _report(lead_client, _upload(lead_client, "examples.csv", BAD_CSV))
    token = report.context["upload"].token
    client.force_login(_staff(django_user_model, "other", "change_labeledexample"))

    response = client.post(
        reverse("intents:dataset-import-confirm", args=[token]), {"expected_new": "2"}
    )

    assert response["Location"] == IMPORT_URL
    assert LabeledExample.objects.count() == 2


# --- Who may import and export -----------------------------------------------------------------


def test_anonymous_people_are_sent_to_sign_in(client, db):
    for url in (IMPORT_URL, reverse("intents:dataset-export", args=["csv"])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_importing_needs_the_labelling_permission_and_exporting_the_viewing_one(
    client, django_user_model, dataset
):
    viewer = _staff(django_user_model, "viewer", "view_labeledexample")
    client.force_login(viewer)

    assert client.get(IMPORT_URL).status_code == 403
    assert _upload(client, "examples.csv", BAD_CSV).status_code == 403
    assert client.get(reverse("intents:dataset-export", args=["csv"])).status_code == 200
    page = client.get(reverse("intents:dataset")).content.decode()
    assert "Export CSV" in page
    assert "Import a file" not in page


def test_people_who_are_not_staff_get_403(client, django_user_model, dataset):
    user = django_user_model.objects.create_user("agent", password="pw")
    user.user_permissions.add(*Permission.objects.filter(codename="change_labeledexample"))
    client.force_login(user)

    assert client.get(IMPORT_URL).status_code == 403
    assert client.get(reverse("intents:dataset-export", args=["jsonl"])).status_code == 403


# --- Export ------------------------------------------------------------------------------------


def _content(response) -> str:
    return b"".join(response.streaming_content).decode()


def test_export_has_every_example_the_filter_selects_not_just_a_page(lead_client, db):
    examples_import(rows=labelled_rows(per_intent=60), labelled_by="ada")
    examples_import(rows=_rows([('=HYPERLINK("http://evil")', "track_order")]))

    response = lead_client.get(
        reverse("intents:dataset-export", args=["csv"]), {"intent": "track_order"}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="examples-')
    records = list(csv.DictReader(io.StringIO(_content(response))))
    assert len(records) == 61  # more than the page's 50
    assert list(records[0]) == ["text", "intent", "source", "status", "labelled_by", "labelled_at"]
    assert {record["intent"] for record in records} == {"track_order"}
    # A spreadsheet shows the text instead of running it.
    assert records[0]["text"] == '\'=HYPERLINK("http://evil")'
    assert records[1]["labelled_by"] == "ada"
    assert records[1]["status"] == "trusted"

    lines = _content(
        lead_client.get(
            reverse("intents:dataset-export", args=["jsonl"]),
            {"intent": "track_order", "q": "evil"},
        )
    ).splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["text"] == '=HYPERLINK("http://evil")'


def test_an_exported_csv_imports_back_as_the_same_examples(lead_client, db):
    examples_import(rows=_rows([("=1+1 is what I was charged", "track_order"), ("ok", "x_y")]))
    exported = _content(lead_client.get(reverse("intents:dataset-export", args=["csv"])))

    report = _report(lead_client, _upload(lead_client, "examples.csv", exported))

    assert report.context["report"].new == []
    assert report.context["report"].duplicates_of_examples == 2


def test_an_unknown_export_format_is_not_found(lead_client, db):
    assert lead_client.get(reverse("intents:dataset-export", args=["xlsx"])).status_code == 404


# --- A version's training data -----------------------------------------------------------------


def _pairs(response, file_format: str) -> list[tuple[str, str]]:
    content = _content(response)
    if file_format == "csv":
        return [(row["text"], row["intent"]) for row in csv.DictReader(io.StringIO(content))]
    return [(row["text"], row["intent"]) for row in map(json.loads, content.splitlines())]


@pytest.mark.parametrize("file_format", ["csv", "jsonl"])
def test_a_versions_export_is_exactly_what_it_trained_on(
    lead_client, labelled_examples, file_format
):
    trained_on = list(LabeledExample.objects.order_by("id").values_list("text", "intent__name"))
    version = model_version_train(version_id=model_version_create().id)
    # The dataset moves on: an example relabelled, one deleted, one added.
    first, second = LabeledExample.objects.order_by("id")[:2]
    first.intent = Intent.objects.exclude(pk=first.intent_id).first()
    first.save()
    second.delete()
    examples_import(rows=_rows([("a brand new message", "track_order")]))

    response = lead_client.get(
        reverse("intents:version-dataset-export", args=[version.number, file_format])
    )

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="v{version.number}-training-data.{file_format}"'
    )
    pairs = _pairs(response, file_format)
    assert pairs == trained_on
    assert len(pairs) == version.training_size
    texts, labels = zip(*pairs, strict=True)
    assert training_data_hash(texts, labels) == version.training_data_sha256
    detail = lead_client.get(reverse("intents:version-detail", args=[version.number]))
    assert "Training data as CSV" in detail.content.decode()


def test_a_version_trained_before_datasets_were_kept_exports_only_while_unchanged(
    lead_client, labelled_examples
):
    version = model_version_train(version_id=model_version_create().id)
    ModelVersionDataset.objects.filter(version=version).delete()
    url = reverse("intents:version-dataset-export", args=[version.number, "jsonl"])

    assert len(_pairs(lead_client.get(url), "jsonl")) == version.training_size

    LabeledExample.objects.order_by("id").first().delete()
    response = lead_client.get(url)

    assert response["Location"] == reverse("intents:version-detail", args=[version.number])
    page = lead_client.get(response["Location"]).content.decode()
    assert "training data cannot be exported" in page


def test_an_untrained_version_has_no_training_data(lead_client, db):
    version = model_version_create()

    response = lead_client.get(
        reverse("intents:version-dataset-export", args=[version.number, "csv"])
    )

    assert response.status_code == 302
    page = lead_client.get(response["Location"]).content.decode()
    assert f"v{version.number} has not been trained" in page
