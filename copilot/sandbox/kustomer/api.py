"""The pipeline every `/v1` request of the fake goes through, in this order:

1. `SANDBOX_KUSTOMER_LATENCY_MS` of artificial delay, then any injected failure for the path;
2. 413 for a body over 100,000 bytes (by Content-Length, then by the bytes actually read);
3. 401 without a valid API key or OAuth access token;
4. the org's rolling 60 s limit (429), whose `x-ratelimit-*` headers every later answer carries;
5. 405 for a method the path does not have, 403 without the operation's role;
6. 415 for a body that is not `application/json`, 400 for one that is not JSON;
7. the operation itself (which may take a per-customer create slot or a per-object update slot).

Every request, whatever its answer, is written to the request log.
"""

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from . import conf, ratelimit, services
from .auth import Principal, Role, authenticate, authorize
from .errors import ApiError, Duplicate, NotFound
from .models import FailureInjection, Org

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 100_000
BODY_METHODS = {"POST", "PUT", "PATCH"}
OBJECT_UPDATE_LIMIT = 100  # updates of one conversation by one user ...
OBJECT_UPDATE_WINDOW = 600  # ... per 10 minutes


@dataclass
class Reply:
    body: dict[str, Any]
    status: int = 200


@dataclass
class Call:
    """An authenticated request, as an operation sees it."""

    request: HttpRequest
    principal: Principal
    path: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def org(self) -> Org:
        return self.principal.org

    def take_create_slot(self, *, customer_id: str, imported: bool) -> None:
        """Counts a create against the customer's per-minute limit (bodies with `importedAt`
        are exempt); a 429 with `x-ratelimit-object-*` headers when none is left."""
        if imported:
            return
        self._take(
            key=f"customer-create:{customer_id}",
            limit=settings.SANDBOX_KUSTOMER_CUSTOMER_CREATE_LIMIT,
            window=60,
            bucket=1,
            detail=f"Too many creates for customer {customer_id}; try again later",
        )

    def take_draft_slot(self, *, customer_id: str) -> None:
        """Counts a new draft against the customer's own limit (120 drafts per minute)."""
        self._take(
            key=f"customer-drafts:{customer_id}",
            limit=conf.customer_draft_limit(),
            window=60,
            bucket=1,
            detail=f"Too many drafts for customer {customer_id}; try again later",
        )

    def take_update_slot(self, *, kind: str, object_id: str) -> None:
        """Counts an update of one object by this credential's user (100 per 10 minutes)."""
        self._take(
            key=f"object-update:{kind}:{object_id}:{self.principal.user_id}",
            limit=OBJECT_UPDATE_LIMIT,
            window=OBJECT_UPDATE_WINDOW,
            bucket=10,
            detail=f"Too many updates of {kind} {object_id}; try again later",
        )

    def _take(self, *, key: str, limit: int, window: int, bucket: int, detail: str) -> None:
        decision = ratelimit.hit(key, limit=limit, window=window, bucket=bucket)
        object_headers = ratelimit.headers(decision, prefix="x-ratelimit-object")
        self.headers.update(object_headers)
        if not decision.allowed:
            raise ApiError(429, detail, code="rate_limited", headers=object_headers)


Operation = Callable[..., Reply]


def operation(*, role: Role | None, reads_body: bool = True) -> Callable[[Operation], Operation]:
    """Marks a view function as an API operation needing `role` (None: any credential)."""

    def decorate(function: Operation) -> Operation:
        function.required_role = role  # type: ignore[attr-defined]
        function.reads_body = reads_body  # type: ignore[attr-defined]
        return function

    return decorate


def route(**operations: Operation) -> Callable[..., HttpResponse]:
    """A Django view serving `operations` by HTTP method, e.g. `route(GET=..., PUT=...)`."""

    @csrf_exempt
    def view(request: HttpRequest, **kwargs: str) -> HttpResponse:
        return _serve(request, operations, kwargs)

    return view


@dataclass
class _Trace:
    principal: Principal | None = None
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)


def _api_path(request: HttpRequest) -> str:
    """The path as Kustomer would see it (`/v1/...`), without where the fake is mounted."""
    index = request.path.find("/v1/")
    return request.path[index:] if index >= 0 else request.path


def _serve(
    request: HttpRequest, operations: dict[str, Operation], kwargs: dict[str, str]
) -> HttpResponse:
    started = time.perf_counter()
    path = _api_path(request)
    trace = _Trace()
    try:
        response: HttpResponse = _process(request, path, operations, kwargs, trace)
    except ApiError as error:
        response = error.response()
    except Exception:
        logger.exception("The sandbox Kustomer API failed on %s %s", request.method, path)
        response = ApiError(500, "Internal server error", code="internal_error").response()
    for name, value in trace.headers.items():
        if not response.has_header(name):
            response[name] = value
    try:
        principal = trace.principal
        services.request_log_record(
            org=principal.org if principal else None,
            api_key_id=principal.api_key.id if principal and principal.api_key else "",
            user_id=principal.user_id if principal else "",
            method=request.method or "",
            path=path,
            query=request.META.get("QUERY_STRING", ""),
            status=response.status_code,
            body=trace.body,
            duration_ms=(time.perf_counter() - started) * 1000,
        )
    except Exception:
        logger.exception("Could not write the sandbox request log")
    return response


def _process(
    request: HttpRequest,
    path: str,
    operations: dict[str, Operation],
    kwargs: dict[str, str],
    trace: _Trace,
) -> HttpResponse:
    if settings.SANDBOX_KUSTOMER_LATENCY_MS > 0:
        time.sleep(settings.SANDBOX_KUSTOMER_LATENCY_MS / 1000)
    injection = services.failure_claim(path=path)
    if injection is not None:
        _fail_as_injected(injection)

    raw = _read_body(request)
    trace.body = raw.decode("utf-8", errors="replace")

    principal = authenticate(request.headers.get("Authorization", ""))
    trace.principal = principal
    decision = ratelimit.hit(
        f"org:{principal.org_id}", limit=settings.SANDBOX_KUSTOMER_ORG_RATE_LIMIT, window=60
    )
    trace.headers.update(ratelimit.headers(decision))
    if not decision.allowed:
        raise ApiError(
            429, "The organization's rate limit is exceeded; try again later", code="rate_limited"
        )

    function = operations.get(request.method or "")
    if function is None:
        raise ApiError(
            405,
            f"{request.method} is not allowed on {path}",
            code="method_not_allowed",
            headers={"Allow": ", ".join(operations)},
        )
    authorize(principal, getattr(function, "required_role", Role.ADMIN))
    reads_body = request.method in BODY_METHODS and getattr(function, "reads_body", True)
    body = _json_body(request, raw) if reads_body else None

    call = Call(request=request, principal=principal, path=path, body=body)
    try:
        reply = function(call, **kwargs)
    except NotFound as error:
        raise ApiError(404, str(error), code="not_found") from None
    except Duplicate as error:
        raise ApiError(400, str(error), code="duplicate", pointer=error.pointer) from None
    finally:
        trace.headers.update(call.headers)
    return JsonResponse(reply.body, status=reply.status)


def _fail_as_injected(injection: FailureInjection) -> None:
    if injection.mode == FailureInjection.Mode.RATE_LIMITED:
        raise ApiError(
            429,
            "The organization's rate limit is exceeded; try again later",
            code="rate_limited",
            headers={
                "x-ratelimit-limit": str(settings.SANDBOX_KUSTOMER_ORG_RATE_LIMIT),
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(max(1, math.ceil(injection.seconds))),
            },
        )
    if injection.mode == FailureInjection.Mode.TIMEOUT:
        time.sleep(injection.seconds)
        raise ApiError(504, "The upstream service timed out", code="gateway_timeout")
    raise ApiError(500, "Internal server error", code="internal_error")


def _too_large() -> ApiError:
    return ApiError(
        413,
        f"The request body is larger than {MAX_BODY_BYTES} bytes",
        code="payload_too_large",
    )


def _read_body(request: HttpRequest) -> bytes:
    declared = request.META.get("CONTENT_LENGTH") or "0"
    try:
        declared_bytes = int(declared)
    except ValueError:
        raise ApiError(400, "Content-Length is not a number") from None
    if declared_bytes > MAX_BODY_BYTES:
        raise _too_large()
    raw = request.body
    if len(raw) > MAX_BODY_BYTES:
        raise _too_large()
    return raw


def _json_body(request: HttpRequest, raw: bytes) -> Any:
    content_type = (request.content_type or "").lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise ApiError(
            415, "The request body must be application/json", code="unsupported_media_type"
        )
    if not raw.strip():
        raise ApiError(400, "A JSON request body is required", pointer="/data")
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, "The request body is not valid JSON", code="invalid_json") from None
