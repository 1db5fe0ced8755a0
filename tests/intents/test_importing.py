import csv
import json

import pytest
from django.core.management import CommandError, call_command

from intents.models import Intent, LabeledExample


def _write_csv(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.django_db
def test_csv_import_creates_intents_and_skips_duplicates(tmp_path, capsys):
    source = _write_csv(
        tmp_path / "examples.csv",
        [
            "text,intent",
            "Where is my order?,track_order",
            '"Please cancel order 1042, thanks",cancel_order',
            "  where is   MY order? ,track_order",
            "Where is my order?,get_refund",
        ],
    )

    call_command("intents_import", str(source))

    assert LabeledExample.objects.count() == 2
    assert set(Intent.objects.values_list("name", flat=True)) == {"track_order", "cancel_order"}
    output = capsys.readouterr().out
    assert "Imported 2 examples" in output
    assert "skipped 1 duplicates and 1 texts already labelled with another intent" in output


@pytest.mark.django_db
def test_importing_the_same_file_twice_adds_nothing(tmp_path, capsys):
    source = _write_csv(tmp_path / "examples.csv", ["text,intent", "hello there,greeting"])

    call_command("intents_import", str(source))
    call_command("intents_import", str(source))

    assert LabeledExample.objects.count() == 1
    assert "Imported 0 examples" in capsys.readouterr().out.splitlines()[-1]


@pytest.mark.django_db
def test_jsonl_import(tmp_path):
    source = tmp_path / "examples.jsonl"
    source.write_text(
        json.dumps({"text": "refund please", "intent": "get_refund"})
        + "\n\n"
        + json.dumps({"text": "where is it", "intent": "track_order"})
        + "\n"
    )

    call_command("intents_import", str(source))

    assert LabeledExample.objects.filter(intent__name="get_refund").count() == 1
    assert LabeledExample.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "empty_text.csv",
            "text,intent\nfine,track_order\n,track_order\n",
            "row 2: the text is empty",
        ),
        ("no_label.csv", "text,intent\nfine,\n", "row 1: the intent is empty"),
        ("bad_header.csv", "message,label\nfine,x\n", "the header must name the columns 'text'"),
        ("bad.jsonl", '{"text": "a", "intent": "b"}\n{not json\n', "line 2: not valid JSON"),
        ("list.jsonl", '["a", "b"]\n', "line 1: expected a JSON object"),
        ("empty.csv", "text,intent\n", "the file has no examples"),
        ("bad_intent.csv", "text,intent\nfine,track order!\n", "row 1: the intent 'track order!'"),
        ("nul.csv", "text,intent\nfine,x\nwhere is\x00 it,x\n", "row 2: the text holds a NUL"),
        ("nul.jsonl", '{"text": "where\\u0000 is it", "intent": "x"}\n', "row 1: the text holds"),
        (
            "surrogate.jsonl",
            '{"text": "fine", "intent": "x"}\n{"text": "caf\\ud800", "intent": "x"}\n',
            "row 2: the text holds a NUL character or an unpaired surrogate",
        ),
    ],
)
def test_bad_files_name_the_file_and_row_and_import_nothing(tmp_path, name, content, message):
    source = tmp_path / name
    source.write_text(content)

    with pytest.raises(CommandError) as error:
        call_command("intents_import", str(source))

    assert str(source) in str(error.value)
    assert message in str(error.value)
    assert LabeledExample.objects.count() == 0


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(CommandError, match=r"no-such\.csv: no such file"):
        call_command("intents_import", str(tmp_path / "no-such.csv"))


def test_evaluate_trains_on_one_file_tests_on_another_and_writes_json(tmp_path, capsys):
    from tests.factories import labelled_rows

    rows = labelled_rows(per_intent=12)
    train = tmp_path / "train.csv"
    test = tmp_path / "test.csv"
    with train.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerows([("text", "intent"), *((r.text, r.intent) for r in rows[::2])])
        writer.writerow(("hello", "tiny"))
    with test.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerows([("text", "intent"), *((r.text, r.intent) for r in rows[1::2])])
        writer.writerow(("what is the weather on mars", "oos"))
    out = tmp_path / "out.json"

    call_command(
        "intents_evaluate",
        "--train",
        str(train),
        "--test",
        str(test),
        "--oos-label",
        "oos",
        "--drop-small-intents",
        "--json",
        str(out),
    )

    figures = json.loads(out.read_text())
    assert figures["n_labels"] == 4
    assert figures["dropped_intents"] == ["tiny"]
    assert figures["n_test"] == len(rows[1::2]) + 1
    for key in (
        "accuracy",
        "macro_f1",
        "train_seconds",
        "predict_ms_per_message",
        "model_bytes",
        "in_scope_accuracy",
        "oos_recall",
        "oos_precision",
    ):
        assert key in figures
    assert 0.5 < figures["accuracy"] <= 1.0
    assert figures["word_vectors"] == "wordllama-l2-supercat-256"


def test_evaluate_can_leave_the_word_vectors_out(tmp_path):
    from tests.factories import labelled_rows

    data = tmp_path / "data.csv"
    with data.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerows([("text", "intent"), *((r.text, r.intent) for r in labelled_rows())])
    out = tmp_path / "out.json"

    call_command(
        "intents_evaluate",
        "--train",
        str(data),
        "--test",
        str(data),
        "--no-word-vectors",
        "--json",
        str(out),
    )

    figures = json.loads(out.read_text())
    assert figures["word_vectors"] is None
    assert figures["n_labels"] == 4


def test_evaluate_without_dropping_names_the_intent_that_is_too_small(tmp_path):
    train = _write_csv(tmp_path / "train.csv", ["text,intent", "a,x", "b,x", "c,y"])

    with pytest.raises(CommandError, match="y"):
        call_command("intents_evaluate", "--train", str(train), "--test", str(train))
