"""Training core of the intent classifier: pure scikit-learn / numpy, no Django.

The model
---------
Every message goes through :func:`intents.text_cleaning.clean_text` and is then described by
three TF-IDF blocks (sublinear term frequency, each block L2-normalised) and one dense block:

* **word 1-2-grams**: the key words and short phrases ("track order", "refund");
* **char_wb 2-5-grams**: character n-grams inside word boundaries, which make the model
  robust to typos, inflections and compounds ("refnd", "refunded", "Rückerstattung");
* **word pairs**: every unordered pair of (4-letter-prefix) words in the message
  ("cancel|orde", "refu|when"). A linear model cannot express "*why* together with *verify*"
  with unigrams alone; pairs add these conjunctions explicitly — they are a cheap, linear
  stand-in for a degree-2 polynomial kernel and were the largest single gain in tuning
  (+0.7 points of 5-fold cross-validated BANKING77 accuracy on top of word+char n-grams;
  cutting words to 4 letters is a crude stemmer that helps the pairs generalise);
* **word vectors**: the normalised mean of pretrained word-piece vectors
  (:mod:`intents.word_vectors`), which know that "parcel" and "package" mean the same thing
  when the store's examples only ever say one of them. Lexical features plateau at about
  91.4 % in cross-validation on BANKING77; this block adds about 0.6 points there and 1.2 on
  its test split.

A one-vs-rest :class:`~sklearn.svm.LinearSVC` is fitted on the concatenated blocks. Its
decision scores are turned into probabilities by **temperature scaling**
(``softmax(scores / T)``), with ``T`` fitted by maximum likelihood on held-out data. Temperature
scaling never changes the top intent, is a single scalar, and needs no inner
cross-validation (``CalibratedClassifierCV`` would refit the SVM several more times).

At prediction time the TF-IDF features are computed by a small featuriser that reproduces the
fitted ``TfidfVectorizer`` exactly (a test checks it) without scikit-learn's per-call input
validation, which alone would cost several milliseconds per message.

Training protocol (:func:`train`)
---------------------------------
1. Validate the data (:class:`TrainingDataError` with a sentence saying what is wrong).
2. Score every example *out of sample*: with stratified ``k``-fold cross-validation for small
   data sets (≤ ``TrainingParams.cv_max_examples`` examples, where a single hold-out would be
   too small to choose a threshold) and with one stratified hold-out split otherwise.
3. Fit the temperature on those out-of-sample scores. For honest metrics the probabilities
   used for evaluation are *cross-fitted*: each example's temperature is fitted without it.
4. Choose the abstain threshold on the cross-fitted probabilities (rule below) and compute the
   metrics (:func:`evaluate` format).
5. Refit the final model on **all** data, keeping the temperature and threshold.

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

Artifacts
---------
:func:`serialize` writes ``MAGIC + JSON header + b"\\n" + skops payload``. The header holds
the format version, labels, threshold, temperature, params and library versions. The payload is
plain data — vocabularies, IDF weights, the weight matrix (float16), and the name and SHA-256
of the word vectors the model was trained with, as strings and numpy arrays, no estimator
objects — loaded with :func:`skops.io.loads` and an explicit list of
trusted types (never ``trusted=True``, never pickle/joblib): a tampered file cannot execute
code on load. :func:`deserialize` verifies the SHA-256 *before* parsing anything, and refuses
a model whose word vectors are not the installed ones.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import math
import platform
import re
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy
import scipy.sparse as sp
import sklearn
from scipy.optimize import minimize_scalar
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.svm import LinearSVC

from . import word_vectors
from .text_cleaning import clean_text

__all__ = [
    "FORMAT_VERSION",
    "MIN_EXAMPLES_PER_INTENT",
    "ArtifactError",
    "IntentClassifier",
    "IntentPrediction",
    "TrainingDataError",
    "TrainingParams",
    "TrainingResult",
    "deserialize",
    "evaluate",
    "library_versions",
    "serialize",
    "train",
    "training_data_hash",
]

#: An intent needs at least this many labelled examples: fewer cannot be split into a
#: training and a held-out part, and the model would not learn the intent anyway.
MIN_EXAMPLES_PER_INTENT = 5
#: Version of the artifact layout written by :func:`serialize`. Version 1 (lexical blocks
#: only, before word vectors) is still read.
FORMAT_VERSION = 2
_READABLE_VERSIONS = (1, 2)
_MAGIC = b"INTENT-CLASSIFIER\n"
#: Up to this many messages are scored one by one with dense gathers instead of sparse
#: matrices: building a scipy matrix costs ~0.3 ms per block, more than a live message's
#: whole prediction should.
_ONE_BY_ONE_MAX = 16
_ECE_BINS = 10


class TrainingDataError(ValueError):
    """The labelled data cannot train a model (too few intents or examples, empty texts…)."""


class ArtifactError(ValueError):
    """A model artifact is corrupt, was tampered with, or has an unknown format version."""


@dataclass(frozen=True)
class TrainingParams:
    """Every tunable of the model. Feature and classifier defaults were chosen by 5-fold
    cross-validation on the BANKING77 training split (never on a test split); the abstain
    defaults are explained in the module docstring. JSON-serialisable via
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
    #: _fit_temperature); keeps tiny, perfectly separable data sets from "100 % sure".
    calibration_pseudo_examples: float = 2.0
    #: Evaluation protocol: k-fold cross-validation up to ``cv_max_examples`` examples,
    #: otherwise a single stratified hold-out of ``holdout_fraction``.
    cv_folds: int = 5
    cv_max_examples: int = 3000
    holdout_fraction: float = 0.2
    #: Abstain rule (see the module docstring).
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


@dataclass(frozen=True)
class IntentPrediction:
    intent: str | None  # None when abstained
    confidence: float  # calibrated probability of the top intent
    top: list[tuple[str, float]]  # top-k (label, probability), best first
    abstained: bool


# --------------------------------------------------------------------------- features
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def _pair_document(text: str, prefix: int, max_words: int) -> str:
    """The word-pair "document" of a cleaned message (space-separated ``a|b`` tokens), fed
    to a plain TfidfVectorizer at training time (no callable analyzer, nothing custom to
    store in the artifact)."""
    return " ".join(_pairs(text, prefix, max_words))


def _make_vectorizers(params: TrainingParams, n_docs: int = 0) -> dict[str, TfidfVectorizer]:
    min_df = params.min_df if n_docs >= params.min_df_min_examples else 1
    common = dict(sublinear_tf=params.sublinear_tf, min_df=min_df, dtype=np.float32)
    vecs = {
        "word": TfidfVectorizer(ngram_range=(1, params.word_ngram_max), **common),
        "char": TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(params.char_ngram_min, params.char_ngram_max),
            **common,
        ),
    }
    if params.word_pairs:
        vecs["pairs"] = TfidfVectorizer(
            token_pattern=r"\S+",  # noqa: S106 - a regex, not a password
            lowercase=False,
            **common,
        )
    return vecs


def _block_inputs(name: str, cleaned: Sequence[str], params: TrainingParams) -> Sequence[str]:
    if name == "pairs":
        return [_pair_document(t, params.pair_prefix, params.pair_max_words) for t in cleaned]
    return cleaned


def _weights(params: TrainingParams) -> dict[str, float]:
    return {"word": params.word_weight, "char": params.char_weight, "pairs": params.pair_weight}


def _fit_block(vec: TfidfVectorizer, docs: Sequence[str]):
    """Fit one block; on tiny data ``min_df`` may prune every term (or every message may be
    a single word, leaving no pairs): retry with ``min_df=1``, else leave the block empty."""
    try:
        return vec, vec.fit_transform(docs)
    except ValueError:
        pass
    vec.set_params(min_df=1)
    try:
        return vec, vec.fit_transform(docs)
    except ValueError:
        return None, sp.csr_matrix((len(docs), 0), dtype=np.float32)


def _transform(vecs: dict, cleaned: Sequence[str], params: TrainingParams, fit: bool = False):
    """Feature matrix of cleaned texts. With ``fit=True`` the vectorisers are fitted, and a
    block that cannot be fitted is replaced by ``None`` in ``vecs`` (an empty block)."""
    weights = _weights(params)
    blocks = []
    for name in list(vecs):
        vec = vecs[name]
        if fit:
            vec, m = _fit_block(vec, _block_inputs(name, cleaned, params))
            vecs[name] = vec
        elif vec is None:
            m = sp.csr_matrix((len(cleaned), 0), dtype=np.float32)
        else:
            m = vec.transform(_block_inputs(name, cleaned, params))
        w = weights[name]
        blocks.append(m * np.float32(w) if w != 1.0 else m)
    return sp.hstack(blocks, format="csr", dtype=np.float32)


class _Block:
    """Fast TF-IDF featuriser for one feature block of a fitted model.

    It computes exactly what the fitted ``TfidfVectorizer`` would (same analyzer, sublinear
    TF, IDF, L2 norm) but without scikit-learn's per-call input validation, which costs
    ~1 ms per call and would dominate the prediction of a single message. Character n-grams
    are computed per word and cached, since the same words recur in almost every message.
    """

    _CACHE_LIMIT = 200_000

    def __init__(self, name: str, terms: list[str], idf: np.ndarray, params: TrainingParams):
        self.name = name
        self.params = params
        self.vocab = {t: i for i, t in enumerate(terms)}
        self.idf = np.asarray(idf, dtype=np.float32)
        self.size = len(terms)
        self.sublinear = params.sublinear_tf
        template = _make_vectorizers(params)[name]
        self._analyzer = template.build_analyzer()
        self._word_cache: dict[str, list[int]] = {}
        if name == "pairs":
            self._index_pairs(terms)

    def _index_pairs(self, terms: list[str]) -> None:
        """Number the words of the known pairs (in sorted order, so ``a < b`` in a term means
        ``index(a) < index(b)``) and key every known pair ``a|b`` by the integer
        ``index(a) * n_words + index(b)``, sorted: a batch's pairs are then looked up all at
        once with :func:`numpy.searchsorted` (:meth:`_pair_entries`)."""
        words = sorted({w for t in terms for w in t.split("|")})
        self._pair_words = {w: i for i, w in enumerate(words)}
        n_words = len(words)
        keys = np.fromiter(
            (
                self._pair_words[a] * n_words + self._pair_words[b]
                for a, b in (t.split("|") for t in terms)
            ),
            dtype=np.int64,
            count=len(terms),
        )
        order = np.argsort(keys)
        self._pair_keys = keys[order]
        self._pair_key_terms = order  # term id of each sorted key (term ids are 0..n-1)
        self._n_pair_words = n_words

    def _pair_entries(self, cleaned: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(row, term id) of every known word pair in a batch of cleaned messages: what
        :func:`_pairs` and a vocabulary lookup give message by message, three times faster.
        Words are distinct within a message, so every pair occurs at most once."""
        prefix, max_words = self.params.pair_prefix, self.params.pair_max_words
        index = self._pair_words
        flat: list[int] = []
        lengths = []
        for doc in cleaned:
            words = _pair_candidates(doc, prefix, max_words)
            known = sorted(index[w] for w in words if w in index)
            flat.extend(known)
            lengths.append(len(known))
        words = np.asarray(flat, dtype=np.int64)
        lengths_arr = np.asarray(lengths, dtype=np.int64)
        # Pair every word with each later word of its message: word p of a message ending at
        # `end` has end - p - 1 partners, at positions p + 1 .. end - 1.
        position = np.arange(len(words))
        partners = np.repeat(np.cumsum(lengths_arr), lengths_arr) - position - 1
        left = np.repeat(position, partners)
        first_pair = np.cumsum(partners) - partners
        right = np.arange(len(left)) - np.repeat(first_pair, partners) + left + 1
        keys = words[left] * self._n_pair_words + words[right]
        at = np.searchsorted(self._pair_keys, keys)
        at[at == len(self._pair_keys)] = 0
        hit = self._pair_keys[at] == keys
        rows = np.repeat(np.repeat(np.arange(len(cleaned)), lengths_arr), partners)[hit]
        return rows, self._pair_key_terms[at[hit]]

    def _char_ids(self, word: str) -> list[int]:
        ids = self._word_cache.get(word)
        if ids is None:
            vocab = self.vocab
            ids = [vocab[g] for g in self._analyzer(word) if g in vocab]
            if len(self._word_cache) >= self._CACHE_LIMIT:
                self._word_cache.clear()
            self._word_cache[word] = ids
        return ids

    def _doc_ids(self, doc: str) -> list[int]:
        if self.name == "char":
            ids: list[int] = []
            for word in doc.split():
                ids.extend(self._char_ids(word))
            return ids
        vocab = self.vocab
        if self.name == "pairs":
            grams = _pairs(doc, self.params.pair_prefix, self.params.pair_max_words)
        else:
            grams = self._analyzer(doc)
        return [vocab[g] for g in grams if g in vocab]

    def terms(self, doc: str) -> tuple[np.ndarray, np.ndarray]:
        """Term ids and TF-IDF values of one cleaned message: the non-zeros of its row in
        :meth:`transform` (up to float32 rounding), computed without a sparse matrix."""
        counts = Counter(self._doc_ids(doc))
        ids = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        values = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        if self.sublinear:
            np.log(values, out=values)
            values += np.float32(1.0)
        values *= self.idf[ids]
        norm = math.sqrt(float(np.dot(values, values)))
        if norm:
            values /= np.float32(norm)
        return ids, values

    def transform(self, cleaned: Sequence[str]) -> sp.csr_matrix:
        n = len(cleaned)
        if self.name == "pairs":
            rows, ids = self._pair_entries(cleaned)
        else:
            flat: list[int] = []
            lengths = []
            for doc in cleaned:
                doc_ids = self._doc_ids(doc)
                flat.extend(doc_ids)
                lengths.append(len(doc_ids))
            rows = np.repeat(np.arange(n, dtype=np.int32), lengths)
            ids = np.asarray(flat, dtype=np.int32)
        ones = np.ones(len(ids), dtype=np.float32)
        # COO -> CSR sums the repeated (row, term) entries into term counts.
        X = sp.csr_matrix((ones, (rows, ids)), shape=(n, self.size))
        X.sum_duplicates()
        if self.sublinear:
            np.log(X.data, out=X.data)
            X.data += np.float32(1.0)
        X.data *= self.idf[X.indices]
        row_of = np.repeat(np.arange(n), np.diff(X.indptr))
        norms = np.sqrt(np.bincount(row_of, weights=X.data * X.data, minlength=n))
        norms[norms == 0] = 1.0
        X.data /= norms[row_of].astype(np.float32)
        return X


def _pair_candidates(text: str, prefix: int, max_words: int) -> list[str]:
    """The first ``max_words`` distinct (prefix-cut) words of a cleaned message: the words
    that are paired."""
    seen: dict[str, None] = {}
    for token in _TOKEN.findall(text):
        seen.setdefault(token[:prefix] if prefix else token, None)
        if len(seen) >= max_words:
            break
    return list(seen)


def _pairs(text: str, prefix: int, max_words: int) -> list[str]:
    """Unordered pairs ``a|b`` of the distinct (prefix-cut) words of a cleaned message."""
    words = sorted(_pair_candidates(text, prefix, max_words))
    return [f"{a}|{b}" for i, a in enumerate(words) for b in words[i + 1 :]]


class _Model:
    """The fitted model as plain data: per block the vocabulary and IDF weights, the name and
    fingerprint of the word vectors (if any), and the linear layer. It is rebuilt from
    :meth:`state` both after training and after loading an artifact, so a model predicts
    bit-for-bit the same before and after a round trip. The weights are stored as float16
    (half the artifact size; no measurable accuracy change)."""

    def __init__(self, state: dict, params: TrainingParams) -> None:
        self._state = state
        self.params = params
        self.classes: list[str] = list(state["classes"])
        coef_t = np.asarray(state["coef"], dtype=np.float32).T
        weights = _weights(params)
        self.blocks: list[tuple[_Block, np.ndarray]] = []
        offset = 0
        for name, block in state["blocks"].items():
            terms = block["terms"].split("\n") if block["terms"] else []
            if not terms:
                continue
            fb = _Block(name, terms, block["idf"], params)
            # Fold the block weight into its slice of the weights: (w * x) @ W == x @ (w * W).
            w_block = np.ascontiguousarray(coef_t[offset : offset + len(terms)] * weights[name])
            self.blocks.append((fb, w_block))
            offset += len(terms)
        self.vectors: word_vectors.WordVectors | None = None
        if "vectors" in state:
            self.vectors = _installed_vectors(state["vectors"])
            self.w_vectors = np.ascontiguousarray(
                coef_t[offset : offset + self.vectors.dim] * params.vector_weight
            )
        self.intercept = np.asarray(state["intercept"], dtype=np.float32)

    @classmethod
    def from_fit(
        cls,
        vecs: dict,
        svm: LinearSVC,
        params: TrainingParams,
        vectors: word_vectors.WordVectors | None = None,
    ) -> _Model:
        blocks = {}
        for name, vec in vecs.items():
            if vec is None:
                blocks[name] = {"terms": "", "idf": np.zeros(0, dtype=np.float32)}
                continue
            vocab = vec.vocabulary_
            terms = sorted(vocab, key=vocab.__getitem__)
            blocks[name] = {
                "terms": "\n".join(terms),
                "idf": np.asarray(vec.idf_, dtype=np.float32),
            }
        coef = np.asarray(svm.coef_, dtype=np.float16)
        intercept = np.asarray(svm.intercept_, dtype=np.float32)
        classes = [str(c) for c in svm.classes_]
        if coef.shape[0] == 1:  # binary LinearSVC: one row, positive = classes[1]
            coef = np.vstack([-coef, coef])
            intercept = np.concatenate([-intercept, intercept])
        state = {"blocks": blocks, "coef": coef, "intercept": intercept, "classes": classes}
        if vectors is not None:
            state["vectors"] = {"name": vectors.name, "sha256": vectors.sha256}
        return cls(state, params)

    def state(self) -> dict:
        return self._state

    def features(self, cleaned: Sequence[str]) -> sp.csr_matrix:
        """The (unweighted) feature matrix; used by tests to compare with scikit-learn."""
        return sp.hstack([b.transform(cleaned) for b, _ in self.blocks], format="csr")

    def scores(self, cleaned: Sequence[str]) -> np.ndarray:
        out = np.tile(self.intercept, (len(cleaned), 1))
        if len(cleaned) <= _ONE_BY_ONE_MAX:
            for row, doc in zip(out, cleaned, strict=True):
                for block, weights in self.blocks:
                    ids, values = block.terms(doc)
                    row += values @ weights[ids]
        else:
            for block, weights in self.blocks:
                out += block.transform(cleaned) @ weights
        if self.vectors is not None:
            out += self.vectors.embed(cleaned) @ self.w_vectors
        return out.astype(np.float64)


def _installed_vectors(recorded: dict) -> word_vectors.WordVectors:
    """The installed word vectors, if they are the ones a model was trained with."""
    vectors = word_vectors.load(recorded["name"])
    if not hmac.compare_digest(vectors.sha256, recorded["sha256"]):
        raise word_vectors.WordVectorsUnavailable(
            f"The model was trained with other {recorded['name']!r} word vectors than the "
            "installed ones (a different wordllama release?); retrain it."
        )
    return vectors


def _vector_block(params: TrainingParams, cleaned: Sequence[str]) -> np.ndarray | None:
    if params.word_vectors is None:
        return None
    return word_vectors.load(params.word_vectors).embed(cleaned)


def _fit_components(
    cleaned: Sequence[str],
    labels: np.ndarray,
    params: TrainingParams,
    seed: int,
    on_fitting: Callable[[], None] | None = None,
    dense: np.ndarray | None = None,
) -> _Model:
    """Fit the vectorisers and the SVM. ``dense`` is the word-vector block of ``cleaned``
    (see :func:`_vector_block`), computed once by the caller for every fold."""
    vecs = _make_vectorizers(params, n_docs=len(cleaned))
    X = _transform(vecs, cleaned, params, fit=True)
    vectors = None
    if params.word_vectors is not None:
        vectors = word_vectors.load(params.word_vectors)
        dense = vectors.embed(cleaned) if dense is None else dense
        X = sp.hstack([X, sp.csr_matrix(dense * np.float32(params.vector_weight))], format="csr")
    if on_fitting is not None:
        on_fitting()
    svm = LinearSVC(C=params.C, class_weight=params.class_weight, random_state=seed, max_iter=3000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        svm.fit(X, labels)
    return _Model.from_fit(vecs, svm, params, vectors)


def _softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _fit_temperature(scores: np.ndarray, y_idx: np.ndarray, pseudo_examples: float = 2.0) -> float:
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


# ---------------------------------------------------------------------- classifier
class IntentClassifier:
    """A trained intent model and its metadata. Create it with :func:`train` or
    :func:`deserialize`; it is immutable in use and safe to share between threads."""

    def __init__(
        self,
        *,
        model: _Model,
        temperature: float,
        threshold: float,
        params: TrainingParams,
        n_train: int,
        data_hash: str,
    ) -> None:
        self._model = model
        self.labels: list[str] = list(model.classes)
        self.temperature = float(temperature)
        self.threshold = float(threshold)
        self.params = params
        self.n_train = int(n_train)
        self.data_hash = data_hash

    def params_dict(self) -> dict:
        """The training parameters as a JSON-serialisable dict."""
        return self.params.to_dict()

    def __repr__(self) -> str:
        return (
            f"IntentClassifier({len(self.labels)} intents, threshold={self.threshold:.3f}, "
            f"n_train={self.n_train})"
        )

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, one row per text, columns in ``self.labels`` order."""
        if isinstance(texts, str):
            raise TypeError("predict_proba() takes a sequence of texts, not a single string")
        cleaned = [clean_text(t or "") for t in texts]
        if not cleaned:
            return np.zeros((0, len(self.labels)))
        return _softmax(self._model.scores(cleaned), self.temperature)

    def predict(self, texts: Sequence[str], top_k: int = 3) -> list[IntentPrediction]:
        """Predict a batch of raw messages (each goes through ``clean_text``)."""
        proba = self.predict_proba(texts)
        return [self._prediction(row, top_k) for row in proba]

    def predict_one(self, text: str, top_k: int = 3) -> IntentPrediction:
        return self.predict([text], top_k=top_k)[0]

    def _prediction(self, row: np.ndarray, top_k: int) -> IntentPrediction:
        k = max(1, min(int(top_k), len(self.labels)))
        order = np.argsort(-row, kind="stable")[:k]
        top = [(self.labels[i], float(row[i])) for i in order]
        confidence = top[0][1]
        abstained = confidence < self.threshold
        return IntentPrediction(
            intent=None if abstained else top[0][0],
            confidence=confidence,
            top=top,
            abstained=abstained,
        )


@dataclass(frozen=True)
class TrainingResult:
    classifier: IntentClassifier
    metrics: dict = field(default_factory=dict)


# -------------------------------------------------------------------------- checks
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


# ------------------------------------------------------------------------- metrics
def _choose_threshold(confidence: np.ndarray, correct: np.ndarray, params: TrainingParams) -> float:
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


def _ece(confidence: np.ndarray, correct: np.ndarray, bins: int = _ECE_BINS) -> float:
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


def _metrics(
    y_true: Sequence[str],
    proba: np.ndarray,
    labels: list[str],
    threshold: float,
    *,
    n_train: int,
    oos_label: str | None = None,
) -> dict:
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
        per_intent[label] = {
            "precision": round(precision, 6),
            "recall": round(recall, 6),
            "f1": round(f1, 6),
            "support": support,
        }
        if support:
            f1s.append(f1)
    accuracy = float(correct.sum() / n_in) if n_in else 0.0
    conf_in = confidence[in_scope]
    correct_in = correct[in_scope]
    n_answered = int(answered.sum())
    metrics = {
        "accuracy": round(accuracy, 6),
        "macro_f1": round(float(np.mean(f1s)) if f1s else 0.0, 6),
        "per_intent": per_intent,
        "confusion_matrix": {"labels": eval_labels, "matrix": cm.tolist()},
        "calibration_error": round(_ece(conf_in, correct_in.astype(float)), 6),
        "threshold": round(float(threshold), 6),
        "coverage": round(n_answered / n, 6) if n else 0.0,
        "precision_at_threshold": round(float((correct & answered).sum() / n_answered), 6)
        if n_answered
        else 0.0,
        "n_train": int(n_train),
        "n_test": int(n),
        "n_labels": len(labels),
    }
    if oos_label is not None:
        oos = ~in_scope
        abstained = ~answered
        n_oos = int(oos.sum())
        n_abst = int(abstained.sum())
        metrics.update(
            {
                "in_scope_accuracy": round(float((correct & answered).sum() / n_in), 6)
                if n_in
                else 0.0,
                "oos_recall": round(float((oos & abstained).sum() / n_oos), 6) if n_oos else 0.0,
                "oos_precision": round(float((oos & abstained).sum() / n_abst), 6)
                if n_abst
                else 0.0,
                "n_oos": n_oos,
            }
        )
    return metrics


def evaluate(
    classifier: IntentClassifier,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    oos_label: str | None = None,
) -> dict:
    """Evaluate ``classifier`` on labelled texts; returns a JSON-serialisable dict.

    ``accuracy``, ``macro_f1``, ``per_intent``, ``confusion_matrix`` and ``calibration_error``
    judge the top intent (threshold ignored) over in-scope messages; ``coverage`` and
    ``precision_at_threshold`` judge the answers given at the classifier's threshold (an
    out-of-scope message that is answered counts as a wrong answer). With ``oos_label``,
    messages carrying that label are out of scope: ``in_scope_accuracy`` counts an abstention
    on an in-scope message as wrong, ``oos_recall`` is the share of out-of-scope messages
    abstained on and ``oos_precision`` the share of abstentions that were out of scope.
    """
    texts, labels = list(texts), list(labels)
    if len(texts) != len(labels):
        raise ValueError(f"Got {len(texts)} texts but {len(labels)} labels.")
    proba = classifier.predict_proba(texts)
    return _metrics(
        labels,
        proba,
        classifier.labels,
        classifier.threshold,
        n_train=classifier.n_train,
        oos_label=oos_label,
    )


# ------------------------------------------------------------------------ training
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


def _cross_fitted_proba(
    scores: np.ndarray, y_idx: np.ndarray, groups: np.ndarray, pseudo_examples: float
) -> np.ndarray:
    """Probabilities where each example's temperature was fitted on the *other* groups."""
    proba = np.empty_like(scores)
    for g in np.unique(groups):
        mask = groups == g
        t = _fit_temperature(scores[~mask], y_idx[~mask], pseudo_examples) if (~mask).any() else 1.0
        proba[mask] = _softmax(scores[mask], t)
    return proba


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    params: TrainingParams = TrainingParams(),
    seed: int = 0,
    progress: Callable[[float, str], None] | None = None,
) -> TrainingResult:
    """Train an intent classifier; deterministic for a given ``seed``.

    See the module docstring for the protocol and the abstain rule. ``progress`` (optional)
    is called with a fraction in [0, 1] and a short phrase ("vectorising", "fitting",
    "calibrating", "evaluating", …). Raises :class:`TrainingDataError` when the data cannot
    train a model.
    """

    def report(fraction: float, phrase: str) -> None:
        if progress is not None:
            progress(float(min(1.0, max(0.0, fraction))), phrase)

    texts, labels = _validate(texts, labels, params.min_examples_per_intent)
    report(0.0, "cleaning")
    cleaned = [clean_text(t) for t in texts]
    dense = _vector_block(params, cleaned)
    y = np.asarray(labels, dtype=object)
    classes = sorted(set(labels))
    class_pos = {c: i for i, c in enumerate(classes)}
    y_idx = np.array([class_pos[label] for label in labels])

    splits = _splits(y_idx, params, seed)
    n_splits = len(splits)
    scores = np.zeros((len(labels), len(classes)))
    scored = np.zeros(len(labels), dtype=bool)
    groups = np.full(len(labels), -1)
    # Progress: each out-of-sample fit costs ~0.8 of the final fit on all data; vectorising
    # is ~1/4 of a fit. The fractions below split 0.02..0.97 in that proportion.
    unit = 0.95 / (0.8 * n_splits + 1.0)
    for s, (tr, te) in enumerate(splits):
        base = 0.02 + 0.8 * unit * s
        report(base, "vectorising")
        model = _fit_components(
            [cleaned[i] for i in tr],
            y[tr],
            params,
            seed,
            on_fitting=lambda base=base: report(base + 0.2 * unit, "fitting"),
            dense=None if dense is None else dense[tr],
        )
        s_te = model.scores([cleaned[i] for i in te])
        # model.classes is sorted like `classes`; an intent absent from this training part
        # (possible only with very few examples) gets a score below every other one.
        cols = [class_pos[c] for c in model.classes]
        if len(cols) < len(classes):
            block = np.full((len(te), len(classes)), s_te.min() - 1.0)
            block[:, cols] = s_te
            s_te = block
        scores[te] = s_te
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
    temperature = _fit_temperature(s_oof, y_oof, params.calibration_pseudo_examples)
    proba_oof = _cross_fitted_proba(s_oof, y_oof, g_oof, params.calibration_pseudo_examples)

    report(final_start, "evaluating")
    conf = proba_oof.max(axis=1)
    correct = (proba_oof.argmax(axis=1) == y_oof).astype(float)
    threshold = _choose_threshold(conf, correct, params)
    n_fit = len(splits[0][0])
    metrics = _metrics(y[scored], proba_oof, classes, threshold, n_train=n_fit)
    metrics["protocol"] = (
        f"{n_splits}-fold cross-validation"
        if n_splits > 1
        else f"stratified hold-out of {int(scored.sum())} examples"
    )
    metrics["temperature"] = round(temperature, 6)

    report(final_start, "vectorising all examples")
    final_model = _fit_components(
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
    return TrainingResult(classifier=classifier, metrics=metrics)


# ----------------------------------------------------------------------- artifacts
def library_versions() -> dict:
    """Versions of the libraries a model artifact depends on."""
    from importlib.metadata import PackageNotFoundError, version

    import skops

    versions = {
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "skops": skops.__version__,
    }
    for package in ("wordllama", "tokenizers"):  # the word vectors and their tokenizer
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    return versions


#: The only types a model payload may contain: it is plain data (dicts, lists, strings and
#: numpy arrays), no estimator objects. Anything skops reports as untrusted beyond this list
#: is refused, so a crafted artifact cannot make :func:`deserialize` import or call code.
_TRUSTED_TYPES = frozenset(
    {
        "numpy.ndarray",
        "numpy.dtype",
        "numpy.float16",
        "numpy.float32",
        "builtins.dict",
        "builtins.list",
        "builtins.str",
    }
)


def _check_state(state: object, params: TrainingParams) -> None:
    """Raise ValueError unless ``state`` has exactly the shape :class:`_Model` writes (or
    :class:`~intents.word_vectors.WordVectorsUnavailable` if its word vectors cannot load)."""
    keys = {"blocks", "coef", "intercept", "classes"}
    if not isinstance(state, dict) or set(state) - {"vectors"} != keys:
        raise ValueError("bad state keys")
    blocks, coef, intercept, classes = (
        state["blocks"],
        state["coef"],
        state["intercept"],
        state["classes"],
    )
    expected = set(_make_vectorizers(params))
    if not isinstance(blocks, dict) or set(blocks) != expected:
        raise ValueError("bad blocks")
    n_features = 0
    for block in blocks.values():
        if not isinstance(block, dict) or not isinstance(block.get("terms"), str):
            raise ValueError("bad block")
        idf = block.get("idf")
        n_terms = len(block["terms"].split("\n")) if block["terms"] else 0
        if not isinstance(idf, np.ndarray) or idf.shape != (n_terms,):
            raise ValueError("bad idf")
        n_features += n_terms
    recorded = state.get("vectors")
    if (recorded is None) != (params.word_vectors is None):
        raise ValueError("word vectors do not match the params")
    if recorded is not None:
        if set(recorded) != {"name", "sha256"} or recorded["name"] != params.word_vectors:
            raise ValueError("bad vectors")
        n_features += word_vectors.load(params.word_vectors).dim
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise ValueError("bad classes")
    if not isinstance(coef, np.ndarray) or coef.shape != (len(classes), n_features):
        raise ValueError("bad coef")
    if not isinstance(intercept, np.ndarray) or intercept.shape != (len(classes),):
        raise ValueError("bad intercept")


def serialize(classifier: IntentClassifier) -> tuple[bytes, str]:
    """Serialise a classifier to safe artifact bytes; returns ``(bytes, sha256 hex)``."""
    import skops.io as sio

    header = {
        "format": "intent-classifier",
        "format_version": FORMAT_VERSION,
        "labels": classifier.labels,
        "threshold": classifier.threshold,
        "temperature": classifier.temperature,
        "params": classifier.params.to_dict(),
        "n_train": classifier.n_train,
        "data_hash": classifier.data_hash,
        "library_versions": library_versions(),
    }
    payload = sio.dumps(classifier._model.state(), compression=8)  # 8 = ZIP_DEFLATED
    header_bytes = json.dumps(header, sort_keys=True, ensure_ascii=True).encode("ascii")
    data = _MAGIC + header_bytes + b"\n" + payload
    return data, hashlib.sha256(data).hexdigest()


def read_header(data: bytes) -> dict:
    """The JSON header of an artifact (no checksum check, no model loading): for display."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ArtifactError("The model artifact must be bytes.")
    data = bytes(data)
    if not data.startswith(_MAGIC):
        raise ArtifactError("This is not an intent-classifier artifact (unknown file signature).")
    end = data.find(b"\n", len(_MAGIC))
    if end < 0:
        raise ArtifactError("The model artifact is truncated: its header never ends.")
    try:
        header = json.loads(data[len(_MAGIC) : end].decode("ascii"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ArtifactError(f"The model artifact header is not valid JSON ({exc}).") from None
    if not isinstance(header, dict):
        raise ArtifactError("The model artifact header is not a JSON object.")
    return header


def deserialize(data: bytes, *, sha256: str) -> IntentClassifier:
    """Load a classifier from :func:`serialize` output.

    The SHA-256 of ``data`` is checked against ``sha256`` *first*; only then is the header
    parsed and the payload loaded with skops, trusting only the types the model needs.
    Raises :class:`ArtifactError` with a sentence saying what is wrong.
    """
    import skops.io as sio

    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ArtifactError("The model artifact must be bytes.")
    data = bytes(data)
    actual = hashlib.sha256(data).hexdigest()
    if not isinstance(sha256, str) or not hmac.compare_digest(actual, sha256.strip().lower()):
        raise ArtifactError(
            f"The model artifact's SHA-256 is {actual[:12]}…, not the expected "
            f"{str(sha256)[:12]}…: the file is corrupt or was modified, so it was not loaded."
        )
    header = read_header(data)
    version = header.get("format_version")
    if header.get("format") != "intent-classifier" or version not in _READABLE_VERSIONS:
        raise ArtifactError(
            f"Unknown model artifact format version {version!r}; this code reads versions "
            f"{', '.join(map(str, _READABLE_VERSIONS))}. Retrain the model."
        )
    payload = data[data.index(b"\n", len(_MAGIC)) + 1 :]
    try:
        untrusted = sio.get_untrusted_types(data=payload)
    except Exception as exc:  # garbage that is not a skops archive
        raise ArtifactError(f"The model payload cannot be read ({type(exc).__name__}).") from None
    unexpected = sorted(set(untrusted) - _TRUSTED_TYPES)
    if unexpected:
        raise ArtifactError(
            "The model payload contains types this code does not trust: "
            + ", ".join(unexpected[:5])
            + "; it was not loaded."
        )
    try:
        obj = sio.loads(payload, trusted=sorted(untrusted))
    except Exception as exc:
        raise ArtifactError(
            f"The model payload cannot be loaded ({type(exc).__name__}: {exc})."
        ) from None
    try:
        # Artifacts written before word vectors existed have no such parameter: lexical only.
        params = TrainingParams.from_dict({"word_vectors": None, **header["params"]})
        threshold = float(header["threshold"])
        temperature = float(header["temperature"])
        _check_state(obj, params)
        model = _Model(obj, params)
        ok = model.classes == header.get("labels") and temperature > 0
    except word_vectors.WordVectorsUnavailable as exc:
        raise ArtifactError(f"The model cannot be loaded: {exc}") from None
    except Exception:
        ok = False
    if not ok:
        raise ArtifactError(
            "The model artifact is inconsistent: its header does not match its model."
        )
    return IntentClassifier(
        model=model,
        temperature=temperature,
        threshold=threshold,
        params=params,
        n_train=int(header.get("n_train", 0)),
        data_hash=str(header.get("data_hash", "")),
    )
