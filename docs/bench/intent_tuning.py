"""How the intent model's defaults were chosen, on training and validation splits only.

    .venv/bin/python docs/bench/intent_tuning.py baseline        # BANKING77, the plain baseline
    .venv/bin/python docs/bench/intent_tuning.py vector-weights  # BANKING77, 5-fold CV, folds 1-3
    .venv/bin/python docs/bench/intent_tuning.py floors          # CLINC150 validation split

`baseline` trains word 1-2 + char 2-5 TF-IDF with LinearSVC C=1 (the reference pipeline of the
datasets' README) on BANKING77's train split and scores its test split. `vector-weights` scores
the model with each weight of the word-vector block in cross-validation on BANKING77's train
split (the lexical blocks and the vectors are computed once per fold). `floors` trains the full
model (`intents.training.train`) on CLINC150's train split for each vector weight and prints, on
the validation split (3,000 in scope, 100 out of scope), the top-intent accuracy and, for each
abstain floor, the in-scope messages answered right and the out-of-scope messages caught.
The datasets are not part of the project: `--datasets` points at them (default
../shared/datasets).
"""

import argparse
import csv
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from intents import features, training, word_vectors  # noqa: E402
from intents.params import TrainingParams  # noqa: E402
from intents.text_cleaning import clean_text  # noqa: E402

FLOORS = (0.25, 0.30, 0.35, 0.40, 0.45, 0.50)


def banking(datasets: Path, split: str) -> tuple[list[str], np.ndarray]:
    with (datasets / "banking77" / f"{split}.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [row["text"] for row in rows], np.array([row["category"] for row in rows])


def _svm(C: float, class_weight: str | None) -> LinearSVC:
    return LinearSVC(C=C, class_weight=class_weight, random_state=0, max_iter=3000)


def _fit(svm: LinearSVC, X, y) -> LinearSVC:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return svm.fit(X, y)


def baseline(datasets: Path) -> None:
    train_texts, train_y = banking(datasets, "train")
    test_texts, test_y = banking(datasets, "test")
    word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    char = TfidfVectorizer(analyzer="char", ngram_range=(2, 5), sublinear_tf=True)
    started = time.perf_counter()
    X = sp.hstack([word.fit_transform(train_texts), char.fit_transform(train_texts)], "csr")
    svm = _fit(_svm(1.0, None), X, train_y)
    seconds = time.perf_counter() - started
    X_test = sp.hstack([word.transform(test_texts), char.transform(test_texts)], "csr")
    accuracy = float((svm.predict(X_test) == test_y).mean())
    print(json.dumps({"baseline_test_accuracy": round(accuracy, 4), "train_seconds": seconds}))


def vector_weights(datasets: Path, weights: list[float], folds: int) -> None:
    texts, y = banking(datasets, "train")
    cleaned = np.array([clean_text(t) for t in texts], dtype=object)
    params = TrainingParams()
    dense_all = word_vectors.load().embed(list(cleaned))
    scores: dict[float, list[float]] = {w: [] for w in weights}
    splits = StratifiedKFold(5, shuffle=True, random_state=0).split(cleaned, y)
    for fold, (tr, te) in enumerate(splits):
        if fold >= folds:
            break
        vecs = features.make_vectorizers(params, n_docs=len(tr))
        X_tr = features.feature_matrix(vecs, list(cleaned[tr]), params, fit=True)
        X_te = features.feature_matrix(vecs, list(cleaned[te]), params)
        for w in weights:
            blocks_tr, blocks_te = [X_tr], [X_te]
            if w:
                blocks_tr.append(sp.csr_matrix(dense_all[tr] * np.float32(w)))
                blocks_te.append(sp.csr_matrix(dense_all[te] * np.float32(w)))
            svm = _fit(_svm(params.C, params.class_weight), sp.hstack(blocks_tr, "csr"), y[tr])
            accuracy = float((svm.predict(sp.hstack(blocks_te, "csr")) == y[te]).mean())
            scores[w].append(accuracy)
            print(json.dumps({"fold": fold + 1, "vector_weight": w, "accuracy": accuracy}))
    print("| vector weight | " + " | ".join(f"{w:g}" for w in weights) + " |")
    print("|---|" + "---|" * len(weights))
    cells = " | ".join(f"{np.mean(scores[w]):.2%}" for w in weights)
    print(f"| BANKING77 CV, folds 1-{folds} | {cells} |")


def floors(datasets: Path, weights: list[float]) -> None:
    data = json.loads((datasets / "clinc150" / "data_full.json").read_text())
    train_texts = [text for text, _ in data["train"]]
    train_labels = [label for _, label in data["train"]]
    val = data["val"] + [[text, None] for text, _ in data["oos_val"]]
    in_scope = np.array([label is not None for _, label in val])
    truth = np.array([label or "" for _, label in val], dtype=object)
    for w in weights:
        # No floor in training: each floor below is applied on top of the precision rule.
        params = TrainingParams(
            word_vectors=None if w == 0 else word_vectors.DEFAULT,
            vector_weight=w or 1.0,
            min_threshold=0.0,
        )
        classifier = training.train(train_texts, train_labels, params=params).classifier
        proba = classifier.predict_proba([text for text, _ in val])
        confidence = proba.max(axis=1)
        right = (
            np.array(classifier.labels, dtype=object)[proba.argmax(axis=1)] == truth
        ) & in_scope
        print(f"\nvector weight {w:g}: top intent {right.sum() / in_scope.sum():.2%} in scope")
        print("| floor | " + " | ".join(f"{f:.2f}" for f in FLOORS) + " |")
        print("|---|" + "---|" * len(FLOORS))
        answered = {f: confidence >= max(f, classifier.threshold) for f in FLOORS}
        cells = [f"{(right & answered[f]).sum() / in_scope.sum():.2%}" for f in FLOORS]
        print("| in-scope answered right | " + " | ".join(cells) + " |")
        cells = [f"{(~answered[f] & ~in_scope).sum() / (~in_scope).sum():.0%}" for f in FLOORS]
        print("| out-of-scope caught | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["baseline", "vector-weights", "floors"])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--weights", help="comma-separated vector weights (0 = lexical only)")
    parser.add_argument("--folds", type=int, default=3, help="folds of the 5 to run")
    arguments = parser.parse_args()
    if arguments.what == "baseline":
        baseline(arguments.datasets)
    elif arguments.what == "vector-weights":
        weights = [float(w) for w in (arguments.weights or "0,0.75,1,1.5,2").split(",")]
        vector_weights(arguments.datasets, weights, arguments.folds)
    else:
        weights = [float(w) for w in (arguments.weights or "0,1,1.5").split(",")]
        floors(arguments.datasets, weights)


if __name__ == "__main__":
    main()
