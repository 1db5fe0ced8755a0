"""Training of the intent classifier: pure scikit-learn / numpy, no Django.

The model is described where it lives: its features in :mod:`intents.features`, the linear
classifier in :mod:`intents.classifier`, probabilities and the abstain rule in
:mod:`intents.calibration`, its figures in :mod:`intents.metrics` and its saved form in
:mod:`intents.artifacts`; every tunable is a field of :class:`~intents.params.TrainingParams`.

Training protocol (:func:`train`)
---------------------------------
1. Validate the data (:class:`TrainingDataError` with a sentence saying what is wrong).
2. Score every example *out of sample*: with stratified ``k``-fold cross-validation for small
   data sets (≤ ``TrainingParams.cv_max_examples`` examples, where a single hold-out would be
   too small to choose a threshold) and with one stratified hold-out split otherwise.
3. Fit the temperature on those out-of-sample scores. For honest metrics the probabilities
   used for evaluation are *cross-fitted*: each example's temperature is fitted without it.
4. Choose the abstain threshold on the cross-fitted probabilities and compute the metrics
   (:class:`~intents.metrics.TrainingMetrics`).
5. Refit the final model on **all** data, keeping the temperature and threshold.

With ``with_label_issues=True``, every example also gets an out-of-fold probability and the
ones whose label the model doubts are returned (:mod:`intents.label_issues`). Cross-validation
already scores every example, so this is free on small data sets. A hold-out scores only
its share of them (a fifth by default); the other examples are split in two halves, each scored
by a model fitted on the hold-out and the other half (60 % of the data by default). Two fits
of 60 % cost about 1.2 final fits, four more folds of 80 % would cost 3.2: on BANKING77's
10,003 messages training takes 1.7 times as long (docs/bench/label_issues.py) instead of about
2.8 times, for slightly weaker models whose doubts are judged against their own per-intent
thresholds anyway.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

from .calibration import choose_threshold, cross_fitted_proba, fit_temperature
from .classifier import FittedModel, IntentClassifier, fit_model, vector_block
from .label_issues import LabelIssue, find_label_issues
from .metrics import TrainingMetrics, compute_metrics
from .params import MIN_EXAMPLES_PER_INTENT, TrainingParams
from .text_cleaning import clean_text

__all__ = [
    "LABEL_ISSUES_LIMIT",
    "TrainingDataError",
    "TrainingResult",
    "train",
    "training_data_hash",
]

#: At most this many suspected mislabels are kept, least self-confident first: more than a
#: person reviews between two training runs, and small enough to store with the version.
LABEL_ISSUES_LIMIT = 500


class TrainingDataError(ValueError):
    """The labelled data cannot train a model (too few intents or examples, empty texts…)."""


@dataclass(frozen=True)
class TrainingResult:
    classifier: IntentClassifier
    metrics: TrainingMetrics  # on out-of-sample predictions, before the final refit
    # Suspected mislabels, least self-confident first; empty unless asked for.
    label_issues: tuple[LabelIssue, ...] = ()
    # The out-of-sample examples the model took for another intent (the confusion matrix's
    # off-diagonal cells, one by one): data index, the intent it said, with what probability.
    confusions: tuple[tuple[int, str, float], ...] = ()


def _validate(
    texts: Sequence[str], labels: Sequence[str], min_examples: int = MIN_EXAMPLES_PER_INTENT
) -> tuple[list[str], list[str]]:
    if isinstance(texts, str) or isinstance(labels, str):
        raise TrainingDataError("Texts and labels must be sequences, not single strings.")
    texts, labels = list(texts), list(labels)
    if len(texts) != len(labels):
        raise TrainingDataError(
            f"Got {len(texts)} texts but {len(labels)} labels; every text needs exactly one label."
        )
    bad_text = [i for i, t in enumerate(texts) if not isinstance(t, str) or not t.strip()]
    if bad_text:
        raise TrainingDataError(
            f"{len(bad_text)} training text(s) are empty or not strings "
            f"(first at position {bad_text[0]}); remove or fill them."
        )
    bad_label = [
        i for i, label in enumerate(labels) if not isinstance(label, str) or not label.strip()
    ]
    if bad_label:
        raise TrainingDataError(
            f"{len(bad_label)} label(s) are empty or not strings "
            f"(first at position {bad_label[0]})."
        )
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    if len(counts) < 2:
        raise TrainingDataError(
            f"Training needs at least 2 intents, got {len(counts)}"
            + (f" ({next(iter(counts))!r})." if counts else ".")
        )
    short = sorted((c, label) for label, c in counts.items() if c < min_examples)
    if short:
        listed = ", ".join(f"{label!r} has {c}" for c, label in short)
        raise TrainingDataError(
            f"Every intent needs at least {min_examples} examples; "
            f"{len(short)} intent(s) have fewer: {listed}."
        )
    if not any(clean_text(t) for t in texts):
        raise TrainingDataError("All training texts are empty after cleaning.")
    return texts, labels


def training_data_hash(texts: Sequence[str], labels: Sequence[str]) -> str:
    """SHA-256 of the labelled data, independent of example order (a multiset: duplicates
    count). Two trainings on the same examples in any order get the same hash, so the caller
    can skip retraining when nothing changed."""
    texts, labels = list(texts), list(labels)
    if len(texts) != len(labels):
        raise TrainingDataError(
            f"Got {len(texts)} texts but {len(labels)} labels; every text needs exactly one label."
        )
    items = sorted(
        hashlib.sha256(json.dumps([t, label], ensure_ascii=False).encode("utf-8")).hexdigest()
        for t, label in zip(texts, labels, strict=True)
    )
    return hashlib.sha256("\n".join(items).encode("ascii")).hexdigest()


def _splits(
    y: np.ndarray, params: TrainingParams, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    n = len(y)
    idx = np.arange(n)
    if n <= params.cv_max_examples:
        k = min(params.cv_folds, int(np.bincount(y).min()))
        skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        return list(skf.split(idx, y))
    n_classes = len(np.unique(y))
    test_size = max(round(params.holdout_fraction * n), n_classes)
    tr, te = train_test_split(idx, test_size=test_size, stratify=y, random_state=seed)
    return [(np.sort(tr), np.sort(te))]


def _held_out_scores(
    model: FittedModel, cleaned: list[str], te: np.ndarray, class_pos: dict[str, int]
) -> np.ndarray:
    """Decision scores of the examples ``te``, one column per intent of the whole data."""
    s_te = model.scores([cleaned[i] for i in te])
    # model.classes is sorted like the whole data's intents; an intent absent from this
    # training part (possible only with very few examples) gets a score below every other one.
    cols = [class_pos[c] for c in model.classes]
    if len(cols) < len(class_pos):
        block = np.full((len(te), len(class_pos)), s_te.min() - 1.0)
        block[:, cols] = s_te
        s_te = block
    return s_te


def _remaining_halves(
    y: np.ndarray, held_out: np.ndarray, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """For a hold-out protocol: the examples outside ``held_out`` in two stratified halves,
    each with its training part (the hold-out and the other half)."""
    rest = np.setdiff1d(np.arange(len(y)), held_out)
    try:
        first, second = train_test_split(rest, test_size=0.5, stratify=y[rest], random_state=seed)
    except ValueError:
        # An intent with a single example outside the hold-out cannot be stratified: it goes
        # to whichever half, as in an unstratified split.
        first, second = train_test_split(rest, test_size=0.5, random_state=seed)
    first, second = np.sort(first), np.sort(second)
    return [
        (np.sort(np.concatenate([held_out, second])), first),
        (np.sort(np.concatenate([held_out, first])), second),
    ]


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    params: TrainingParams = TrainingParams(),  # noqa: B008 - frozen: safe to share
    seed: int = 0,
    progress: Callable[[float, str], None] | None = None,
    with_label_issues: bool = False,
) -> TrainingResult:
    """Train an intent classifier; deterministic for a given ``seed``.

    See the module docstring for the protocol (and :mod:`intents.calibration` for the abstain
    rule). ``progress`` (optional)
    is called with a fraction in [0, 1] and a short phrase ("vectorising", "fitting",
    "calibrating", "evaluating", …). With ``with_label_issues``, the result also lists the
    suspected mislabels (:mod:`intents.label_issues`), at most :data:`LABEL_ISSUES_LIMIT`.
    Raises :class:`TrainingDataError` when the data cannot train a model.
    """

    def report(fraction: float, phrase: str) -> None:
        if progress is not None:
            progress(float(min(1.0, max(0.0, fraction))), phrase)

    texts, labels = _validate(texts, labels, params.min_examples_per_intent)
    report(0.0, "cleaning")
    cleaned = [clean_text(t) for t in texts]
    dense = vector_block(params, cleaned)
    y = np.asarray(labels, dtype=object)
    classes = sorted(set(labels))
    class_pos = {c: i for i, c in enumerate(classes)}
    y_idx = np.array([class_pos[label] for label in labels])

    splits = _splits(y_idx, params, seed)
    n_splits = len(splits)
    extra_splits = (
        _remaining_halves(y_idx, splits[0][1], seed) if with_label_issues and n_splits == 1 else []
    )
    scores = np.zeros((len(labels), len(classes)))
    scored = np.zeros(len(labels), dtype=bool)
    groups = np.full(len(labels), -1)
    # Progress: each out-of-sample fit costs ~0.8 of the final fit on all data (~0.6 for the
    # label-issue fits); vectorising is ~1/4 of a fit. The fractions below split 0.02..0.97 in
    # that proportion.
    unit = 0.95 / (0.8 * n_splits + 0.6 * len(extra_splits) + 1.0)
    for s, (tr, te) in enumerate(splits):
        base = 0.02 + 0.8 * unit * s
        report(base, "vectorising")
        model = fit_model(
            [cleaned[i] for i in tr],
            y[tr],
            params,
            seed,
            on_fitting=lambda base=base: report(base + 0.2 * unit, "fitting"),
            dense=None if dense is None else dense[tr],
        )
        scores[te] = _held_out_scores(model, cleaned, te, class_pos)
        scored[te] = True
        groups[te] = s
    if n_splits == 1:
        # Single hold-out: two random halves for cross-fitting the temperature.
        rng = np.random.RandomState(seed)
        te = np.flatnonzero(scored)
        groups[te] = rng.permutation(len(te)) % 2

    final_start = 0.02 + 0.8 * unit * n_splits
    report(final_start, "calibrating")
    s_oof, y_oof, g_oof = scores[scored], y_idx[scored], groups[scored]
    temperature = fit_temperature(s_oof, y_oof, params.calibration_pseudo_examples)
    proba_oof = cross_fitted_proba(s_oof, y_oof, g_oof, params.calibration_pseudo_examples)

    report(final_start, "evaluating")
    conf = proba_oof.max(axis=1)
    said = proba_oof.argmax(axis=1)
    correct = (said == y_oof).astype(float)
    scored_at = np.flatnonzero(scored)
    confusions = tuple(
        (int(scored_at[row]), str(classes[said[row]]), round(float(conf[row]), 4))
        for row in np.flatnonzero(said != y_oof)
    )
    threshold = choose_threshold(conf, correct, params)
    n_fit = len(splits[0][0])
    metrics = dataclasses.replace(
        compute_metrics(y[scored], proba_oof, classes, threshold, n_train=n_fit),
        protocol=(
            f"{n_splits}-fold cross-validation"
            if n_splits > 1
            else f"stratified hold-out of {int(scored.sum())} examples"
        ),
        temperature=round(temperature, 6),
    )

    issues: list[LabelIssue] = []
    if with_label_issues:
        if extra_splits:
            # The hold-out scored a fifth of the examples; score the rest out of fold too.
            folds = np.zeros(len(labels), dtype=int)
            for s, (tr, te) in enumerate(extra_splits, start=1):
                base = final_start + 0.6 * unit * (s - 1)
                report(base, "looking for mislabelled examples")
                model = fit_model(
                    [cleaned[i] for i in tr],
                    y[tr],
                    params,
                    seed,
                    dense=None if dense is None else dense[tr],
                )
                scores[te] = _held_out_scores(model, cleaned, te, class_pos)
                folds[te] = s
            # Each model's scores get a temperature fitted on the other models' scores, as
            # the folds of cross-validation do.
            proba_all = cross_fitted_proba(scores, y_idx, folds, params.calibration_pseudo_examples)
            final_start += 0.6 * unit * len(extra_splits)
        else:
            # Cross-validation scored every example: the rows of proba_oof are in data order.
            proba_all = proba_oof
        issues = find_label_issues(y_idx, proba_all, classes, limit=LABEL_ISSUES_LIMIT)

    report(final_start, "vectorising all examples")
    final_model = fit_model(
        cleaned,
        y,
        params,
        seed,
        on_fitting=lambda: report(final_start + 0.25 * unit, "fitting final model"),
        dense=dense,
    )
    classifier = IntentClassifier(
        model=final_model,
        temperature=temperature,
        threshold=threshold,
        params=params,
        n_train=len(labels),
        data_hash=training_data_hash(texts, labels),
    )
    report(1.0, "done")
    return TrainingResult(
        classifier=classifier,
        metrics=metrics,
        label_issues=tuple(issues),
        confusions=confusions,
    )
