"""Settings of the fake Kustomer's sign-in and Drafts API, each read in one place.

`copilot/settings.py` reads them from the environment; tests override them with pytest-django's
`settings` fixture, which is why they are read on every call.
"""

from django.conf import settings


def customer_draft_limit() -> int:
    """New drafts per customer per rolling minute (Kustomer: 120)."""
    return settings.SANDBOX_KUSTOMER_CUSTOMER_DRAFT_LIMIT


def access_token_seconds() -> int:
    """How long an OAuth access token is valid (`expires_in`)."""
    return settings.SANDBOX_KUSTOMER_OAUTH_ACCESS_TOKEN_SECONDS


def refresh_token_seconds() -> int:
    """How long a refresh token may be used (Kustomer's lifetime is unconfirmed: 30 days)."""
    return settings.SANDBOX_KUSTOMER_OAUTH_REFRESH_TOKEN_SECONDS


def allow_http_redirect_uris() -> bool:
    """Also accept `http://` redirect URIs on 127.0.0.1, localhost and [::1] (the demo)."""
    return settings.SANDBOX_KUSTOMER_ALLOW_HTTP_REDIRECT_URIS
