import dataclasses
import json
import statistics
import time
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from intents import training
from intents.artifacts import serialize
from intents.importing import ImportFileError, read_labelled_file
from intents.metrics import evaluate
from intents.params import TrainingParams


class Command(BaseCommand):
    help = (
        "Benchmark: trains on one file and tests on another, without touching the database, "
        "and prints the figures as JSON."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--train", required=True, help="CSV or JSONL file to train on")
        parser.add_argument("--test", required=True, help="CSV or JSONL file to test on")
        parser.add_argument("--text-column", default="text")
        parser.add_argument("--label-column", default="intent")
        parser.add_argument(
            "--oos-label",
            help="label of out-of-scope messages in the test file (never trained on)",
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--drop-small-intents",
            action="store_true",
            help="leave out intents with too few training examples instead of stopping "
            "(their test messages then count as errors); they are listed in the output",
        )
        parser.add_argument(
            "--no-word-vectors",
            action="store_true",
            help="train on the lexical features alone (to measure what the vectors add)",
        )
        parser.add_argument("--json", dest="json_out", help="also write the figures to this file")

    def handle(self, *args, **options):
        columns = {"text_column": options["text_column"], "label_column": options["label_column"]}
        try:
            train_rows = read_labelled_file(options["train"], **columns)
            test_rows = read_labelled_file(options["test"], **columns)
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        oos_label = options["oos_label"]
        train_rows = [row for row in train_rows if row.intent != oos_label]
        dropped: list[str] = []
        if options["drop_small_intents"]:
            counts = Counter(row.intent for row in train_rows)
            minimum = TrainingParams().min_examples_per_intent
            dropped = sorted(intent for intent, count in counts.items() if count < minimum)
            train_rows = [row for row in train_rows if row.intent not in dropped]

        params = TrainingParams()
        if options["no_word_vectors"]:
            params = dataclasses.replace(params, word_vectors=None)
        started = time.perf_counter()
        try:
            result = training.train(
                [row.text for row in train_rows],
                [row.intent for row in train_rows],
                params=params,
                seed=options["seed"],
            )
        except training.TrainingDataError as error:
            raise CommandError(str(error)) from None
        train_seconds = time.perf_counter() - started
        classifier = result.classifier

        test_texts = [row.text for row in test_rows]
        test_labels = [row.intent for row in test_rows]
        started = time.perf_counter()
        figures = evaluate(classifier, test_texts, test_labels, oos_label=oos_label)
        batch_seconds = time.perf_counter() - started
        single_ms = []
        for text in test_texts[:200]:
            started = time.perf_counter()
            classifier.predict_one(text)
            single_ms.append((time.perf_counter() - started) * 1000)
        artifact, _ = serialize(classifier)

        summary = {
            "train_file": str(Path(options["train"])),
            "test_file": str(Path(options["test"])),
            "accuracy": figures.accuracy,
            "macro_f1": figures.macro_f1,
            "n_train": len(train_rows),
            "n_test": len(test_rows),
            "n_labels": len(classifier.labels),
            "word_vectors": params.word_vectors,
            "train_seconds": round(train_seconds, 3),
            "predict_ms_per_message": round(batch_seconds * 1000 / max(len(test_rows), 1), 4),
            "predict_ms_single_median": round(statistics.median(single_ms), 4),
            "model_bytes": len(artifact),
            "threshold": figures.threshold,
            "coverage": figures.coverage,
            "precision_at_threshold": figures.precision_at_threshold,
        }
        if dropped:
            summary["dropped_intents"] = dropped
        if oos_label:
            summary["in_scope_accuracy"] = figures.in_scope_accuracy
            summary["oos_recall"] = figures.oos_recall
            summary["oos_precision"] = figures.oos_precision
        summary["holdout"] = {
            "accuracy": result.metrics.accuracy,
            "macro_f1": result.metrics.macro_f1,
            "calibration_error": result.metrics.calibration_error,
        }
        output = json.dumps(summary, indent=2)
        self.stdout.write(output)
        if options["json_out"]:
            Path(options["json_out"]).write_text(output + "\n")
