from django.core.management.base import BaseCommand, CommandError

from intents.importing import INTENT_NAME, ImportFileError, read_labelled_file
from intents.models import LabeledExample
from intents.services import examples_import


class Command(BaseCommand):
    help = "Imports labelled examples from a CSV (header text,intent) or JSON Lines file."

    def add_arguments(self, parser):
        parser.add_argument("file", help="a .csv with header text,intent, or a .jsonl file")
        parser.add_argument("--text-column", default="text")
        parser.add_argument("--label-column", default="intent")
        parser.add_argument(
            "--pending",
            action="store_true",
            help="import as 'pending review' instead of trusted (not used for training yet)",
        )

    def handle(self, *args, **options):
        try:
            rows = read_labelled_file(
                options["file"],
                text_column=options["text_column"],
                label_column=options["label_column"],
            )
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        for row in rows:
            if not INTENT_NAME.match(row.intent):
                raise CommandError(
                    f"{options['file']}, row {row.row}: the intent {row.intent!r} may only hold "
                    "letters, digits, '_' and '-'."
                )
        status = (
            LabeledExample.Status.PENDING_REVIEW
            if options["pending"]
            else LabeledExample.Status.TRUSTED
        )
        summary = examples_import(rows=rows, status=status, labelled_by="import")
        self.stdout.write(
            f"Imported {summary.created} examples from {options['file']}; "
            f"skipped {summary.duplicates} duplicates and "
            f"{summary.conflicts} texts already labelled with another intent."
        )
        if summary.intents_created:
            self.stdout.write(f"New intents: {', '.join(summary.intents_created)}.")
