"""Serving the active intent model.

Each process keeps the active model in memory and asks the database at most every
`INTENT_MODEL_REFRESH_SECONDS` which version is active, so every web and worker process picks up
a newly activated version within seconds, without a restart and without a message bus.
"""

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings

from .artifacts import ArtifactError, deserialize
from .classifier import IntentClassifier, IntentPrediction
from .explanation import Span, evidence
from .models import ModelVersion
from .selectors import active_model_version_id

logger = logging.getLogger(__name__)


class NoActiveModel(RuntimeError):
    """No model version is active yet: train one and activate it."""


@dataclass(frozen=True)
class LoadedModel:
    version_id: int
    number: int
    classifier: IntentClassifier


@dataclass(frozen=True)
class Classification:
    prediction: IntentPrediction
    version_id: int
    version_number: int
    latency_ms: float


def load_model_version(version_id: int) -> LoadedModel:
    """Loads and verifies a stored artifact; raises `ArtifactError` when it is corrupt."""
    version = ModelVersion.objects.only("id", "number", "artifact", "artifact_sha256").get(
        pk=version_id
    )
    if version.artifact is None:
        raise ArtifactError(f"Model version v{version.number} has no stored artifact.")
    classifier = deserialize(bytes(version.artifact), sha256=version.artifact_sha256)
    return LoadedModel(version_id=version.id, number=version.number, classifier=classifier)


class ActiveModelCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: LoadedModel | None = None
        self._checked_at = float("-inf")

    def _fresh(self) -> bool:
        return time.monotonic() - self._checked_at < settings.INTENT_MODEL_REFRESH_SECONDS

    def get(self) -> LoadedModel | None:
        if self._fresh():
            return self._loaded
        with self._lock:
            if self._fresh():
                return self._loaded
            active_id = active_model_version_id()
            if active_id is None:
                self._loaded = None
            elif self._loaded is None or self._loaded.version_id != active_id:
                self._loaded = load_model_version(active_id)
            self._checked_at = time.monotonic()
            return self._loaded

    def clear(self) -> None:
        with self._lock:
            self._loaded = None
            self._checked_at = float("-inf")


active_model = ActiveModelCache()


def warm_up() -> None:
    """Loads the active model (and its word vectors) now, so the first message or request
    does not wait the two seconds that importing and loading take. A missing database or
    model must not stop the process from starting: the next use tries again."""
    try:
        active_model.get()
    except Exception:
        logger.warning("could not load the active intent model at start-up", exc_info=True)


def _require_model() -> LoadedModel:
    loaded = active_model.get()
    if loaded is None:
        raise NoActiveModel("No intent model is active yet: train one and activate it.")
    return loaded


def classify(text: str) -> Classification:
    """Classifies one message with the active model."""
    return _classify_with(_require_model(), text)


def _classify_with(loaded: LoadedModel, text: str) -> Classification:
    started = time.perf_counter()
    prediction = loaded.classifier.predict_one(text)
    latency_ms = (time.perf_counter() - started) * 1000
    return Classification(prediction, loaded.version_id, loaded.number, latency_ms)


@dataclass(frozen=True)
class Explanation:
    """Why the active model thinks a message is about an intent."""

    intent: str  # the intent explained: the one asked about, else the model's best guess
    spans: list[Span]  # the words of the message that weighed most for it, in text order
    classification: Classification  # the model's answer: its top intents and probabilities


def explain(text: str, intent: str | None = None) -> Explanation:
    """Classifies one message with the active model and explains ``intent`` (default: the best
    guess, also when the model abstained). Raises `ValueError` for an intent the active model
    does not know, `NoActiveModel` when there is no model."""
    loaded = _require_model()  # one model for the answer and its explanation
    classification = _classify_with(loaded, text)
    if intent is None:
        intent = classification.prediction.top[0][0]
    elif intent not in loaded.classifier.labels:
        raise ValueError(
            f"Model v{loaded.number} does not know the intent {intent!r}, so it cannot say "
            "why a message would be about it."
        )
    spans = evidence(loaded.classifier, text, intent=intent)
    return Explanation(intent=intent, spans=spans, classification=classification)


def classify_batch(texts: Sequence[str]) -> list[Classification]:
    """Classifies many messages in one vectorised call (imports, re-scoring)."""
    loaded = _require_model()
    if not texts:
        return []
    started = time.perf_counter()
    predictions = loaded.classifier.predict(list(texts))
    latency_ms = (time.perf_counter() - started) * 1000 / len(texts)
    return [
        Classification(prediction, loaded.version_id, loaded.number, latency_ms)
        for prediction in predictions
    ]
