"""Why the model chose an intent: the words of a message that weighed most for it.

An intent's decision score for a message is a sum: the intercept, plus each TF-IDF feature's
value times the intent's weight for it, plus the word-vector block's product. Every part is
credited to the words of the cleaned message it comes from, so the words' shares add up to the
score (:func:`contributions`; a test checks the sum):

* **word n-grams**: a word to itself, an n-gram evenly to its n words;
* **word pairs** ("cancel|orde"): half to each side, shared by the words cut to that prefix;
* **character n-grams**: to the word they were cut from. They are a third of the lexical
  features, and the only ones a misspelt or inflected word has ("pakage", "refunded"):
  skipping them would leave exactly those words unexplained. Crediting them costs one lookup
  per word, whose n-grams the feature block caches anyway;
* **word vectors**: the block's score is ``(Σ vᵢ) · w / ‖Σ vᵢ‖`` over the message's word
  pieces, so piece ``i`` contributes exactly ``vᵢ · w / ‖Σ vᵢ‖``: one matrix-vector product,
  and the shares add up, which leaving one word out at a time (one re-normalisation per word)
  would not.

A term that occurs several times is shared evenly among its occurrences. The words are then
mapped back to the raw message with :mod:`intents.text_origins`: a placeholder (the masked order
number) stands for nothing and is never shown, and quoted history or a signature that cleaning
cut has no word at all. Pure numpy on the loaded classifier, no database, well under a
millisecond for a typical message.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .classifier import FittedModel, IntentClassifier
from .features import FeatureBlock
from .text_cleaning import clean_text
from .text_origins import CleanedText, clean_text_with_origins

__all__ = ["Contributions", "Span", "contributions", "evidence"]

logger = logging.getLogger(__name__)

#: A highlighted word: letters and digits, with inner apostrophes ("hasn't").
_WORD = re.compile(r"\w+(?:['\u2019]\w+)*")
#: scikit-learn's default token pattern, which the word and word-pair features use.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
#: The character n-grams of a message are those of its whitespace-separated words.
_WHITESPACE_WORD = re.compile(r"\S+")
#: Evidence weaker than this share of the strongest is not shown: it would highlight filler
#: words ("the", "my") that barely moved the score.
_FAINTEST = 0.1


class Span(NamedTuple):
    """Characters ``start:end`` of the raw message, and how much they weighed (the strongest
    evidence weighs 1.0)."""

    start: int
    end: int
    weight: float


@dataclass(frozen=True)
class Contributions:
    """An intent's decision score for a cleaned message, split among the message's words."""

    words: list[tuple[int, int]]  # the words' ranges in the cleaned text
    scores: np.ndarray  # each word's share of the score
    unattributed: float  # the share of no word (n-grams of punctuation)
    intercept: float

    @property
    def total(self) -> float:
        """The decision score: the intercept plus every share."""
        return self.intercept + float(self.scores.sum()) + self.unattributed


class _Ledger:
    """The words of a cleaned message and the score credited to each."""

    def __init__(self, cleaned: str) -> None:
        self.words = [(m.start(), m.end()) for m in _WORD.finditer(cleaned)]
        self.word_at = [-1] * len(cleaned)  # plain lists: read and written item by item
        for index, (start, end) in enumerate(self.words):
            self.word_at[start:end] = [index] * (end - start)
        self.scores = [0.0] * len(self.words)
        self.unattributed = 0.0

    def credit(self, words: Sequence[int], amount: float) -> None:
        if words:
            for word in words:
                self.scores[word] += amount / len(words)
        else:
            self.unattributed += amount

    def words_in(self, start: int, end: int) -> list[int]:
        return sorted({word for word in self.word_at[start:end] if word >= 0})


def _term_scores(block: FeatureBlock, weights: np.ndarray, cleaned: str, column: int) -> dict:
    ids, values = block.terms(cleaned)
    return dict(zip(ids.tolist(), (values * weights[ids, column]).tolist(), strict=True))


def _credit_word_ngrams(ledger, block, weights, cleaned, column, tokens) -> None:
    scores = _term_scores(block, weights, cleaned, column)
    places: dict[int, list[list[int]]] = defaultdict(list)
    for n in range(1, block.params.word_ngram_max + 1):
        for i in range(len(tokens) - n + 1):
            term_id = block.vocab.get(" ".join(token for token, _ in tokens[i : i + n]))
            if term_id is not None:
                places[term_id].append([word for _, word in tokens[i : i + n]])
    for term_id, score in scores.items():
        occurrences = places.get(term_id, [[]])
        for words in occurrences:
            ledger.credit(words, score / len(occurrences))


def _credit_word_pairs(ledger, block, weights, cleaned, column, tokens) -> None:
    scores = _term_scores(block, weights, cleaned, column)
    prefix, max_words = block.params.pair_prefix, block.params.pair_max_words
    # The paired words are the first `max_words` distinct prefixes (features._pair_candidates);
    # a pair's share goes to every word cut to one of its prefixes.
    words_of: dict[str, list[int]] = {}
    for token, word in tokens:
        cut = token[:prefix] if prefix else token
        if cut in words_of:
            words_of[cut].append(word)
        elif len(words_of) < max_words:
            words_of[cut] = [word]
    cuts = sorted(words_of)
    shares = dict.fromkeys(cuts, 0.0)
    for i, first in enumerate(cuts):
        for second in cuts[i + 1 :]:
            score = scores.get(block.vocab.get(f"{first}|{second}", -1))
            if score is not None:
                shares[first] += score / 2
                shares[second] += score / 2
    for cut, share in shares.items():
        ledger.credit(words_of[cut], share)
    ledger.unattributed += sum(scores.values()) - sum(shares.values())


def _credit_char_ngrams(ledger, block, weights, cleaned, column) -> None:
    ids, values = block.terms(cleaned)
    if not len(ids):
        return
    words = [
        (m.start(), m.end(), block.word_term_ids(m.group()))
        for m in _WHITESPACE_WORD.finditer(cleaned)
    ]
    flat = np.fromiter((i for _, _, word_ids in words for i in word_ids), dtype=np.int64)
    owner = np.repeat(np.arange(len(words)), [len(word_ids) for _, _, word_ids in words])
    score = np.zeros(int(flat.max()) + 1)
    score[ids] = values * weights[ids, column]
    # An n-gram's score is shared evenly among its occurrences in the message.
    per_occurrence = score[flat] / np.bincount(flat)[flat]
    for (start, end, _), amount in zip(
        words, np.bincount(owner, weights=per_occurrence, minlength=len(words)), strict=True
    ):
        ledger.credit(ledger.words_in(start, end), float(amount))


def _credit_word_vectors(ledger, model: FittedModel, cleaned: str, column: int) -> None:
    if model.vectors is None:
        return
    spans, vectors = model.vectors.pieces(cleaned)
    norm = float(np.linalg.norm(vectors.sum(axis=0))) if len(spans) else 0.0
    if not norm:
        return
    shares = (vectors @ model.w_vectors[:, column]) / norm
    for (start, end), amount in zip(spans, shares.tolist(), strict=True):
        ledger.credit(ledger.words_in(start, end), amount)


def contributions(classifier: IntentClassifier, cleaned: str, intent: str) -> Contributions:
    """How much each word of a *cleaned* message adds to ``intent``'s decision score."""
    model = classifier.fitted_model
    if intent not in model.classes:
        raise ValueError(f"The model does not know the intent {intent!r}.")
    column = model.classes.index(intent)
    ledger = _Ledger(cleaned)
    tokens = [(m.group(), ledger.word_at[m.start()]) for m in _TOKEN.finditer(cleaned)]
    for block, weights in model.blocks:
        if block.name == "char":
            _credit_char_ngrams(ledger, block, weights, cleaned, column)
        elif block.name == "pairs":
            _credit_word_pairs(ledger, block, weights, cleaned, column, tokens)
        else:
            _credit_word_ngrams(ledger, block, weights, cleaned, column, tokens)
    _credit_word_vectors(ledger, model, cleaned, column)
    return Contributions(
        words=ledger.words,
        scores=np.asarray(ledger.scores),
        unattributed=ledger.unattributed,
        intercept=float(model.intercept[column]),
    )


def _raw_spans(parts: Contributions, origins: CleanedText) -> list[list]:
    """Each word's score on the raw range it stands for; ranges that overlap (a glossary
    phrase and the words it became) are one span with the sum of their scores."""
    placed = sorted(
        [*origin, score]
        for origin, score in zip(origins.origins(parts.words), parts.scores.tolist(), strict=True)
        if origin is not None
    )
    merged: list[list] = []
    for start, end, score in placed:
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2] += score
        else:
            merged.append([start, end, score])
    return merged


def evidence(
    classifier: IntentClassifier, text: str, *, intent: str | None = None, limit: int = 5
) -> list[Span]:
    """The strongest evidence for ``intent`` (default: the model's best guess, abstained or
    not) in the raw message ``text``: at most ``limit`` spans of ``text``, in text order, each
    weighted relative to the strongest (1.0). Only words that raised the score are shown."""
    text = text or ""
    cleaned = clean_text(text)
    origins = clean_text_with_origins(text)
    if origins.text != cleaned:
        logger.warning("cleaning offsets disagree with clean_text; no evidence is shown")
        return []
    if intent is None:
        scores = classifier.fitted_model.scores([cleaned])[0]
        intent = classifier.labels[int(np.argmax(scores))]
    raw = _raw_spans(contributions(classifier, cleaned, intent), origins)
    positive = sorted((span for span in raw if span[2] > 0), key=lambda span: -span[2])
    if not positive:
        return []
    strongest = positive[0][2]
    shown = [span for span in positive[:limit] if span[2] >= _FAINTEST * strongest]
    return sorted(Span(start, end, round(score / strongest, 3)) for start, end, score in shown)
