"""A typed client for "Sign in with Kustomer": OAuth 2.0 authorization code flow with PKCE.

Reference: https://developer.kustomer.com/docs/get-started/oauth (the authorization code grant
with PKCE `S256` and refresh tokens), RFC 6749, RFC 7636 and RFC 7009 for what Kustomer leaves
unsaid. The authorize page is on the org's web host (`https://<org>.kustomerapp.com`), the token
and revocation endpoints on its API host (`https://<org>.api.kustomerapp.com`); the fake serves
all three under one base URL.

The flow: `authorization_request()` gives the URL to open (in a pop-up) and the `state` and
`code_verifier` to keep until the redirect comes back; `code_from_callback()` checks that
redirect and returns the code; `exchange_code()` turns it into a `TokenSet`; `refresh()` renews
it (refresh tokens may rotate: always keep the newest); `revoke()` signs out.

No call is retried here: a person is waiting on every one of them.
"""

import base64
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx

from .http import IntegrationError, PermanentError, RateLimited, TransientError, tls_context

logger = logging.getLogger(__name__)


class OAuthError(PermanentError):
    """Kustomer refused an OAuth request; `error` is the RFC 6749 code, e.g. `invalid_grant`
    (the code or refresh token is spent, expired or revoked: the agent must sign in again),
    `invalid_client` or `access_denied` (the agent cancelled)."""

    def __init__(
        self, message: str, *, error: str, description: str = "", status: int | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.error = error
        self.description = description

    @property
    def sign_in_again(self) -> bool:
        """Nothing but a new sign-in will help."""
        return self.error in {"invalid_grant", "access_denied"}


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the agent, and what to keep (server side) until they come back."""

    url: str
    state: str
    code_verifier: str
    redirect_uri: str


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_at: datetime
    scope: tuple[str, ...]

    def expired(self, *, margin_seconds: float = 30.0, now: datetime | None = None) -> bool:
        """True when the access token has expired or will within `margin_seconds`."""
        moment = now or datetime.now(UTC)
        return moment + timedelta(seconds=margin_seconds) >= self.expires_at


def _base64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def pkce_pair() -> tuple[str, str]:
    """A PKCE `code_verifier` (43 characters from 32 random bytes) and its S256 challenge."""
    verifier = _base64url(secrets.token_bytes(32))
    return verifier, _base64url(hashlib.sha256(verifier.encode("ascii")).digest())


class KustomerOAuth:
    """One app (OAuth client) of one Kustomer org.

    `client_secret` makes it a confidential client, authenticating with `client_secret_post`;
    leave it empty for a public client, which PKCE alone protects.
    """

    def __init__(
        self,
        *,
        web_base_url: str,
        api_base_url: str,
        client_id: str,
        client_secret: str = "",
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.authorize_url = web_base_url.rstrip("/") + "/oauth/authorize"
        self.client_id = client_id
        self._client_secret = client_secret
        self._http = httpx.Client(
            base_url=api_base_url.rstrip("/"),
            headers={"Accept": "application/json", "User-Agent": "kustomer-copilot/0.1"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            verify=tls_context(),
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "KustomerOAuth":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- the browser's part -------------------------------------------------------------------

    def authorization_request(
        self, *, redirect_uri: str, scope: Iterable[str] = ()
    ) -> AuthorizationRequest:
        """The sign-in URL, with a fresh `state` and PKCE pair (S256)."""
        verifier, challenge = pkce_pair()
        state = _base64url(secrets.token_bytes(16))
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        scope_text = " ".join(scope)
        if scope_text:
            params["scope"] = scope_text
        return AuthorizationRequest(
            url=f"{self.authorize_url}?{urlencode(params)}",
            state=state,
            code_verifier=verifier,
            redirect_uri=redirect_uri,
        )

    @staticmethod
    def code_from_callback(params: Mapping[str, str], *, expected_state: str) -> str:
        """The code of the redirect back to us, after checking its `state` (in constant time).

        Raises `OAuthError` for an error redirect (`access_denied` when the agent cancelled)
        and for a missing or different state (`invalid_state`: the redirect is not ours).
        """
        state = params.get("state") or ""
        if not expected_state or not hmac.compare_digest(state, expected_state):
            raise OAuthError(
                "The sign-in came back with another state than the one sent.",
                error="invalid_state",
            )
        if params.get("error"):
            error = params["error"]
            description = params.get("error_description") or ""
            raise OAuthError(
                f"Kustomer refused the sign-in: {error} {description}".strip(),
                error=error,
                description=description,
            )
        code = params.get("code") or ""
        if not code:
            raise OAuthError("The sign-in came back without a code.", error="invalid_request")
        return code

    # --- the server's part --------------------------------------------------------------------

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
        """Tokens for the code the redirect brought (within 60 s, once)."""
        return self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            }
        )

    def refresh(self, refresh_token: str) -> TokenSet:
        """New tokens; the refresh token given is spent, so store the new one."""
        return self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def revoke(self, token: str, *, token_type_hint: str = "refresh_token") -> None:  # noqa: S107
        """Signs out (RFC 7009): revoking the refresh token ends every token of the sign-in.
        A token Kustomer no longer knows is not an error."""
        self._post("/oauth/revoke", {"token": token, "token_type_hint": token_type_hint})

    def _token(self, form: dict[str, str]) -> TokenSet:
        payload = self._post("/oauth/token", form)
        try:
            token_type = str(payload["token_type"])
            if token_type.lower() != "bearer":
                raise ValueError(f"token_type {token_type}")
            return TokenSet(
                access_token=str(payload["access_token"]),
                refresh_token=str(payload.get("refresh_token") or form.get("refresh_token", "")),
                expires_at=datetime.now(UTC) + timedelta(seconds=int(payload["expires_in"])),
                scope=tuple(str(payload.get("scope") or "").split()),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise IntegrationError(f"Kustomer's token answer is malformed: {error}") from None

    def _post(self, path: str, form: dict[str, str]) -> dict:
        form = {**form, "client_id": self.client_id}
        if self._client_secret:
            form["client_secret"] = self._client_secret
        started = time.perf_counter()
        try:
            response = self._http.post(path, data=form)
        except httpx.TimeoutException as error:
            raise TransientError(f"Kustomer did not answer {path} in time: {error}") from error
        except httpx.TransportError as error:
            raise TransientError(f"Could not reach Kustomer for {path}: {error}") from error
        logger.info(
            "kustomer oauth %s %s %.0fms",
            path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        if response.status_code == 429:
            wait = _seconds(response.headers.get("retry-after")) or 1.0
            raise RateLimited(f"Kustomer rate limited {path}.", retry_after=wait)
        if response.status_code >= 500:
            raise TransientError(
                f"Kustomer failed {path}: {response.status_code}", status=response.status_code
            )
        body = _json(response)
        if response.status_code >= 400:
            error = str(body.get("error") or "invalid_request")
            description = str(body.get("error_description") or "")
            raise OAuthError(
                f"Kustomer refused {path}: {error} {description}".strip(),
                error=error,
                description=description,
                status=response.status_code,
            )
        return body


def _json(response: httpx.Response) -> dict:
    if not response.content:
        return {}
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        if response.status_code >= 400:
            return {}
        raise TransientError("Kustomer sent an OAuth answer that is not a JSON object.")
    return body


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
