"""From decision scores to calibrated probabilities, and when the model abstains.

Temperature scaling
-------------------
The linear classifier's decision scores are turned into probabilities by **temperature
scaling** (``softmax(scores / T)``), with ``T`` fitted by maximum likelihood on held-out data
(:func:`fit_temperature`). Temperature scaling never changes the top intent, is a single
scalar, and needs no inner cross-validation (``CalibratedClassifierCV`` would refit the SVM
several more times). For honest metrics, the probabilities used for evaluation are
*cross-fitted* (:func:`cross_fitted_proba`): each example's temperature is fitted without it.

Abstain rule
------------
The classifier abstains ("not sure") when the calibrated probability of its top intent is
below ``threshold``, where::

    threshold = max(min_threshold, lowest t such that, on the out-of-sample predictions,
                    precision(answered at t) >= target_precision
                    and coverage(t) >= min_coverage)

* The **precision part** (default 95 %) is the product promise "when the model answers, it
  is right 19 times out of 20"; it adapts to how hard the shop's intents are. The coverage
  floor (default 60 %) stops a hard data set from abstaining on almost everything (if the
  target cannot be met, the model answers the 60 % it is surest about).
* The **floor** ``min_threshold`` (default 0.40) is a decision rule on calibrated
  probabilities: never answer when the model's own odds of being right are worse than 2:3.
  It is what catches *out-of-scope* messages, which the held-out data (all in scope) cannot
  show: such messages match no intent well and get a flat, low top probability. The value was
  chosen on the CLINC150 validation split (in-scope + out-of-scope): the highest floor that
  keeps the loss of in-scope answers under one point. It is one rule for every data set and
  needs no out-of-scope examples.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize_scalar

from .params import TrainingParams

__all__ = ["choose_threshold", "cross_fitted_proba", "fit_temperature", "softmax"]


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities of decision scores at ``temperature``, one row per message."""
    z = scores / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(scores: np.ndarray, y_idx: np.ndarray, pseudo_examples: float = 2.0) -> float:
    """Temperature minimising the negative log-likelihood of the true intents.

    On small, perfectly separated data the plain maximum-likelihood temperature runs to zero
    (every held-out example right → "100 % sure" of everything, gibberish included). So the
    likelihood also counts ``pseudo_examples`` examples whose intent is uniformly random
    (label smoothing with weight k / (n + k)): negligible with thousands of examples, a sane
    ceiling on confidence with a few dozen.
    """
    n = len(y_idx)
    if n == 0:
        return 1.0
    rows = np.arange(n)
    eps = pseudo_examples / (n + pseudo_examples)

    def nll(log_t: float) -> float:
        z = scores / math.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(z).sum(axis=1))
        true_part = (z[rows, y_idx] - log_norm).mean()
        uniform_part = (z.mean(axis=1) - log_norm).mean()
        return float(-((1 - eps) * true_part + eps * uniform_part))

    res = minimize_scalar(nll, bounds=(math.log(1e-3), math.log(1e2)), method="bounded")
    return float(math.exp(res.x))


def cross_fitted_proba(
    scores: np.ndarray, y_idx: np.ndarray, groups: np.ndarray, pseudo_examples: float
) -> np.ndarray:
    """Probabilities where each example's temperature was fitted on the *other* groups."""
    proba = np.empty_like(scores)
    for g in np.unique(groups):
        mask = groups == g
        t = fit_temperature(scores[~mask], y_idx[~mask], pseudo_examples) if (~mask).any() else 1.0
        proba[mask] = softmax(scores[mask], t)
    return proba


def choose_threshold(confidence: np.ndarray, correct: np.ndarray, params: TrainingParams) -> float:
    """Lowest threshold whose answered messages reach ``target_precision`` on held-out data,
    never answering fewer than ``min_coverage`` of them; at least ``min_threshold``."""
    n = len(confidence)
    if n == 0:
        return float(params.min_threshold)
    order = np.argsort(-confidence, kind="stable")
    conf_sorted = confidence[order]
    cum_correct = np.cumsum(correct[order])
    answered = np.arange(1, n + 1)
    precision = cum_correct / answered
    # Answering the k most confident messages; candidate thresholds are their confidences.
    # Ties: a threshold t answers every message with confidence >= t, so only the last index
    # of a run of equal confidences is a valid cut.
    valid = np.r_[conf_sorted[1:] != conf_sorted[:-1], True]
    min_k = max(1, math.ceil(params.min_coverage * n))
    ok = valid & (precision >= params.target_precision) & (answered >= min_k)
    if ok.any():
        k = int(np.flatnonzero(ok).max()) + 1  # most answered = lowest threshold
    else:
        # Precision target out of reach at the coverage floor: answer the floor.
        cand = np.flatnonzero(valid & (answered >= min_k))
        k = int(cand.min()) + 1 if len(cand) else n
    threshold = float(conf_sorted[k - 1]) if k < n else 0.0
    return max(float(params.min_threshold), threshold)
