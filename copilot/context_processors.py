from django.http import HttpRequest

from .health import worker_warning


def operations(request: HttpRequest) -> dict:
    """What staff must know on every staff page: that no worker is consuming, say."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {}
    return {"worker_warning": worker_warning()}
