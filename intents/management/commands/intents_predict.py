import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from intents.importing import ImportFileError, read_labelled_file
from intents.prediction import NoActiveModel, classify, classify_batch


class Command(BaseCommand):
    help = (
        "Classifies a message with the active model and prints the top 3 intents; with --file, "
        "classifies every message of a CSV or JSONL file in one batch and writes a CSV."
    )

    def add_arguments(self, parser):
        parser.add_argument("text", nargs="?", help="the message to classify")
        parser.add_argument("--file", help="CSV (with a header) or JSONL file of messages")
        parser.add_argument("--text-column", default="text")
        parser.add_argument("--out", help="write the CSV here instead of to standard output")

    def handle(self, *args, **options):
        if (options["text"] is None) == (options["file"] is None):
            raise CommandError("Give either a message to classify or --file FILE, not both.")
        try:
            if options["file"]:
                self._classify_file(options)
            else:
                self._classify_one(options["text"])
        except NoActiveModel as error:
            raise CommandError(str(error)) from None

    def _classify_one(self, text: str) -> None:
        result = classify(text)
        prediction = result.prediction
        verdict = (
            "not sure (below the abstain threshold)" if prediction.abstained else prediction.intent
        )
        self.stdout.write(f"Model v{result.version_number}: {verdict}")
        for label, probability in prediction.top:
            self.stdout.write(f"  {probability:6.1%}  {label}")

    def _classify_file(self, options: dict) -> None:
        try:
            rows = read_labelled_file(
                options["file"], text_column=options["text_column"], label_column=None
            )
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        results = classify_batch([row.text for row in rows])
        if options["out"]:
            with Path(options["out"]).open("w", newline="") as handle:
                _write_csv(handle, rows, results)
        else:
            _write_csv(self.stdout, rows, results)
        abstained = sum(result.prediction.abstained for result in results)
        version = results[0].version_number
        self.stderr.write(
            f"Model v{version}: {len(results)} messages classified, "
            f"{abstained} below the abstain threshold (intent left empty)."
        )


def _write_csv(handle, rows, results) -> None:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(["row", "text", "intent", "confidence", "second", "second_confidence"])
    for row, result in zip(rows, results, strict=True):
        prediction = result.prediction
        second = prediction.top[1] if len(prediction.top) > 1 else ("", 0.0)
        writer.writerow(
            [
                row.row,
                row.text,
                prediction.intent or "",  # empty: the model abstained
                f"{prediction.confidence:.4f}",
                second[0],
                f"{second[1]:.4f}",
            ]
        )
