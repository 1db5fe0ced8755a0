import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from intents.bench_data import bench_data_generate
from intents.models import LabeledExample


class Command(BaseCommand):
    help = (
        "Fills a scratch database with production-scale training data for benchmarks: labelled "
        "examples, predictions over 30 days, agents' feedback, decisions, model versions."
    )

    def add_arguments(self, parser):
        parser.add_argument("--examples", type=int, default=100_000)
        parser.add_argument("--predictions", type=int, default=1_000_000)
        parser.add_argument("--intents", type=int, default=200)
        parser.add_argument("--feedback", type=int, default=3_000, help="agents' verdicts")
        parser.add_argument(
            "--pending", type=int, default=500, help="examples waiting for a review"
        )
        parser.add_argument("--decisions", type=int, default=1_500, help="reviewers' decisions")
        parser.add_argument("--days", type=int, default=30, help="the predictions' time span")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--force",
            action="store_true",
            help="add to a database that already has examples (never on a real one)",
        )

    def handle(self, *args, **options):
        database = connection.settings_dict
        where = f"{database['NAME']} on {database.get('HOST') or 'localhost'}"
        existing = LabeledExample.objects.count()
        if existing and not options["force"]:
            raise CommandError(
                f"The database {where} already has {existing} labelled examples. This command "
                "writes synthetic data for benchmarks into a scratch database; pass --force to "
                "add to it anyway."
            )
        self.stdout.write(
            f"Writing synthetic benchmark data into {where}: {options['examples']:,} labelled "
            f"examples, {options['predictions']:,} predictions over {options['days']} days, "
            f"{options['intents']} intents, {options['feedback']:,} agents' verdicts, "
            f"{options['pending']} pending examples, 3 model versions."
        )
        started = time.monotonic()

        def say(line: str) -> None:
            self.stdout.write(f"[{time.monotonic() - started:6.1f} s] {line}")

        made = bench_data_generate(
            examples=options["examples"],
            predictions=options["predictions"],
            intents=options["intents"],
            feedback=options["feedback"],
            pending=options["pending"],
            decisions=options["decisions"],
            days=options["days"],
            seed=options["seed"],
            say=say,
        )
        self.stdout.write(
            f"Done in {time.monotonic() - started:.0f} s: {made.examples:,} examples "
            f"({made.pending} pending), {made.predictions:,} predictions, {made.intents} intents, "
            f"{made.feedback:,} verdicts, {made.decisions:,} decisions, versions "
            f"{', '.join(f'v{n}' for n in made.versions)} ({made.label_issues} suspected "
            "mislabels)."
        )
