"""The pretrained word-piece vectors (intents.word_vectors) and how the model uses them."""

import copy
import hashlib
import json
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.svm import LinearSVC

from intents import artifacts, features, word_vectors
from intents.artifacts import ArtifactError, deserialize, serialize
from intents.classifier import fit_model
from intents.params import TrainingParams
from intents.text_cleaning import clean_text
from intents.training import train
from tests.intents.test_training import INTENTS, make_data


@pytest.fixture(scope="module")
def vectors():
    return word_vectors.load()


def _cosine(vectors, a: str, b: str) -> float:
    va, vb = vectors.embed([a, b])
    return float(va @ vb)


def test_paraphrases_are_closer_than_unrelated_messages(vectors):
    question = "where is my package"
    assert _cosine(vectors, question, "my parcel has not arrived yet") > _cosine(
        vectors, question, "i want to change my password"
    )
    assert _cosine(vectors, "please refund me", "i want my money back") > _cosine(
        vectors, "please refund me", "what colours does the jacket come in"
    )


def test_rows_are_unit_vectors_and_empty_text_is_zero(vectors):
    rows = vectors.embed(["track my order", "", "Rückerstattung bitte"])
    assert rows.shape == (3, vectors.dim) and rows.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(rows[[0, 2]], axis=1), 1.0, rtol=1e-5)
    assert not rows[1].any()
    assert vectors.embed([]).shape == (0, vectors.dim)


def test_a_large_batch_embeds_each_text_as_on_its_own(vectors):
    texts = [f"order {i} has not arrived, where is it?" if i % 3 else "refund" for i in range(80)]
    texts[5] = ""
    batch = vectors.embed(texts)  # more texts than the gathering path takes
    one_by_one = np.vstack([vectors.embed([t]) for t in texts])
    np.testing.assert_allclose(batch, one_by_one, atol=1e-6)


def test_unknown_vectors_are_refused_with_a_sentence():
    with pytest.raises(word_vectors.WordVectorsUnavailable, match="Unknown word vectors 'glove'"):
        word_vectors.load("glove")


# ------------------------------------------------------------------ in the model
@pytest.fixture(scope="module")
def classifier():
    return train(*make_data(), seed=0).classifier


def test_prediction_scores_are_those_of_the_svm_trained_on_both_blocks():
    """The vector block is weighted at prediction exactly as it was in training."""
    texts, labels = make_data()
    params = TrainingParams()
    cleaned = [clean_text(t) for t in texts]
    model = fit_model(cleaned, np.asarray(labels, dtype=object), params, seed=0)

    vecs = features.make_vectorizers(params, n_docs=len(cleaned))
    lexical = features.feature_matrix(vecs, cleaned, params, fit=True)
    dense = word_vectors.load().embed(cleaned) * np.float32(params.vector_weight)
    svm = LinearSVC(C=params.C, class_weight=params.class_weight, random_state=0, max_iter=3000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        svm.fit(sp.hstack([lexical, sp.csr_matrix(dense)], format="csr"), labels)

    queries = [clean_text(q) for q in ["the courier lost my box", "call it off", "new street"]]
    q_lexical = features.feature_matrix(vecs, queries, params)
    q_dense = word_vectors.load().embed(queries) * np.float32(params.vector_weight)
    expected = svm.decision_function(sp.hstack([q_lexical, sp.csr_matrix(q_dense)], format="csr"))
    # The stored weights are float16: agreement to a few thousandths.
    np.testing.assert_allclose(model.scores(queries), expected, atol=0.02)
    assert list(model.classes) == INTENTS


def test_artifact_names_the_vectors_and_round_trips(classifier):
    data, sha = serialize(classifier)
    assert artifacts.read_header(data)["params"]["word_vectors"] == word_vectors.DEFAULT
    loaded = deserialize(data, sha256=sha)
    texts = ["where is my parcel", "money back", "call it off", "new street please"]
    np.testing.assert_array_equal(loaded.predict_proba(texts), classifier.predict_proba(texts))


def test_model_trained_with_other_vectors_is_refused(classifier, monkeypatch):
    data, sha = serialize(classifier)
    other = copy.copy(word_vectors.load())
    other.sha256 = "0" * 64
    monkeypatch.setattr(word_vectors, "load", lambda name=word_vectors.DEFAULT: other)
    with pytest.raises(ArtifactError, match="other 'wordllama-l2-supercat-256' word vectors"):
        deserialize(data, sha256=sha)


def test_model_needing_missing_vectors_is_refused(classifier, monkeypatch):
    data, sha = serialize(classifier)

    def missing(name=word_vectors.DEFAULT):
        raise word_vectors.WordVectorsUnavailable("the wordllama package is not installed")

    monkeypatch.setattr(word_vectors, "load", missing)
    with pytest.raises(ArtifactError, match="cannot be loaded: the wordllama package"):
        deserialize(data, sha256=sha)


def test_lexical_model_without_vectors_still_trains_and_loads():
    lexical = train(*make_data(), params=TrainingParams(word_vectors=None)).classifier
    data, sha = serialize(lexical)
    loaded = deserialize(data, sha256=sha)
    assert loaded.params.word_vectors is None
    assert loaded.predict_one("where is my order 12345").intent == "track_order"


def test_artifact_of_the_first_format_still_loads():
    """Models saved before word vectors existed (format 1, no such parameter) keep working."""
    lexical = train(*make_data(), params=TrainingParams(word_vectors=None)).classifier
    data, _ = serialize(lexical)
    header = artifacts.read_header(data)
    header["format_version"] = 1
    for key in ("word_vectors", "vector_weight"):
        del header["params"][key]
    payload = data[data.index(b"\n", len(artifacts.MAGIC)) + 1 :]
    old = artifacts.MAGIC + json.dumps(header).encode() + b"\n" + payload
    loaded = deserialize(old, sha256=hashlib.sha256(old).hexdigest())
    texts = ["where is my order", "refund now", "cancel it"]
    np.testing.assert_array_equal(loaded.predict_proba(texts), lexical.predict_proba(texts))


def test_vectors_are_loaded_once_per_process():
    assert word_vectors.load() is word_vectors.load(word_vectors.DEFAULT)


def test_unreadable_vector_files_are_reported_as_such(tmp_path, monkeypatch):
    (tmp_path / "tokenizers").mkdir()
    (tmp_path / "weights").mkdir()
    (tmp_path / "tokenizers/l2_supercat_tokenizer_config.json").write_text("{not json")
    (tmp_path / "weights/l2_supercat_256.safetensors").write_bytes(b"\0" * 10)

    class _Spec:
        submodule_search_locations = [str(tmp_path)]

    monkeypatch.setattr(word_vectors.importlib.util, "find_spec", lambda name: _Spec())
    word_vectors._load.cache_clear()
    try:
        with pytest.raises(
            word_vectors.WordVectorsUnavailable, match=r"cannot be read .*reinstall"
        ):
            word_vectors.load()
    finally:
        word_vectors._load.cache_clear()


def test_missing_package_is_reported_as_such(monkeypatch):
    monkeypatch.setattr(word_vectors.importlib.util, "find_spec", lambda name: None)
    word_vectors._load.cache_clear()
    try:
        with pytest.raises(word_vectors.WordVectorsUnavailable, match="not installed"):
            word_vectors.load()
    finally:
        word_vectors._load.cache_clear()


def test_loading_the_vectors_leaves_logging_alone():
    import subprocess
    import sys

    code = (
        "import logging; from intents import word_vectors; word_vectors.load(); "
        "print(len(logging.getLogger().handlers), 'wordllama' in __import__('sys').modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "False"]
