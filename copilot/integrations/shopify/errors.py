"""What a request to Shopify raises, in the shared hierarchy of `copilot.integrations.http`."""

from __future__ import annotations

from collections.abc import Sequence

from ..http import PermanentError, RateLimited, TransientError


class ShopifyThrottled(RateLimited):
    """The shop's cost bucket has no room: wait `retry_after` seconds.

    Raised for a THROTTLED answer (HTTP 200 or 429) and, without sending anything, when our own
    copy of the bucket says the request would be throttled. Either way Shopify did not act.
    """

    def __init__(self, message: str, *, retry_after: float, status: int | None = None) -> None:
        super().__init__(message, retry_after=retry_after, status=status)


class ShopifyUnavailable(TransientError):
    """A timeout, a connection failure or a 5xx. `reached_shopify` is False only when the request
    certainly never arrived (so that retrying a mutation cannot act twice)."""

    def __init__(self, message: str, *, reached_shopify: bool, status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.reached_shopify = reached_shopify


class ShopifyAuthError(PermanentError):
    """Shopify refused the access token (401/403): the app was uninstalled or the token revoked."""


class ShopifyAccessDenied(PermanentError):
    """The token lacks a scope or an approval for what was asked (`ACCESS_DENIED`)."""


class ProtectedCustomerDataError(ShopifyAccessDenied):
    """The app is not approved for protected customer data (names, emails, addresses)."""


class ShopifyQueryError(PermanentError):
    """Shopify rejected the request itself (bad query, cost over the single-query limit...)."""

    def __init__(self, message: str, *, codes: Sequence[str] = (), status: int | None = None):
        super().__init__(message, status=status)
        self.codes = tuple(codes)
