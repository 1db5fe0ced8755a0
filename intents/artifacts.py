"""Saving and loading a trained intent classifier as safe artifact bytes.

:func:`serialize` writes ``MAGIC + JSON header + b"\\n" + skops payload``. The header holds
the format version, labels, threshold, temperature, params and library versions. The payload is
plain data — vocabularies, IDF weights, the weight matrix (float16), and the name and SHA-256
of the word vectors the model was trained with, as strings and numpy arrays, no estimator
objects — loaded with :func:`skops.io.loads` and an explicit list of
trusted types (never ``trusted=True``, never pickle/joblib): a tampered file cannot execute
code on load. No class of this project is named in an artifact, so moving code between modules
never breaks a stored one. :func:`deserialize` verifies the SHA-256 *before* parsing anything,
and refuses a model whose word vectors are not the installed ones.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import platform

import numpy as np
import scipy
import sklearn

from . import word_vectors
from .classifier import FittedModel, IntentClassifier
from .features import make_vectorizers
from .params import TrainingParams

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "ArtifactError",
    "deserialize",
    "library_versions",
    "read_header",
    "serialize",
]

#: Version of the artifact layout written by :func:`serialize`. Version 1 (lexical blocks
#: only, before word vectors) is still read.
FORMAT_VERSION = 2
_READABLE_VERSIONS = (1, 2)
MAGIC = b"INTENT-CLASSIFIER\n"


class ArtifactError(ValueError):
    """A model artifact is corrupt, was tampered with, or has an unknown format version."""


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
    """Raise ValueError unless ``state`` has exactly the shape
    :class:`~intents.classifier.FittedModel` writes (or
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
    expected = set(make_vectorizers(params))
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
    payload = sio.dumps(classifier.model_state(), compression=8)  # 8 = ZIP_DEFLATED
    header_bytes = json.dumps(header, sort_keys=True, ensure_ascii=True).encode("ascii")
    data = MAGIC + header_bytes + b"\n" + payload
    return data, hashlib.sha256(data).hexdigest()


def read_header(data: bytes) -> dict:
    """The JSON header of an artifact (no checksum check, no model loading): for display."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ArtifactError("The model artifact must be bytes.")
    data = bytes(data)
    if not data.startswith(MAGIC):
        raise ArtifactError("This is not an intent-classifier artifact (unknown file signature).")
    end = data.find(b"\n", len(MAGIC))
    if end < 0:
        raise ArtifactError("The model artifact is truncated: its header never ends.")
    try:
        header = json.loads(data[len(MAGIC) : end].decode("ascii"))
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
    payload = data[data.index(b"\n", len(MAGIC)) + 1 :]
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
        model = FittedModel(obj, params)
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
