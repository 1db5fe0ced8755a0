"""Errors in Kustomer's shape: `{"errors": [{"status", "code", "title", "detail", "source"}]}`."""

from dataclasses import dataclass, field
from typing import Any

from django.http import JsonResponse

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    504: "Gateway Timeout",
}


class SandboxError(Exception):
    """Raised by services; the API layer turns it into a Kustomer error response."""


class NotFound(SandboxError):
    pass


class Duplicate(SandboxError):
    """A unique key is taken (Kustomer answers 400 with a duplicate-key error)."""

    def __init__(self, message: str, *, pointer: str) -> None:
        super().__init__(message)
        self.pointer = pointer


@dataclass
class ApiError(Exception):
    status: int
    detail: str
    code: str = "invalid"
    pointer: str | None = None
    parameter: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "status": self.status,
            "code": self.code,
            "title": TITLES.get(self.status, "Error"),
            "detail": self.detail,
        }
        if self.pointer is not None:
            error["source"] = {"pointer": self.pointer}
        elif self.parameter is not None:
            error["source"] = {"parameter": self.parameter}
        return {"errors": [error]}

    def response(self) -> JsonResponse:
        response = JsonResponse(self.as_json(), status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response


def invalid(detail: str, *, field_path: str) -> ApiError:
    """A 400 pointing at the offending attribute, e.g. field_path "body" or "custom/intentStr"."""
    return ApiError(400, detail, code="invalid", pointer=f"/data/attributes/{field_path}")
