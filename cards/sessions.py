"""Agents' sign-in to the card: "Sign in with Kustomer", and the card sessions it starts.

The card lives in Kustomer's iframe, a third-party frame: a plain cookie there is blocked by
Safari and partitioned by Firefox. So the sign-in runs in a first-party pop-up (OAuth 2.0
authorization code with PKCE), which ends by handing a one-time code to the card that opened it
(`postMessage`); the card trades that code for its session (`session_from_handoff`), whose key
the browser keeps in a partitioned cookie set from inside the frame.

A session is refused to agents of another Kustomer org, ends when idle or old, on sign-out, and
when Kustomer no longer accepts the agent's token (revoked, or the agent removed).
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from copilot.commerce.encryption import token_decrypt, token_encrypt
from copilot.integrations.http import IntegrationError, PermanentError
from copilot.integrations.kustomer import KustomerClient, User
from copilot.integrations.kustomer_oauth import KustomerOAuth, OAuthError, TokenSet

from .models import CardSession

logger = logging.getLogger(__name__)

SIGN_IN_SECONDS = 600  # how long a started sign-in may take
HANDOFF_SECONDS = 120  # how long the pop-up's one-time code is good for
TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most this often
VERIFY_EVERY = timedelta(minutes=5)  # how often Kustomer is asked whether the token still works


class SignInError(Exception):
    """The sign-in cannot go on; the message is a sentence for the agent."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class SignInStart:
    url: str  # Kustomer's sign-in page
    state: str  # also kept in a first-party cookie of the pop-up, checked on the way back


def oauth_client() -> KustomerOAuth:
    if not settings.KUSTOMER_OAUTH_CLIENT_ID or not settings.KUSTOMER_WEB_BASE_URL:
        raise SignInError(
            "Sign-in with Kustomer is not set up here: KUSTOMER_OAUTH_CLIENT_ID is missing.",
            status=503,
        )
    return KustomerOAuth(
        web_base_url=settings.KUSTOMER_WEB_BASE_URL,
        api_base_url=settings.KUSTOMER_API_BASE_URL,
        client_id=settings.KUSTOMER_OAUTH_CLIENT_ID,
        client_secret=settings.KUSTOMER_OAUTH_CLIENT_SECRET,
        timeout=settings.KUSTOMER_TIMEOUT_SECONDS,
    )


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def sign_in_begin(*, redirect_uri: str) -> SignInStart:
    """A new sign-in: where to send the pop-up, with a fresh state and PKCE pair.
    `redirect_uri` must be one of the app definition's `redirectUris`."""
    with oauth_client() as client:
        request = client.authorization_request(redirect_uri=redirect_uri)
    cache.set(
        f"card:sign-in:{_hash(request.state)}",
        {"verifier": request.code_verifier, "redirect_uri": request.redirect_uri},
        timeout=SIGN_IN_SECONDS,
    )
    return SignInStart(url=request.url, state=request.state)


def our_org_id() -> str:
    """The Kustomer org this deployment serves: KUSTOMER_ORG_ID, or the API key's org."""
    if settings.KUSTOMER_ORG_ID:
        return settings.KUSTOMER_ORG_ID
    org_id = cache.get("card:org-id")
    if not org_id:
        with KustomerClient.from_settings() as client:
            org_id = client.current_user().org_id
        if not org_id:
            raise SignInError(
                "Kustomer did not say which org the API key belongs to: set KUSTOMER_ORG_ID.",
                status=503,
            )
        cache.set("card:org-id", org_id, timeout=24 * 3600)
    return org_id


def sign_in_complete(params: dict[str, str], *, cookie_state: str) -> str:
    """Ends the pop-up's sign-in: checks the redirect, trades the code for tokens, asks
    Kustomer who the agent is, and starts their session. Returns the one-time code the
    pop-up hands to the card. Raises `SignInError` with a sentence for the agent."""
    state = params.get("state") or ""
    if not cookie_state or not secrets.compare_digest(state, cookie_state):
        raise SignInError("This sign-in was not started here. Close this window and try again.")
    pending = cache.get(f"card:sign-in:{_hash(state)}")
    if pending is None or not cache.delete(f"card:sign-in:{_hash(state)}"):
        raise SignInError("This sign-in took too long or was already used. Please try again.")
    try:
        with oauth_client() as client:
            code = client.code_from_callback(params, expected_state=state)
            tokens = client.exchange_code(
                code=code, redirect_uri=pending["redirect_uri"], code_verifier=pending["verifier"]
            )
        with KustomerClient.for_agent(tokens.access_token) as kustomer:
            user = kustomer.current_user()
    except OAuthError as error:
        if error.error == "access_denied":
            raise SignInError("The sign-in was cancelled.") from error
        logger.warning("card sign-in refused: %s", error.error)
        raise SignInError("Kustomer refused the sign-in. Please try again.") from error
    except IntegrationError as error:
        logger.warning("card sign-in failed: %s", error)
        raise SignInError(
            "Kustomer could not be reached to finish the sign-in. Please try again.", status=502
        ) from error
    if user.org_id != our_org_id():
        _revoke_quietly(tokens.refresh_token or tokens.access_token)
        raise SignInError(
            "This copilot serves another Kustomer organization, so it cannot show you anything.",
            status=403,
        )
    raw_key = _session_create(user, tokens)
    handoff = secrets.token_urlsafe(24)
    cache.set(f"card:handoff:{_hash(handoff)}", raw_key, timeout=HANDOFF_SECONDS)
    return handoff


def _session_create(user: User, tokens: TokenSet) -> str:
    raw_key = secrets.token_urlsafe(32)
    now = timezone.now()
    CardSession.objects.create(
        key_hash=_hash(raw_key),
        agent_id=user.id,
        agent_name=user.name or user.email or user.id,
        agent_email=user.email,
        roles=list(user.roles),
        org_id=user.org_id,
        access_token=token_encrypt(tokens.access_token),
        refresh_token=token_encrypt(tokens.refresh_token) if tokens.refresh_token else "",
        access_expires_at=tokens.expires_at,
        last_seen_at=now,
        verified_at=now,
        expires_at=now + timedelta(seconds=settings.CARD_SESSION_MAX_SECONDS),
    )
    logger.info("card session started for agent %s", user.id)
    return raw_key


def session_from_handoff(handoff: str) -> str | None:
    """The session key behind the pop-up's one-time code; None when unknown, spent or old."""
    if not handoff:
        return None
    name = f"card:handoff:{_hash(handoff)}"
    raw_key = cache.get(name)
    # Deleting is the claim: of two requests with the same code only one deletes it.
    if raw_key is None or not cache.delete(name):
        return None
    return raw_key


def session_get(raw_key: str) -> CardSession | None:
    """The live session of this key, or None. Ends it when idle or past its lifetime."""
    if not raw_key:
        return None
    session = CardSession.objects.filter(key_hash=_hash(raw_key), ended_at=None).first()
    if session is None:
        return None
    now = timezone.now()
    if now >= session.expires_at:
        session_end(session, reason="expired")
        return None
    if now - session.last_seen_at >= timedelta(seconds=settings.CARD_SESSION_IDLE_SECONDS):
        session_end(session, reason="idle")
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        CardSession.objects.filter(pk=session.pk).update(last_seen_at=now)
        session.last_seen_at = now
    return session


def session_end(session: CardSession, *, reason: str, revoke: bool = False) -> None:
    """Ends the session (sign-out, expiry, or Kustomer refusing its token)."""
    updated = CardSession.objects.filter(pk=session.pk, ended_at=None).update(
        ended_at=timezone.now(), end_reason=reason
    )
    session.ended_at = timezone.now()
    if updated and revoke:
        token = session.refresh_token or session.access_token
        _revoke_quietly(token_decrypt(token))
    if updated:
        logger.info("card session of agent %s ended: %s", session.agent_id, reason)


def _revoke_quietly(token: str) -> None:
    try:
        with oauth_client() as client:
            client.revoke(token)
    except (IntegrationError, SignInError) as error:
        logger.warning("could not revoke a Kustomer token: %s", error)


class SessionEnded(Exception):
    """Kustomer no longer accepts the agent's sign-in: they must sign in again."""


def access_token(session: CardSession) -> str:
    """The agent's Kustomer access token, refreshed first when it is (nearly) expired."""
    if session.access_expires_at - timezone.now() > timedelta(seconds=60):
        return token_decrypt(session.access_token)
    with transaction.atomic():
        # One refresh per session at a time: refresh tokens may be single-use.
        locked = CardSession.objects.select_for_update().get(pk=session.pk)
        if locked.access_expires_at - timezone.now() > timedelta(seconds=60):
            return token_decrypt(locked.access_token)
        if not locked.refresh_token:
            session_end(locked, reason="token expired")
            raise SessionEnded
        try:
            with oauth_client() as client:
                tokens = client.refresh(token_decrypt(locked.refresh_token))
        except OAuthError as error:
            session_end(locked, reason=f"refresh refused: {error.error}")
            raise SessionEnded from error
        locked.access_token = token_encrypt(tokens.access_token)
        if tokens.refresh_token:
            locked.refresh_token = token_encrypt(tokens.refresh_token)
        locked.access_expires_at = tokens.expires_at
        locked.save(update_fields=["access_token", "refresh_token", "access_expires_at"])
    session.access_token = locked.access_token
    session.refresh_token = locked.refresh_token
    session.access_expires_at = locked.access_expires_at
    return tokens.access_token


def agent_kustomer(session: CardSession) -> KustomerClient:
    """A Kustomer client acting as the session's agent. Raises `SessionEnded`."""
    return KustomerClient.for_agent(access_token(session))


def refused_by_kustomer(session: CardSession, error: IntegrationError) -> bool:
    """Ends the session when Kustomer answered 401 (the token was revoked); True if it did."""
    if isinstance(error, PermanentError) and error.status == 401:
        session_end(session, reason="token refused by Kustomer")
        return True
    return False


def session_verify(session: CardSession) -> bool:
    """Asks Kustomer, at most every VERIFY_EVERY, whether the agent's token still works, so a
    sign-in revoked in Kustomer ends the card's session within minutes. False if it ended."""
    now = timezone.now()
    if now - session.verified_at < VERIFY_EVERY:
        return True
    claimed = CardSession.objects.filter(pk=session.pk, verified_at=session.verified_at).update(
        verified_at=now
    )
    session.verified_at = now
    if not claimed:  # another request of this session is checking right now
        return True
    try:
        with agent_kustomer(session) as kustomer:
            kustomer.current_user()
    except SessionEnded:
        return False
    except IntegrationError as error:
        if refused_by_kustomer(session, error):
            return False
        logger.warning("could not check agent %s's sign-in: %s", session.agent_id, error)
    return True
