"""Behaviour of the pure scikit-learn training core (intents.training and the modules it uses).

Everything runs on small synthetic data generated here: no database, no public dataset.
"""

import dataclasses
import json
import random

import numpy as np
import pytest

from intents import artifacts, features
from intents.artifacts import ArtifactError, deserialize, serialize
from intents.calibration import choose_threshold
from intents.classifier import IntentClassifier, IntentPrediction
from intents.metrics import TrainingMetrics, compute_metrics, evaluate
from intents.params import MIN_EXAMPLES_PER_INTENT, TrainingParams
from intents.training import TrainingDataError, train, training_data_hash

_TEMPLATES = {
    "track_order": [
        "where is my order {n}",
        "has my package {n} shipped yet",
        "tracking for order {n} has not moved",
        "when will parcel {n} arrive",
        "what is the delivery status of {n}",
        "my order {n} still has not arrived",
        "can you track shipment {n} for me",
    ],
    "get_refund": [
        "i want my money back for order {n}",
        "please refund order {n}",
        "can i get a refund for {n}",
        "refund me for the purchase {n}",
        "i would like to be reimbursed for {n}",
        "how long does my refund for {n} take",
        "give me a refund, the item {n} was broken",
    ],
    "cancel_order": [
        "cancel order {n} please",
        "i need to cancel my purchase {n}",
        "please stop order {n} before it ships",
        "how do i cancel order {n}",
        "i changed my mind, cancel {n}",
        "do not send order {n}, cancel it",
        "cancellation of order {n} please",
    ],
    "change_address": [
        "change the shipping address on order {n}",
        "i moved, update the address for {n}",
        "wrong address on order {n}, please fix it",
        "send order {n} to my new address",
        "update the delivery address of {n}",
        "the street on order {n} is wrong, correct the address",
        "new address for my order {n}",
    ],
}
INTENTS = sorted(_TEMPLATES)
OUT_OF_SCOPE = [
    "qwzx vbnm plok",
    "what is the weather like on mars",
    "tell me a joke about penguins",
    "zzzz kkkk",
]


def make_data(per_intent=20, seed=0):
    rng = random.Random(seed)
    texts, labels = [], []
    for intent in INTENTS:
        templates = _TEMPLATES[intent]
        for i in range(per_intent):
            texts.append(templates[i % len(templates)].format(n=rng.randint(1000, 99999)))
            labels.append(intent)
    return texts, labels


@pytest.fixture(scope="module")
def data():
    return make_data()


@pytest.fixture(scope="module")
def result(data):
    return train(*data, seed=0)


@pytest.fixture(scope="module")
def classifier(result):
    return result.classifier


# ------------------------------------------------------------------ train / predict
def test_train_returns_classifier_and_metrics(result, data):
    clf = result.classifier
    assert isinstance(clf, IntentClassifier)
    assert clf.labels == INTENTS
    assert 0.0 <= clf.threshold <= 1.0
    assert clf.params == TrainingParams()
    assert clf.n_train == len(data[0])
    assert isinstance(result.metrics, TrainingMetrics)
    m = result.metrics.to_dict()
    json.dumps(m)  # plain JSON types only
    for key in (
        "accuracy",
        "macro_f1",
        "per_intent",
        "confusion_matrix",
        "calibration_error",
        "threshold",
        "coverage",
        "precision_at_threshold",
        "n_train",
        "n_test",
        "n_labels",
    ):
        assert key in m
    assert m["n_labels"] == 4
    assert m["n_test"] == len(data[0])  # 5-fold cross-validation scores every example
    assert m["threshold"] == pytest.approx(clf.threshold, abs=1e-6)
    assert set(m["per_intent"]) == set(INTENTS)
    matrix = np.array(m["confusion_matrix"]["matrix"])
    assert m["confusion_matrix"]["labels"] == INTENTS
    assert matrix.shape == (4, 4) and matrix.sum() == m["n_test"]
    for key in ("accuracy", "macro_f1", "calibration_error", "coverage", "precision_at_threshold"):
        assert 0.0 <= m[key] <= 1.0
    assert m["accuracy"] > 0.8  # four clearly separable intents


def test_predict_contract(classifier):
    texts = [
        "where is my parcel 55512, it never arrived",
        "i want a refund please",
        "please cancel my order",
        "i moved house, change my address",
    ]
    preds = classifier.predict(texts)
    assert len(preds) == len(texts)
    for pred in preds:
        assert isinstance(pred, IntentPrediction)
        assert len(pred.top) == 3
        probs = [p for _, p in pred.top]
        assert probs == sorted(probs, reverse=True)
        assert all(0.0 <= p <= 1.0 for p in probs)
        assert pred.confidence == probs[0]
        assert pred.abstained == (pred.confidence < classifier.threshold)
        assert pred.intent == (None if pred.abstained else pred.top[0][0])
    # The clear messages land on their intent (top-1).
    assert [p.top[0][0] for p in preds] == [
        "track_order",
        "get_refund",
        "cancel_order",
        "change_address",
    ]
    proba = classifier.predict_proba(texts)
    assert proba.shape == (4, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


def test_predict_one_matches_batch_and_top_k(classifier):
    text = "can I get my money back for order 1234"
    single = classifier.predict_one(text)
    assert single == classifier.predict([text])[0]
    assert len(classifier.predict_one(text, top_k=1).top) == 1
    assert len(classifier.predict_one(text, top_k=10).top) == 4  # capped at the label count
    assert classifier.predict([]) == []


def test_a_large_batch_predicts_what_each_message_does_alone(classifier):
    """Live messages are scored one by one, imports as sparse batches: the same numbers."""
    texts = [f"where is order {n}, I want a refund" if n % 2 else "cancel" for n in range(40)]
    texts += ["", "new address for order 7", "¿Dónde está mi pedido?"]
    batch = classifier.predict_proba(texts)
    alone = np.vstack([classifier.predict_proba([t]) for t in texts])
    np.testing.assert_allclose(batch, alone, atol=1e-5)


def test_raw_messages_are_cleaned_before_prediction(classifier):
    plain = classifier.predict_one("please cancel my order")
    noisy = classifier.predict_one(
        "Please cancel my order\n\nSent from my iPhone\n\n"
        "On Mon, 1 Jan 2024, Shop <a@b.com> wrote:\n> your refund is on its way"
    )
    assert noisy.top[0][0] == plain.top[0][0] == "cancel_order"
    assert noisy.confidence == pytest.approx(plain.confidence)


def test_foreign_and_paraphrased_messages_reach_english_intents(classifier):
    # The training examples are English only; the glossary and synonym lexicon in
    # clean_text carry these messages onto the English examples' words.
    cases = {
        "Hallo,\nich möchte meine Bestellung 5512 stornieren.\nViele Grüße\nAnna": "cancel_order",
        "Hola, ¿dónde está mi pedido 5512?": "track_order",
        "Bonjour, je veux un remboursement pour la commande 5512": "get_refund",
        "Please reimburse me for 5512, the item arrived broken": "get_refund",
    }
    for text, intent in cases.items():
        assert classifier.predict_one(text).top[0][0] == intent, text


def test_greeting_does_not_change_the_prediction(classifier):
    plain = classifier.predict_one("where is my order 5512?")
    greeted = classifier.predict_one("Hi there,\n\nwhere is my order 5512?")
    assert greeted.top == plain.top


def test_training_is_deterministic_for_a_seed(data, result):
    again = train(*data, seed=0)
    texts = ["where is my order", "refund", "asdf", "cancel and refund"]
    np.testing.assert_array_equal(
        result.classifier.predict_proba(texts), again.classifier.predict_proba(texts)
    )
    assert again.metrics == result.metrics
    assert again.classifier.threshold == result.classifier.threshold


def test_progress_is_reported(data):
    calls = []
    train(*data, progress=lambda fraction, phrase: calls.append((fraction, phrase)))
    fractions = [f for f, _ in calls]
    phrases = {p for _, p in calls}
    assert fractions == sorted(fractions)
    assert all(0.0 <= f <= 1.0 for f in fractions)
    assert fractions[-1] == 1.0
    assert {"vectorising", "fitting", "calibrating", "evaluating"} <= phrases


def test_holdout_protocol_for_larger_data(data):
    params = TrainingParams(cv_max_examples=10, holdout_fraction=0.25)
    res = train(*data, params=params)
    assert res.metrics.n_test == 20
    assert "hold-out" in res.metrics.protocol


# ------------------------------------------------------------------------- abstain
def test_abstains_on_out_of_scope_with_a_high_threshold(data):
    strict = train(*data, params=TrainingParams(min_threshold=0.99)).classifier
    assert strict.threshold >= 0.99
    for pred in strict.predict(OUT_OF_SCOPE):
        assert pred.abstained and pred.intent is None
        assert pred.top  # the guesses are still shown


def test_out_of_scope_is_less_confident_than_in_scope(classifier):
    oos = [p.confidence for p in classifier.predict(OUT_OF_SCOPE)]
    ins = [p.confidence for p in classifier.predict(["where is my order", "please refund me"])]
    assert max(oos) < min(ins)


def test_threshold_rule_picks_lowest_threshold_reaching_precision():
    conf = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1])
    correct = np.array([1, 1, 1, 1, 1, 1, 0, 1, 0, 0], dtype=float)
    params = TrainingParams(target_precision=0.85, min_coverage=0.0, min_threshold=0.0)
    # Answering the top 8 gives 7/8 = 0.875 >= 0.85; top 9 gives 7/9 < 0.85.
    assert choose_threshold(conf, correct, params) == pytest.approx(0.3)
    floor = TrainingParams(target_precision=0.85, min_coverage=0.0, min_threshold=0.5)
    assert choose_threshold(conf, correct, floor) == pytest.approx(0.5)
    everything = TrainingParams(target_precision=0.5, min_coverage=0.0, min_threshold=0.0)
    assert choose_threshold(conf, correct, everything) == 0.0
    # Unreachable target: answer the coverage floor (the 6 most confident).
    covered = TrainingParams(target_precision=1.0, min_coverage=0.6, min_threshold=0.0)
    assert choose_threshold(conf, 1 - correct, covered) == pytest.approx(0.5)


# ------------------------------------------------------------------------ evaluate
def test_evaluate_with_oos_label(classifier):
    texts = ["where is my order 42", "please refund my order", *OUT_OF_SCOPE]
    labels = ["track_order", "get_refund"] + ["oos"] * len(OUT_OF_SCOPE)
    m = evaluate(classifier, texts, labels, oos_label="oos").to_dict()
    json.dumps(m)
    assert m["n_test"] == len(texts)
    for key in ("in_scope_accuracy", "oos_recall", "oos_precision"):
        assert 0.0 <= m[key] <= 1.0
    assert "oos" not in m["confusion_matrix"]["labels"]
    assert np.array(m["confusion_matrix"]["matrix"]).sum() == 2  # in-scope messages only


def test_metric_definitions_on_known_probabilities():
    labels = ["a", "b"]
    proba = np.array(
        [
            [0.9, 0.1],  # a, answered, right
            [0.2, 0.8],  # a, answered, wrong
            [0.55, 0.45],  # b, abstained (argmax wrong)
            [0.3, 0.7],  # b, answered, right
            [0.52, 0.48],  # oos, abstained
            [0.95, 0.05],  # oos, answered
        ]
    )
    y = ["a", "a", "b", "b", "oos", "oos"]
    m = compute_metrics(y, proba, labels, 0.6, n_train=10, oos_label="oos").to_dict()
    assert m["accuracy"] == pytest.approx(2 / 4)  # argmax over in-scope
    assert m["coverage"] == pytest.approx(4 / 6)
    assert m["precision_at_threshold"] == pytest.approx(2 / 4)  # answered oos counts wrong
    assert m["in_scope_accuracy"] == pytest.approx(2 / 4)
    assert m["oos_recall"] == pytest.approx(1 / 2)
    assert m["oos_precision"] == pytest.approx(1 / 2)
    assert m["per_intent"]["a"] == {
        "precision": pytest.approx(1 / 2),
        "recall": 0.5,
        "f1": pytest.approx(0.5),
        "support": 2,
    }
    assert m["confusion_matrix"] == {"labels": ["a", "b"], "matrix": [[1, 1], [1, 1]]}
    assert m["n_train"] == 10 and m["n_test"] == 6 and m["n_labels"] == 2


def test_calibration_error_is_zero_when_confidence_matches_accuracy():
    proba = np.array([[0.75, 0.25]] * 4)
    m = compute_metrics(["a", "a", "a", "b"], proba, ["a", "b"], 0.0, n_train=4)
    assert m.calibration_error == pytest.approx(0.0)
    m = compute_metrics(["b", "b", "b", "b"], proba, ["a", "b"], 0.0, n_train=4)
    assert m.calibration_error == pytest.approx(0.75)


# ----------------------------------------------------------------------- artifacts
def test_serialize_round_trip_predicts_identically(classifier):
    data, sha = serialize(classifier)
    assert isinstance(data, bytes) and len(sha) == 64
    loaded = deserialize(data, sha256=sha)
    assert loaded.labels == classifier.labels
    assert loaded.threshold == classifier.threshold
    assert loaded.params == classifier.params
    texts = ["where is my order", "refund now", "qwzx", "cancel it", "new address"]
    np.testing.assert_array_equal(loaded.predict_proba(texts), classifier.predict_proba(texts))
    assert loaded.predict(texts) == classifier.predict(texts)
    header = artifacts.read_header(data)
    assert header["format_version"] == artifacts.FORMAT_VERSION
    assert set(header["library_versions"]) == set(artifacts.library_versions())


def test_checksum_mismatch_is_refused(classifier):
    data, sha = serialize(classifier)
    tampered = bytearray(data)
    tampered[-100] ^= 0xFF
    with pytest.raises(ArtifactError, match="SHA-256"):
        deserialize(bytes(tampered), sha256=sha)
    with pytest.raises(ArtifactError, match="SHA-256"):
        deserialize(data, sha256="0" * 64)


@pytest.mark.parametrize(
    "garbage",
    [b"", b"not a model at all", artifacts.MAGIC + b'{"format_version": 1}\nPK-garbage'],
)
def test_garbage_bytes_are_refused(garbage):
    import hashlib

    with pytest.raises(ArtifactError):
        deserialize(garbage, sha256=hashlib.sha256(garbage).hexdigest())


def _with_header(data: bytes, **changes) -> bytes:
    header = artifacts.read_header(data)
    header.update(changes)
    payload = data[data.index(b"\n", len(artifacts.MAGIC)) + 1 :]
    return artifacts.MAGIC + json.dumps(header).encode() + b"\n" + payload


def test_unknown_format_version_is_refused(classifier):
    import hashlib

    data = _with_header(serialize(classifier)[0], format_version=99)
    with pytest.raises(ArtifactError, match="version 99"):
        deserialize(data, sha256=hashlib.sha256(data).hexdigest())


class _NotPlainData:
    """Stands for any object a crafted artifact might smuggle in."""

    def __init__(self):
        self.command = "echo pwned"


def test_payload_with_untrusted_types_is_refused(classifier):
    import hashlib

    import skops.io as sio

    data = serialize(classifier)[0]
    header_end = data.index(b"\n", len(artifacts.MAGIC)) + 1
    evil = data[:header_end] + sio.dumps({"model": _NotPlainData()})
    with pytest.raises(ArtifactError, match="does not trust"):
        deserialize(evil, sha256=hashlib.sha256(evil).hexdigest())


def test_payload_with_an_estimator_instead_of_plain_data_is_refused(classifier):
    import hashlib

    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    data = serialize(classifier)[0]
    header_end = data.index(b"\n", len(artifacts.MAGIC)) + 1
    other = data[:header_end] + sio.dumps({"model": LogisticRegression()})
    with pytest.raises(ArtifactError):
        deserialize(other, sha256=hashlib.sha256(other).hexdigest())


def test_header_that_does_not_match_the_model_is_refused(classifier):
    import hashlib

    data = _with_header(serialize(classifier)[0], labels=["x", "y"])
    with pytest.raises(ArtifactError, match="inconsistent"):
        deserialize(data, sha256=hashlib.sha256(data).hexdigest())


# ---------------------------------------------------------------------- bad data
def test_too_few_examples_names_the_intent(data):
    texts, labels = list(data[0]), list(data[1])
    texts += ["where can i find the size chart", "size chart please", "what size am i"]
    labels += ["size_chart"] * 3
    with pytest.raises(TrainingDataError, match=r"'size_chart' has 3") as err:
        train(texts, labels)
    assert str(MIN_EXAMPLES_PER_INTENT) in str(err.value)


@pytest.mark.parametrize(
    "texts, labels, match",
    [
        (["where is my order"] * 10, ["track_order"] * 10, "at least 2 intents"),
        (["a", "b"], ["x"], "2 texts but 1 labels"),
        (["where is it"] * 5 + [""] * 5, ["x"] * 5 + ["y"] * 5, "empty"),
        ([], [], "at least 2 intents"),
    ],
)
def test_unusable_data_raises(texts, labels, match):
    with pytest.raises(TrainingDataError, match=match):
        train(texts, labels)


def test_training_data_error_is_a_value_error():
    assert issubclass(TrainingDataError, ValueError)
    assert issubclass(ArtifactError, ValueError)


def test_min_examples_per_intent_is_a_param(data):
    texts = [*data[0], "size chart please", "what size am i", "size guide"]
    labels = [*data[1], "size_chart", "size_chart", "size_chart"]
    clf = train(texts, labels, params=TrainingParams(min_examples_per_intent=3)).classifier
    assert "size_chart" in clf.labels


# ------------------------------------------------------------------ data hash etc.
def test_training_data_hash_is_order_independent(data):
    texts, labels = data
    h = training_data_hash(texts, labels)
    pairs = list(zip(texts, labels))
    random.Random(1).shuffle(pairs)
    assert training_data_hash([t for t, _ in pairs], [lab for _, lab in pairs]) == h
    assert training_data_hash(texts[:-1], labels[:-1]) != h
    relabelled = list(labels)
    relabelled[0] = "get_refund" if labels[0] != "get_refund" else "track_order"
    assert training_data_hash(texts, relabelled) != h
    assert len(h) == 64


def test_params_are_json_serialisable_and_round_trip():
    params = TrainingParams(C=0.7, target_precision=0.9)
    as_dict = dataclasses.asdict(params)
    json.dumps(as_dict)
    assert TrainingParams.from_dict({**as_dict, "unknown_future_key": 1}) == params
    with pytest.raises(ValueError):
        TrainingParams(C=0)


def test_library_versions():
    versions = artifacts.library_versions()
    expected = {"python", "sklearn", "numpy", "scipy", "skops", "wordllama", "tokenizers"}
    assert set(versions) == expected
    assert all(isinstance(v, str) and v for v in versions.values())


def test_fast_featuriser_matches_scikit_learn(classifier):
    """Prediction computes TF-IDF without scikit-learn's per-call overhead; it must give the
    same features as the fitted TfidfVectorizer would."""
    import scipy.sparse as sp

    from intents.text_cleaning import clean_text

    model = classifier._model
    # Only the first pair_max_words (40) distinct words are paired: known words after 45
    # unknown ones make no pair, known words before them do.
    fillers = " ".join(f"qz{i:02d}" for i in range(45))
    known = "where is my order refund cancel address"
    raw = ["Where is my order #1042??", "refund refund refund", "", "x", "cancel"]
    raw += [f"{fillers} {known}", f"{known} {fillers}", f"{known} {known} {known}"]
    texts = [clean_text(t) for t in raw]
    reference = []
    for block, _ in model.blocks:
        vec = features.make_vectorizers(model.params)[block.name]
        vec.set_params(vocabulary=block.vocab)
        vec.idf_ = block.idf
        reference.append(vec.transform(features.block_inputs(block.name, texts, model.params)))
    expected = sp.hstack(reference, format="csr").toarray()
    np.testing.assert_allclose(model.features(texts).toarray(), expected, atol=1e-6)
