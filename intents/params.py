"""The tunables of the intent model, shared by its features, calibration, training and
artifacts. An artifact stores them in its header (:meth:`TrainingParams.to_dict`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from . import word_vectors

__all__ = ["MIN_EXAMPLES_PER_INTENT", "TrainingParams"]

#: An intent needs at least this many labelled examples: fewer cannot be split into a
#: training and a held-out part, and the model would not learn the intent anyway.
MIN_EXAMPLES_PER_INTENT = 5


@dataclass(frozen=True)
class TrainingParams:
    """Every tunable of the model. Feature and classifier defaults were chosen by 5-fold
    cross-validation on the BANKING77 training split (never on a test split); the abstain
    defaults are explained in :mod:`intents.calibration`. JSON-serialisable via
    :func:`dataclasses.asdict`."""

    #: Fewest labelled examples an intent needs (at least 2; see MIN_EXAMPLES_PER_INTENT).
    min_examples_per_intent: int = MIN_EXAMPLES_PER_INTENT
    #: Word n-grams 1..word_ngram_max.
    word_ngram_max: int = 2
    #: Character n-grams (within word boundaries) char_ngram_min..char_ngram_max.
    char_ngram_min: int = 2
    char_ngram_max: int = 5
    #: Add unordered word-pair features; words are cut to ``pair_prefix`` letters (0 = whole
    #: word), at most ``pair_max_words`` distinct words per message are paired.
    word_pairs: bool = True
    pair_prefix: int = 4
    pair_max_words: int = 40
    #: Weights of the three feature blocks (each block is L2-normalised first).
    word_weight: float = 1.0
    char_weight: float = 1.0
    pair_weight: float = 1.0
    #: Pretrained word-piece vectors appended as a fourth, dense block (see
    #: intents/word_vectors.py), and its weight; None trains on the lexical blocks alone.
    word_vectors: str | None = word_vectors.DEFAULT
    vector_weight: float = 1.0
    sublinear_tf: bool = True
    #: Drop terms seen in fewer than ``min_df`` messages, but only when training on at least
    #: ``min_df_min_examples`` messages: on BANKING77 it halves the model at no cost in
    #: accuracy, while small data sets need their rare words (HINT3 cross-validation: 1.5-3
    #: points better with every term kept).
    min_df: int = 2
    min_df_min_examples: int = 5000
    #: LinearSVC regularisation (smaller = stronger regularisation).
    C: float = 0.5
    #: "balanced" weighs intents inversely to their frequency, so a rare intent is not
    #: drowned by a frequent one; None weighs every example equally.
    class_weight: str | None = "balanced"
    #: Temperature-scaling prior: pseudo-examples with a uniformly random intent (see
    #: calibration.fit_temperature); keeps tiny, perfectly separable data sets from
    #: "100 % sure".
    calibration_pseudo_examples: float = 2.0
    #: Evaluation protocol: k-fold cross-validation up to ``cv_max_examples`` examples,
    #: otherwise a single stratified hold-out of ``holdout_fraction``.
    cv_folds: int = 5
    cv_max_examples: int = 3000
    holdout_fraction: float = 0.2
    #: Abstain rule (see :mod:`intents.calibration`).
    target_precision: float = 0.95
    min_coverage: float = 0.6
    min_threshold: float = 0.40

    def __post_init__(self) -> None:
        if self.min_examples_per_intent < 2:
            raise ValueError("min_examples_per_intent must be at least 2")
        if self.word_ngram_max < 1 or self.char_ngram_min < 1:
            raise ValueError("n-gram sizes must be at least 1")
        if self.char_ngram_max < self.char_ngram_min:
            raise ValueError("char_ngram_max must be at least char_ngram_min")
        if self.C <= 0:
            raise ValueError("C must be positive")
        if not 0 < self.holdout_fraction < 1:
            raise ValueError("holdout_fraction must be between 0 and 1")
        if self.cv_folds < 2:
            raise ValueError("cv_folds must be at least 2")
        if not 0 < self.target_precision <= 1 or not 0 <= self.min_coverage <= 1:
            raise ValueError("target_precision and min_coverage must be shares in (0, 1]")
        if self.class_weight not in (None, "balanced"):
            raise ValueError('class_weight must be None or "balanced"')
        if self.vector_weight <= 0:
            raise ValueError("vector_weight must be positive")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainingParams:
        """Build params from a dict, ignoring unknown keys (artifacts from newer code)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
