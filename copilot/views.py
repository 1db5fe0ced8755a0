import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .health import readiness, worker_status

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and serving: no dependency is touched."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to serve: database, cache, broker and the active intent model; 503 if one is down.

    Anyone gets ok / not ok per dependency; why one is down (hosts, ports, error texts) goes to
    the log and to staff only. Workers are reported, never part of readiness: a web process
    without workers still takes webhooks and must stay in the load balancer's rotation.
    """
    ok, checks = readiness()
    for name, check in checks.items():
        if check.get("ok") is False:
            logger.warning("readiness: %s is down: %s", name, check.get("detail", ""))
    if not (request.user.is_authenticated and request.user.is_staff):
        checks = {
            name: {"ok": check["ok"]} if "ok" in check else {"consuming": check["consuming"]}
            for name, check in checks.items()
        }
    return JsonResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503
    )


@never_cache
@require_GET
def worker_status_view(request: HttpRequest) -> JsonResponse:
    """For monitoring: 200 while a worker is consuming, 503 (with how long it has been) when
    none ran a task for COPILOT_WORKER_STALE_SECONDS."""
    status = worker_status()
    age = status.age_seconds
    return JsonResponse(
        {
            "consuming": status.consuming,
            "last_seen": status.last_seen.isoformat() if status.last_seen else None,
            "seconds_since": round(age, 1) if age is not None else None,
            "detail": status.sentence,
        },
        status=200 if status.consuming else 503,
    )
