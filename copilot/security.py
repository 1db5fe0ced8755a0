"""Staff sign-ins: who is calling, and what a locked-out sign-in is told (django-axes)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_ip(request: HttpRequest) -> str:
    """The caller's address. Behind the TLS proxy (DJANGO_BEHIND_PROXY) every request comes from
    the proxy, which appends the real caller to X-Forwarded-For: its last entry is the one a
    caller cannot forge (anything before it came from the caller)."""
    if settings.DJANGO_BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR", "")


def lockout(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """The page a locked-out sign-in gets: a sentence that says for how long, and how to unlock."""
    minutes = round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    return render(
        request,
        "registration/locked_out.html",
        {"title": "Sign-in locked", "minutes": minutes},
        status=429,
    )
