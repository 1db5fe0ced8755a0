"""How good a trained intent model is: the figures of :class:`TrainingMetrics`.

Training computes them on out-of-sample predictions (:func:`intents.training.train`), the
benchmark command on a test file (:func:`evaluate`). A model version stores them as JSON
(:meth:`TrainingMetrics.to_dict`, read back with :meth:`TrainingMetrics.from_dict`); that JSON
is the contract with rows already stored, so its keys never change.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .classifier import IntentClassifier

__all__ = ["ConfusionMatrix", "IntentScores", "TrainingMetrics", "compute_metrics", "evaluate"]

_ECE_BINS = 10


@dataclass(frozen=True)
class IntentScores:
    """How well one intent is recognised (its top-intent predictions, threshold ignored)."""

    precision: float
    recall: float
    f1: float
    support: int  # in-scope messages labelled with this intent


@dataclass(frozen=True)
class ConfusionMatrix:
    """Counts of (true intent, predicted intent), rows and columns in ``labels`` order."""

    labels: list[str]
    matrix: list[list[int]]


@dataclass(frozen=True)
class TrainingMetrics:
    """The figures of a model on labelled messages, every share in [0, 1].

    ``accuracy``, ``macro_f1``, ``per_intent``, ``confusion_matrix`` and ``calibration_error``
    judge the top intent (threshold ignored) over in-scope messages; ``coverage`` and
    ``precision_at_threshold`` judge the answers given at ``threshold`` (an out-of-scope
    message that is answered counts as a wrong answer). The out-of-scope figures exist only
    when the messages had out-of-scope ones: ``in_scope_accuracy`` counts an abstention on an
    in-scope message as wrong, ``oos_recall`` is the share of out-of-scope messages abstained
    on and ``oos_precision`` the share of abstentions that were out of scope. Training adds
    how the messages were held out (``protocol``) and the fitted ``temperature``.
    """

    accuracy: float
    macro_f1: float
    per_intent: dict[str, IntentScores]
    confusion_matrix: ConfusionMatrix
    calibration_error: float
    threshold: float
    coverage: float
    precision_at_threshold: float
    n_train: int
    n_test: int
    n_labels: int
    in_scope_accuracy: float | None = None
    oos_recall: float | None = None
    oos_precision: float | None = None
    n_oos: int | None = None
    protocol: str | None = None
    temperature: float | None = None

    def to_dict(self) -> dict:
        """Plain JSON types, as stored on a model version; figures not computed are left out."""
        data = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is None:
                continue
            if field.name == "per_intent":
                value = {label: dataclasses.asdict(scores) for label, scores in value.items()}
            elif field.name == "confusion_matrix":
                value = dataclasses.asdict(value)
            data[field.name] = value
        return data

    @classmethod
    def from_dict(cls, data: Mapping) -> TrainingMetrics:
        """Metrics from :meth:`to_dict` output, ignoring keys this code does not know."""
        names = {field.name for field in dataclasses.fields(cls)}
        values = {key: value for key, value in data.items() if key in names}
        values["per_intent"] = {
            label: IntentScores(**scores) for label, scores in data["per_intent"].items()
        }
        values["confusion_matrix"] = ConfusionMatrix(**data["confusion_matrix"])
        return cls(**values)


def _expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = _ECE_BINS
) -> float:
    if len(confidence) == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            ece += mask.mean() * abs(confidence[mask].mean() - correct[mask].mean())
    return float(ece)


def compute_metrics(
    y_true: Sequence[str],
    proba: np.ndarray,
    labels: list[str],
    threshold: float,
    *,
    n_train: int,
    oos_label: str | None = None,
) -> TrainingMetrics:
    """The metrics of probabilities ``proba`` (columns in ``labels`` order) against the true
    intents; messages labelled ``oos_label`` are out of scope."""
    y_true = [str(y) for y in y_true]
    n = len(y_true)
    label_arr = np.asarray(labels, dtype=object)
    if n:
        top_idx = proba.argmax(axis=1)
        confidence = proba[np.arange(n), top_idx]
        y_pred = label_arr[top_idx]
    else:
        confidence = np.zeros(0)
        y_pred = np.zeros(0, dtype=object)
    y_arr = np.asarray(y_true, dtype=object)
    answered = confidence >= threshold
    in_scope = y_arr != oos_label if oos_label is not None else np.ones(n, dtype=bool)
    correct = (y_pred == y_arr) & in_scope
    n_in = int(in_scope.sum())

    # Classification quality (argmax, threshold ignored) over in-scope messages.
    eval_labels = sorted(set(labels) | {y for y, s in zip(y_true, in_scope, strict=True) if s})
    pos = {label: i for i, label in enumerate(eval_labels)}
    cm = np.zeros((len(eval_labels), len(eval_labels)), dtype=np.int64)
    for t, p, s in zip(y_true, y_pred, in_scope, strict=True):
        if s:
            cm[pos[t], pos[p]] += 1
    per_intent = {}
    f1s = []
    for label, i in pos.items():
        tp = int(cm[i, i])
        support = int(cm[i].sum())
        predicted = int(cm[:, i].sum())
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[label] = IntentScores(
            precision=round(precision, 6),
            recall=round(recall, 6),
            f1=round(f1, 6),
            support=support,
        )
        if support:
            f1s.append(f1)
    accuracy = float(correct.sum() / n_in) if n_in else 0.0
    conf_in = confidence[in_scope]
    correct_in = correct[in_scope]
    n_answered = int(answered.sum())
    out_of_scope = {}
    if oos_label is not None:
        oos = ~in_scope
        abstained = ~answered
        n_oos = int(oos.sum())
        n_abst = int(abstained.sum())
        out_of_scope = {
            "in_scope_accuracy": round(float((correct & answered).sum() / n_in), 6)
            if n_in
            else 0.0,
            "oos_recall": round(float((oos & abstained).sum() / n_oos), 6) if n_oos else 0.0,
            "oos_precision": round(float((oos & abstained).sum() / n_abst), 6) if n_abst else 0.0,
            "n_oos": n_oos,
        }
    return TrainingMetrics(
        accuracy=round(accuracy, 6),
        macro_f1=round(float(np.mean(f1s)) if f1s else 0.0, 6),
        per_intent=per_intent,
        confusion_matrix=ConfusionMatrix(labels=eval_labels, matrix=cm.tolist()),
        calibration_error=round(_expected_calibration_error(conf_in, correct_in.astype(float)), 6),
        threshold=round(float(threshold), 6),
        coverage=round(n_answered / n, 6) if n else 0.0,
        precision_at_threshold=round(float((correct & answered).sum() / n_answered), 6)
        if n_answered
        else 0.0,
        n_train=int(n_train),
        n_test=int(n),
        n_labels=len(labels),
        **out_of_scope,
    )


def evaluate(
    classifier: IntentClassifier,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    oos_label: str | None = None,
) -> TrainingMetrics:
    """Evaluate ``classifier`` on labelled texts (see :class:`TrainingMetrics`); with
    ``oos_label``, messages carrying that label are out of scope."""
    texts, labels = list(texts), list(labels)
    if len(texts) != len(labels):
        raise ValueError(f"Got {len(texts)} texts but {len(labels)} labels.")
    proba = classifier.predict_proba(texts)
    return compute_metrics(
        labels,
        proba,
        classifier.labels,
        classifier.threshold,
        n_train=classifier.n_train,
        oos_label=oos_label,
    )
