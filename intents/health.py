from copilot.health import CheckResult

from .artifacts import ArtifactError
from .prediction import active_model


def check_active_model() -> CheckResult:
    """Down only when an active model exists but cannot be loaded.

    With no model yet the app still serves (the training pages must stay reachable), so that is
    reported, not failed.
    """
    try:
        loaded = active_model.get()
    except ArtifactError as error:
        return CheckResult(ok=False, detail=str(error))
    if loaded is None:
        return CheckResult(
            ok=True, detail="no active model: messages are not classified until one is activated"
        )
    return CheckResult(
        ok=True,
        detail=f"v{loaded.number}",
        extra={"version": loaded.number, "intents": len(loaded.classifier.labels)},
    )
