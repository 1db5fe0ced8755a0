"""Benchmark of the training UI's suggested intents: how well the grouping of abstained
messages finds the intents they belong to, and how fast, per distance threshold.

    .venv/bin/python docs/bench/suggested_intents.py [path/to/banking77/test.csv]

BANKING77's test messages stand in for what a model abstained on: the messages of 8 and of 20
intents picked at random (seed 0), which the grouping has never seen labelled. For each
threshold: groups of 3 or more, the share of messages placed in one (coverage), homogeneity
(1.0: every group holds one intent), completeness (1.0: every intent sits in one group), the
adjusted Rand index, and the median time of 5 runs. The dataset is public and not part of the
project.
"""

import csv
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "copilot.settings")
os.environ.setdefault("COPILOT_DEMO", "true")

import django

django.setup()

from sklearn.metrics import (  # noqa: E402
    adjusted_rand_score,
    completeness_score,
    homogeneity_score,
)

from intents import suggestions  # noqa: E402

DATASET = Path(
    sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets/banking77/test.csv"
).resolve()
THRESHOLDS = (0.5, 0.6, 0.7, 0.75, 0.8)


def main() -> None:
    rows = list(csv.DictReader(DATASET.open()))
    categories = sorted({row["category"] for row in rows})
    random.Random(0).shuffle(categories)
    print(
        "| intents | messages | threshold | groups | coverage | homogeneity | completeness "
        "| ARI | median time |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for k in (8, 20):
        chosen = set(categories[:k])
        sample = [row for row in rows if row["category"] in chosen]
        texts = [row["text"] for row in sample]
        truth = [row["category"] for row in sample]
        for threshold in THRESHOLDS:
            times = []
            for _ in range(5):
                started = time.perf_counter()
                groups = suggestions.suggest_groups(
                    texts, min_size=3, max_groups=10_000, distance_threshold=threshold
                )
                times.append(time.perf_counter() - started)
            placed = [-1] * len(texts)
            for number, group in enumerate(groups):
                for member in group.members:
                    placed[member] = number
            covered = [i for i, group in enumerate(placed) if group >= 0]
            homogeneity = homogeneity_score(
                [truth[i] for i in covered], [placed[i] for i in covered]
            )
            print(
                f"| {k} | {len(texts)} | {threshold} | {len(groups)} "
                f"| {len(covered) / len(texts):.0%} | {homogeneity:.2f} "
                f"| {completeness_score(truth, placed):.2f} "
                f"| {adjusted_rand_score(truth, placed):.2f} "
                f"| {statistics.median(times) * 1000:.0f} ms |"
            )


if __name__ == "__main__":
    main()
