"""The intent model on public datasets, through `manage.py intents_evaluate`.

    .venv/bin/python docs/bench/intent_datasets.py [--datasets ../shared/datasets] [--runs 3]
        [--only NAME] [--lexical-too]

Each dataset is trained on its train split and tested once on its test split (CLINC150 and
HINT3 with their out-of-scope messages). The datasets are not part of the project: point
`--datasets` at a folder holding banking77/, clinc150/, hint3/ and bitext_intents/ as published
by their authors. Prints one JSON object per run and a Markdown table of medians. With
`--lexical-too`, every run also trains the model without word vectors, alternating the two,
so both are measured under the same conditions.
"""

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def jsonl(rows: list[tuple[str, str]], path: Path) -> Path:
    with path.open("w") as handle:
        for text, intent in rows:
            handle.write(json.dumps({"text": text, "intent": intent}) + "\n")
    return path


def cases(datasets: Path, scratch: Path) -> list[dict]:
    clinc = json.loads((datasets / "clinc150" / "data_full.json").read_text())
    clinc_train = jsonl([tuple(row) for row in clinc["train"]], scratch / "clinc_train.jsonl")
    clinc_test = jsonl(
        [tuple(row) for row in clinc["test"]] + [(text, "oos") for text, _ in clinc["oos_test"]],
        scratch / "clinc_test.jsonl",
    )
    found = [
        {
            "name": "BANKING77",
            "train": datasets / "banking77" / "train.csv",
            "test": datasets / "banking77" / "test.csv",
            "columns": ["--label-column", "category"],
        },
        {
            "name": "CLINC150 (+ out-of-scope)",
            "train": clinc_train,
            "test": clinc_test,
            "columns": ["--oos-label", "oos"],
        },
        {
            "name": "Bitext",
            "train": datasets / "bitext_intents" / "train.csv",
            "test": datasets / "bitext_intents" / "test.csv",
            "columns": ["--text-column", "utterance"],
        },
        {
            "name": "Bitext → realistic messages (ours)",
            "train": datasets / "bitext_intents" / "train.csv",
            "test": ROOT / "intents" / "benchmarks" / "realistic_messages.csv",
            "columns": ["--text-column", "utterance"],
            "convert_test": True,
        },
    ]
    for business in ("sofmattress", "curekart", "powerplay11"):
        found.append(
            {
                "name": f"HINT3 {business}",
                "train": datasets / "hint3" / "train" / f"{business}_train.csv",
                "test": datasets / "hint3" / "test" / f"{business}_test.csv",
                "columns": [
                    "--text-column",
                    "sentence",
                    "--label-column",
                    "label",
                    "--oos-label",
                    "NO_NODES_DETECTED",
                    "--drop-small-intents",
                ],
            }
        )
    for case in found:
        if case.pop("convert_test", False):
            # The realistic set uses text,intent; give it Bitext's column name.
            with case["test"].open() as handle:
                rows = [(row["text"], row["intent"]) for row in csv.DictReader(handle)]
            converted = scratch / "realistic.csv"
            with converted.open("w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["utterance", "intent"])
                writer.writerows(rows)
            case["test"] = converted
    return found


def evaluate(case: dict, scratch: Path, extra: tuple[str, ...] = ()) -> dict:
    out = scratch / "result.json"
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "intents_evaluate",
            "--train",
            str(case["train"]),
            "--test",
            str(case["test"]),
            *case["columns"],
            *extra,
            "--json",
            str(out),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env={"COPILOT_DEMO": "true", "PATH": "/usr/bin:/bin"},
    )
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", help="run only datasets whose name contains this")
    parser.add_argument(
        "--lexical-too", action="store_true", help="also measure the model without word vectors"
    )
    arguments = parser.parse_args()
    variants = {"": ()}
    if arguments.lexical_too:
        variants[" (lexical only)"] = ("--no-word-vectors",)
    scratch = Path(tempfile.mkdtemp(prefix="intents-"))
    rows = []
    for case in cases(arguments.datasets, scratch):
        if arguments.only and arguments.only.lower() not in case["name"].lower():
            continue
        runs: dict[str, list[dict]] = {variant: [] for variant in variants}
        for _ in range(arguments.runs):
            for variant, extra in variants.items():
                runs[variant].append(evaluate(case, scratch, extra))
                print(json.dumps({"dataset": case["name"], **runs[variant][-1]}), file=sys.stderr)
        for variant, results in runs.items():
            rows.append(_row(case["name"] + variant, results))
    print(
        "| dataset | accuracy | macro-F1 | in-scope acc. / OOS recall at the threshold | "
        "train s | batch ms/msg | single ms | train / test |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


def _row(name: str, results: list[dict]) -> str:
    def median(key: str) -> float:
        return statistics.median(result[key] for result in results)

    oos = "in_scope_accuracy" in results[0]
    return (
        f"| {name} | {median('accuracy'):.2%} | {median('macro_f1'):.2%} | "
        + (
            f"{median('in_scope_accuracy'):.2%} / {median('oos_recall'):.1%} | "
            if oos
            else "n/a | "
        )
        + f"{median('train_seconds'):.1f} | {median('predict_ms_per_message'):.3f} | "
        f"{median('predict_ms_single_median'):.2f} | {results[0]['n_train']} / "
        f"{results[0]['n_test']} |"
    )


if __name__ == "__main__":
    main()
