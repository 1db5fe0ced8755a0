"""What looking for suspected mislabels costs in training time, and how many it finds.

    .venv/bin/python docs/bench/label_issues.py [--datasets ../shared/datasets] [--runs 3]
        [--flip 0.02] [--only NAME]

For each data set (the demo shop's intents/fixtures/demo_intents.csv, and BANKING77's train
split, 10,003 messages, which trains with a hold-out instead of cross-validation), the model is
trained `--runs` times without and with `with_label_issues`, alternating the two so that both
see the same machine; the table gives the median seconds. Then a share `--flip` of the labels
is changed to another intent at random (seeded) and the model trained once more with
`with_label_issues`: precision is the share of flagged examples whose label was flipped, recall
the share of flipped labels flagged. A flag on an unflipped label is not always wrong: both
data sets have some labels a person would change. The datasets are not part of the project:
`--datasets` points at them (default ../shared/datasets).
"""

import argparse
import csv
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from intents import training  # noqa: E402


def read_csv(path: Path, text_column: str, label_column: str) -> tuple[list[str], list[str]]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [row[text_column] for row in rows], [row[label_column] for row in rows]


def flipped(labels: list[str], share: float, seed: int = 0) -> tuple[list[str], set[int]]:
    """The labels with `share` of them changed to another intent, and the changed positions."""
    rng = random.Random(seed)
    intents = sorted(set(labels))
    positions = set(rng.sample(range(len(labels)), round(share * len(labels))))
    noisy = list(labels)
    for position in positions:
        noisy[position] = rng.choice([name for name in intents if name != labels[position]])
    return noisy, positions


def seconds(texts: list[str], labels: list[str], *, with_label_issues: bool) -> float:
    started = time.perf_counter()
    training.train(texts, labels, with_label_issues=with_label_issues)
    return time.perf_counter() - started


def measure(name: str, texts: list[str], labels: list[str], runs: int, share: float) -> dict:
    without, with_issues = [], []
    for _ in range(runs):
        without.append(seconds(texts, labels, with_label_issues=False))
        with_issues.append(seconds(texts, labels, with_label_issues=True))
    clean = training.train(texts, labels, with_label_issues=True)
    noisy, positions = flipped(labels, share)
    result = training.train(texts, noisy, with_label_issues=True)
    found = {issue.index for issue in result.label_issues}
    right = len(found & positions)
    return {
        "dataset": name,
        "examples": len(texts),
        "protocol": result.metrics.protocol,
        "seconds_without": round(statistics.median(without), 2),
        "seconds_with": round(statistics.median(with_issues), 2),
        "flagged_on_the_data_as_is": len(clean.label_issues),
        "flipped": len(positions),
        "flagged": len(found),
        "precision": round(right / len(found), 3) if found else None,
        "recall": round(right / len(positions), 3) if positions else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--flip", type=float, default=0.02)
    parser.add_argument("--only", help="run only datasets whose name contains this")
    args = parser.parse_args()
    cases = {
        "Demo shop": (ROOT / "intents" / "fixtures" / "demo_intents.csv", "text", "intent"),
        "BANKING77 train": (args.datasets / "banking77" / "train.csv", "text", "category"),
    }
    rows = []
    for name, (path, text_column, label_column) in cases.items():
        if args.only and args.only.lower() not in name.lower():
            continue
        texts, labels = read_csv(path, text_column, label_column)
        row = measure(name, texts, labels, args.runs, args.flip)
        print(json.dumps(row), flush=True)
        rows.append(row)
    print()
    print(
        "| Data set | Examples | Protocol | Training s (without) | Training s (with) | Ratio "
        f"| Flagged as is | Flipped ({args.flip:.0%}) | Flagged | Precision | Recall |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        ratio = row["seconds_with"] / row["seconds_without"]
        print(
            f"| {row['dataset']} | {row['examples']:,} | {row['protocol']} "
            f"| {row['seconds_without']:.1f} | {row['seconds_with']:.1f} | {ratio:.2f} "
            f"| {row['flagged_on_the_data_as_is']} | {row['flipped']} | {row['flagged']} "
            f"| {row['precision']:.0%} | {row['recall']:.0%} |"
        )


if __name__ == "__main__":
    main()
