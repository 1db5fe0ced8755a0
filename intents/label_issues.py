"""Suspected mislabels: labelled examples the model, trained without them, disagrees with.

The idea is confident learning's (Northcutt, Jiang & Chuang, "Confident Learning: Estimating
Uncertainty in Dataset Labels", JAIR 2021; cleanlab's ``find_label_issues``), on the
out-of-fold probabilities training already computes (:func:`intents.training.train`). Pure
numpy, no Django.

An example labelled ``i`` is a *candidate* when its *self-confidence* ``p_i(x)`` (the
out-of-fold probability of its given label) is below ``t_i``, the mean self-confidence of the
examples labelled ``i``, and another intent is more probable. The per-intent thresholds make
the rule fair to hard intents (whose examples are never very sure) and easy ones alike.

Candidates alone are every message the model gets wrong: on BANKING77 with 2 % of the labels
flipped, 1,112 candidates held all 200 flipped labels (precision 18 %). So, as cleanlab's default
(``filter_by="prune_by_noise_rate"``) does, the *confident joint* says how many labels look
wrong: an example counts for the most probable of the intents it reaches the threshold of
(``p_k(x) >= t_k``), the counts are calibrated so that each label's row adds up to its number
of examples (examples that reach no threshold are spread like the others), and the
off-diagonal total is the estimate. That many candidates are flagged, the least
self-confident first (cleanlab's ``self_confidence`` ranking): on the same data, 428 flags,
precision 46 %, recall 98 % (docs/bench/label_issues.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["LabelIssue", "find_label_issues"]


@dataclass(frozen=True)
class LabelIssue:
    """One example whose given label the out-of-fold model doubts."""

    index: int  # position of the example in the training data
    label: str  # the given label
    label_probability: float  # its out-of-fold probability (the self-confidence)
    suggestion: str  # the most probable other intent
    suggestion_probability: float
    top: list[tuple[str, float]]  # the out-of-fold top 3, best first


def find_label_issues(
    y_idx: np.ndarray,
    proba: np.ndarray,
    classes: Sequence[str],
    *,
    limit: int | None = None,
    top_k: int = 3,
) -> list[LabelIssue]:
    """Suspected mislabels among examples with labels ``y_idx`` (indices into ``classes``) and
    out-of-fold probabilities ``proba`` (one row per example, columns in ``classes`` order),
    least self-confident first, at most ``limit`` of them."""
    y_idx = np.asarray(y_idx, dtype=int)
    proba = np.asarray(proba, dtype=float)
    n, n_classes = proba.shape
    if n == 0:
        return []
    rows = np.arange(n)
    self_confidence = proba[rows, y_idx]
    # Mean self-confidence per intent; an intent without examples never gets flagged to, so
    # its threshold is unreachable.
    totals = np.bincount(y_idx, weights=self_confidence, minlength=n_classes)
    counts = np.bincount(y_idx, minlength=n_classes)
    thresholds = np.divide(totals, counts, out=np.full(n_classes, np.inf), where=counts > 0)

    others = proba.copy()
    others[rows, y_idx] = -np.inf
    suggestion = others.argmax(axis=1)
    suggestion_probability = others[rows, suggestion]
    candidates = np.flatnonzero(
        (self_confidence < thresholds[y_idx]) & (suggestion_probability > self_confidence)
    )
    candidates = candidates[np.argsort(self_confidence[candidates], kind="stable")]
    order = candidates[: _confident_joint_off_diagonal(y_idx, proba, thresholds)]
    if limit is not None:
        order = order[:limit]
    top_k = min(top_k, n_classes)
    issues = []
    for i in order:
        best = np.argsort(-proba[i], kind="stable")[:top_k]
        issues.append(
            LabelIssue(
                index=int(i),
                label=str(classes[y_idx[i]]),
                label_probability=float(self_confidence[i]),
                suggestion=str(classes[suggestion[i]]),
                suggestion_probability=float(suggestion_probability[i]),
                top=[(str(classes[j]), float(proba[i, j])) for j in best],
            )
        )
    return issues


def _confident_joint_off_diagonal(
    y_idx: np.ndarray, proba: np.ndarray, thresholds: np.ndarray
) -> int:
    """Confident learning's estimate of how many labels are wrong: the off-diagonal total of
    the calibrated confident joint."""
    n_classes = proba.shape[1]
    confident = proba >= thresholds[None, :]
    counted = confident.any(axis=1)
    confident_intent = np.where(confident, proba, -np.inf).argmax(axis=1)
    joint = np.zeros((n_classes, n_classes))
    np.add.at(joint, (y_idx[counted], confident_intent[counted]), 1.0)
    labelled = np.bincount(y_idx, minlength=n_classes)
    row_totals = joint.sum(axis=1)
    scale = np.divide(labelled, row_totals, out=np.zeros(n_classes), where=row_totals > 0)
    joint *= scale[:, None]
    return round(float(joint.sum() - np.trace(joint)))
