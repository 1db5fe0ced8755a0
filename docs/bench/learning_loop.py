"""Benchmark of the labelling loop: how much each round of labels raises the model's accuracy on
realistic messages it never learnt from.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres BENCH_DATABASE_NAME=bench_loop \
        REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python docs/bench/learning_loop.py

The loop is the one tests/intents/test_learning_loop.py runs, imported from there, on the same
kind of split (seed 0 is the test's) of the project's hand-written realistic messages
(intents/benchmarks/realistic_messages.csv, 27 intents x 10). Per intent, 2 messages are the
starting dataset, 5 arrive in 5 rounds of 27 (one per intent each round) and 3 are held out
(81 messages). Version 1 learns the starting dataset and is promoted. In each round the active
model classifies the arriving messages, which are stored as predictions as the pipeline does;
agents give card feedback on every other one ("Right" when the model's best guess is the true
intent, else they pick the true intent; one of the two agents is in INTENT_TRUSTED_LABELLERS,
the other's labels wait for review); a team lead takes the labelling queue's items until it is
empty (accepting the agents' pending examples, keeping the true label of suspected mislabels,
labelling the unsure predictions with their true intent); then a new version is trained and
promoted. The queue serves a prediction only when the model is unsure (less than 50 points
between its top two intents), so messages the model was sure about and no agent looked at stay
unlabelled. Each new version also suspects some examples of being mislabelled, and the queue
serves those before unsure predictions: the lead reviews them all and keeps their (true)
labels. The columns count from the start. The last row is the same model trained on the
starting dataset and every arriving message with its true intent: the most the loop could give.

Each figure is the median of 3 seeds (0, 1, 2); a seed shuffles each intent's messages before
the split and is INTENT_TRAINING_SEED. The scratch database is BENCH_DATABASE_NAME on the server
of DATABASE_URL, dropped and made again, and emptied before each seed.
"""

import os
import statistics
import sys
import warnings

from common import ROOT, bench_database_url, environment

sys.path.insert(0, str(ROOT))
os.environ.update(
    environment(
        DATABASE_URL=bench_database_url(),
        INTENT_MODEL_REFRESH_SECONDS="0",
        INTENT_MIN_EXAMPLES="2",
        INTENT_TRUSTED_LABELLERS="user:agent-grace",
        LOG_LEVEL="WARNING",
    )
)

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

from intents import training  # noqa: E402
from intents.metrics import evaluate  # noqa: E402
from intents.params import TrainingParams  # noqa: E402
from intents.prediction import active_model  # noqa: E402
from intents.review import MISLABEL  # noqa: E402
from intents.services import examples_import  # noqa: E402
from tests.intents.test_learning_loop import (  # noqa: E402
    STARTING_PER_INTENT,
    held_out_metrics,
    labelling_round,
    realistic_split,
    version_train_and_promote,
)

# Two examples of each of 27 intents make small cross-validation folds, which scikit-learn warns
# about on every training run; the figures are unaffected.
warnings.filterwarnings("ignore", message="The number of unique classes is greater than 50%")
SEEDS = (0, 1, 2)
ROUNDS = 5
COLUMNS = (
    "messages arrived",
    "labelled on the card",
    "labelled from the queue",
    "suspected mislabels reviewed",
    "examples",
    "held-out accuracy",
    "macro-F1",
)


def run(seed: int) -> tuple[list[dict], dict]:
    """The loop's rounds for one seed, and the model trained on every arriving message."""
    call_command("flush", interactive=False, verbosity=0)
    active_model.clear()
    settings.INTENT_TRAINING_SEED = seed
    lead = get_user_model().objects.create_user("lead", is_staff=True)
    split = realistic_split(seed)
    examples_import(rows=split.starting)
    version = version_train_and_promote(lead=lead, reason="the starting dataset")
    rows = [
        row_of(version, held_out_metrics(split.held_out), arrived=0, card=0, queue=0, reviewed=0)
    ]
    per_round = len(split.arriving) // ROUNDS
    card = queue = reviewed = 0
    for number in range(ROUNDS):
        arriving = split.arriving[number * per_round : (number + 1) * per_round]
        loop = labelling_round(arriving=arriving, lead=lead, first_message=number * per_round)
        card += len(loop.card)
        queue += len(loop.labelled_from_queue)
        reviewed += loop.queue[MISLABEL]
        metrics = held_out_metrics(split.held_out)
        arrived = (number + 1) * per_round
        rows.append(
            row_of(
                loop.version, metrics, arrived=arrived, card=card, queue=queue, reviewed=reviewed
            )
        )
    everything = [*split.starting, *split.arriving]
    result = training.train(
        [row.text for row in everything],
        [row.intent for row in everything],
        params=TrainingParams(min_examples_per_intent=STARTING_PER_INTENT),
        seed=seed,
    )
    texts, intents = [row.text for row in split.held_out], [row.intent for row in split.held_out]
    metrics = evaluate(result.classifier, texts, intents)
    ceiling = {
        "messages arrived": len(split.arriving),
        "examples": len(everything),
        "held-out accuracy": metrics.accuracy,
        "macro-F1": metrics.macro_f1,
    }
    return rows, ceiling


def row_of(version, metrics, *, arrived: int, card: int, queue: int, reviewed: int) -> dict:
    return {
        "messages arrived": arrived,
        "labelled on the card": card,
        "labelled from the queue": queue,
        "suspected mislabels reviewed": reviewed,
        "examples": version.training_size,
        "held-out accuracy": metrics.accuracy,
        "macro-F1": metrics.macro_f1,
    }


def cell(column: str, values: list[float]) -> str:
    value = statistics.median(values)
    return f"{value:.1%}" if column in ("held-out accuracy", "macro-F1") else f"{value:g}"


def main() -> None:
    call_command("migrate", verbosity=0)
    runs = [run(seed) for seed in SEEDS]
    print("| rounds | " + " | ".join(COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 1) + "|")
    for number in range(ROUNDS + 1):
        cells = [cell(column, [rows[number][column] for rows, _ in runs]) for column in COLUMNS]
        print(f"| {number} | " + " | ".join(cells) + " |")
    cells = [
        cell(column, [found[column] for _, found in runs]) if column in runs[0][1] else ""
        for column in COLUMNS
    ]
    print("| every arriving message labelled | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
