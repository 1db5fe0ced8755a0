"""A typed client for the parts of Kustomer's REST API the copilot uses.

Reference: https://developer.kustomer.com/kustomer-api-docs (facts we rely on are collected in
the project's docs). Every call goes through one shared rate limiter first; the client never
sleeps and never retries: it raises `RateLimited` with the wait, and background tasks retry.
"""

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from .http import IntegrationError, PermanentError, RateLimited, TransientError, tls_context
from .ratelimit import LimiterUnavailable, Limits, RateLimiter, shared_rate_limiter

# We count a request when it leaves, Kustomer when it arrives. Counting each one a second longer
# than Kustomer's minute keeps a slow request of the last window from landing in the next one
# (it cost 0.4 % of requests as 429s without it); it costs under 2 % of the throughput.
WINDOW_MARGIN_SECONDS = 1.0

logger = logging.getLogger(__name__)

# A reset value above this is an epoch time, below it a number of seconds to wait: Kustomer's
# documentation does not say which it sends, so both are accepted.
_EPOCH_THRESHOLD = 10**9


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _relationship_id(resource: dict, name: str) -> str:
    related = (resource.get("relationships") or {}).get(name)
    data = related.get("data") if isinstance(related, dict) else None
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    emails: list[str]

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name else ""

    @classmethod
    def from_resource(cls, resource: dict) -> "Customer":
        attributes = resource.get("attributes") or {}
        emails = [entry.get("email", "") for entry in attributes.get("emails") or []]
        name = attributes.get("displayName") or attributes.get("name") or ""
        return cls(id=resource["id"], name=name, emails=[email for email in emails if email])


@dataclass(frozen=True)
class Conversation:
    id: str
    customer_id: str
    name: str
    status: str
    tags: list[str]

    @classmethod
    def from_resource(cls, resource: dict) -> "Conversation":
        attributes = resource.get("attributes") or {}
        return cls(
            id=resource["id"],
            customer_id=_relationship_id(resource, "customer"),
            name=attributes.get("name") or "",
            status=attributes.get("status") or "",
            tags=list(attributes.get("tags") or []),
        )


@dataclass(frozen=True)
class Message:
    id: str
    conversation_id: str
    customer_id: str
    direction: str
    channel: str
    preview: str
    body: str | None
    subject: str
    sent_at: datetime | None
    automated: bool = False

    @property
    def text(self) -> str:
        """The fullest text we have: `body` where Kustomer sends it, else `preview`.

        Kustomer always sends `preview`; a full `body` is not documented, so it is used when there.
        An email's subject goes in front, since it often says the most.
        """
        content = self.body or self.preview
        if self.subject and self.subject not in content:
            return f"{self.subject}\n{content}"
        return content

    @classmethod
    def from_resource(cls, resource: dict) -> "Message":
        attributes = resource.get("attributes") or {}
        meta = attributes.get("meta") or {}
        body = attributes.get("body")
        return cls(
            id=resource["id"],
            conversation_id=_relationship_id(resource, "conversation"),
            customer_id=_relationship_id(resource, "customer"),
            direction=attributes.get("direction") or "",
            channel=attributes.get("channel") or "",
            preview=attributes.get("preview") or "",
            body=body if isinstance(body, str) else None,
            subject=(meta.get("subject") or "") if isinstance(meta, dict) else "",
            sent_at=_parse_time(attributes.get("sentAt")),
            automated=bool(attributes.get("auto")),
        )


@dataclass(frozen=True)
class Note:
    id: str
    body: str
    external_id: str

    @classmethod
    def from_resource(cls, resource: dict) -> "Note":
        attributes = resource.get("attributes") or {}
        return cls(
            id=resource["id"],
            body=attributes.get("body") or "",
            external_id=attributes.get("externalId") or "",
        )


@dataclass(frozen=True)
class KObject:
    id: str
    klass: str
    title: str
    external_id: str
    custom: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_resource(cls, resource: dict, *, klass: str) -> "KObject":
        attributes = resource.get("attributes") or {}
        return cls(
            id=resource["id"],
            klass=klass,
            title=attributes.get("title") or "",
            external_id=attributes.get("externalId") or "",
            custom=dict(attributes.get("custom") or {}),
        )


@dataclass(frozen=True)
class Klass:
    id: str
    name: str
    display_name: str

    @classmethod
    def from_resource(cls, resource: dict) -> "Klass":
        attributes = resource.get("attributes") or {}
        return cls(
            id=resource["id"],
            name=attributes.get("name") or "",
            display_name=attributes.get("displayName") or "",
        )


@dataclass(frozen=True)
class Shortcut:
    id: str
    name: str
    text: str

    @classmethod
    def from_resource(cls, resource: dict) -> "Shortcut":
        attributes = resource.get("attributes") or {}
        draft = attributes.get("draft") or {}
        return cls(
            id=resource["id"],
            name=attributes.get("name") or "",
            text=(draft.get("text") or "") if isinstance(draft, dict) else "",
        )


@dataclass(frozen=True)
class User:
    id: str
    name: str
    email: str
    roles: tuple[str, ...] = ()
    org_id: str = ""

    @classmethod
    def from_resource(cls, resource: dict) -> "User":
        attributes = resource.get("attributes") or {}
        return cls(
            id=resource["id"],
            name=attributes.get("displayName") or attributes.get("name") or "",
            email=attributes.get("email") or "",
            roles=tuple(role for role in attributes.get("roles") or [] if isinstance(role, str)),
            org_id=_relationship_id(resource, "org"),
        )


@dataclass(frozen=True)
class Draft:
    """What an agent's reply box holds before they press send."""

    id: str
    customer_id: str
    conversation_id: str
    channel: str
    body: str
    status: str

    @classmethod
    def from_resource(cls, resource: dict) -> "Draft":
        attributes = resource.get("attributes") or {}
        return cls(
            id=resource["id"],
            customer_id=_relationship_id(resource, "customer"),
            conversation_id=_relationship_id(resource, "conversation"),
            channel=attributes.get("channel") or "",
            body=attributes.get("body") or "",
            status=attributes.get("status") or "",
        )


@dataclass(frozen=True)
class OutboundWebhook:
    id: str
    name: str
    url: str
    events: list[str]
    token: str

    @classmethod
    def from_resource(cls, resource: dict) -> "OutboundWebhook":
        attributes = resource.get("attributes") or {}
        return cls(
            id=resource["id"],
            name=attributes.get("name") or "",
            url=attributes.get("url") or "",
            events=list(attributes.get("events") or []),
            token=attributes.get("token") or resource.get("token") or "",
        )


def _error_text(response: httpx.Response) -> str:
    """Kustomer's `errors` array as one sentence (falls back to the status line)."""
    try:
        errors = response.json().get("errors") or []
    except ValueError:
        errors = []
    parts = []
    for error in errors if isinstance(errors, list) else []:
        if isinstance(error, dict):
            parts.append(error.get("detail") or error.get("title") or error.get("code") or "")
    text = "; ".join(part for part in parts if part)
    return text or f"{response.status_code} {response.reason_phrase}"


def reset_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """`x-ratelimit-reset` as seconds to wait, whether it holds seconds or an epoch time."""
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if number > _EPOCH_THRESHOLD:
        return max(0.0, number - (now if now is not None else time.time()))
    return max(0.0, number)


def is_duplicate(error: PermanentError) -> bool:
    """Kustomer's answer to a create whose `externalId` is taken: an earlier attempt wrote it."""
    text = str(error).lower()
    return error.status in (400, 409) and ("duplicate" in text or "already exists" in text)


class KustomerClient:
    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        rate_limiter: RateLimiter,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.rate_limiter = rate_limiter
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={
                "Authorization": f"Bearer {api_key}",
                "Accept": "application/json",
                "User-Agent": "kustomer-copilot/0.1",
            },
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            verify=tls_context(),
            transport=transport,
        )

    @classmethod
    def from_settings(cls) -> "KustomerClient":
        """The client for this deployment's Kustomer org (`KUSTOMER_*` settings)."""
        from django.conf import settings

        if not settings.KUSTOMER_API_BASE_URL or not settings.KUSTOMER_API_KEY:
            raise PermanentError(
                "Kustomer is not configured: set KUSTOMER_API_BASE_URL and KUSTOMER_API_KEY."
            )
        return cls(
            base_url=settings.KUSTOMER_API_BASE_URL,
            api_key=settings.KUSTOMER_API_KEY,
            rate_limiter=shared_rate_limiter(
                "kustomer",
                Limits(
                    per_window=settings.KUSTOMER_RATE_LIMIT_PER_MINUTE,
                    per_customer=settings.KUSTOMER_CUSTOMER_CREATES_PER_MINUTE,
                    window_seconds=60.0 + WINDOW_MARGIN_SECONDS,
                ),
            ),
            timeout=settings.KUSTOMER_TIMEOUT_SECONDS,
        )

    @classmethod
    def for_agent(
        cls,
        access_token: str,
        *,
        base_url: str | None = None,
        rate_limiter: RateLimiter | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> "KustomerClient":
        """A client acting as the agent whose OAuth access token this is, not as the API key.

        Its requests count against the same org-wide limit as every other (Kustomer counts all
        credentials of the org together), so it shares the deployment's limiter. A token that
        has expired or was revoked makes calls raise `PermanentError` with status 401.
        """
        from django.conf import settings

        base_url = base_url or settings.KUSTOMER_API_BASE_URL
        if not base_url:
            raise PermanentError("Kustomer is not configured: set KUSTOMER_API_BASE_URL.")
        if rate_limiter is None:
            rate_limiter = shared_rate_limiter(
                "kustomer",
                Limits(
                    per_window=settings.KUSTOMER_RATE_LIMIT_PER_MINUTE,
                    per_customer=settings.KUSTOMER_CUSTOMER_CREATES_PER_MINUTE,
                    window_seconds=60.0 + WINDOW_MARGIN_SECONDS,
                ),
            )
        return cls(
            base_url=base_url,
            api_key=access_token,
            rate_limiter=rate_limiter,
            timeout=settings.KUSTOMER_TIMEOUT_SECONDS,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "KustomerClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- plumbing -----------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict | None = None,
        customer_id: str | None = None,
        missing_ok: bool = False,
    ) -> dict | None:
        """One API call. `customer_id` marks a create that counts against that customer's limit."""
        wait = self.rate_limiter.acquire(customer_id=customer_id)
        if wait > 0:
            raise RateLimited(
                f"Kustomer's rate limit is spent; the next slot frees in {wait:.1f} s.",
                retry_after=wait,
                status=None,
            )
        started = time.perf_counter()
        try:
            response = self._http.request(method, path, json=json, params=params)
        except httpx.TimeoutException as error:
            raise TransientError(
                f"Kustomer did not answer {method} {path} in time: {error}"
            ) from error
        except httpx.TransportError as error:
            raise TransientError(
                f"Could not reach Kustomer for {method} {path}: {error}"
            ) from error
        elapsed_ms = (time.perf_counter() - started) * 1000
        remaining = response.headers.get("x-ratelimit-remaining")
        logger.info(
            "kustomer %s %s %s %.0fms remaining=%s",
            method,
            path.split("?")[0],
            response.status_code,
            elapsed_ms,
            remaining,
        )
        self._note_rate_limit(response)

        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code == 429:
            wait = (
                reset_seconds(response.headers.get("x-ratelimit-object-reset"))
                or reset_seconds(response.headers.get("retry-after"))
                or reset_seconds(response.headers.get("x-ratelimit-reset"))
                or 1.0
            )
            raise RateLimited(
                f"Kustomer rate limited {method} {path}: {_error_text(response)}", retry_after=wait
            )
        if response.status_code >= 500:
            raise TransientError(
                f"Kustomer failed {method} {path}: {_error_text(response)}",
                status=response.status_code,
            )
        if response.status_code >= 400:
            raise PermanentError(
                f"Kustomer refused {method} {path}: {_error_text(response)}",
                status=response.status_code,
            )
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError as error:
            raise TransientError(f"Kustomer sent a body that is not JSON: {error}") from None

    def _note_rate_limit(self, response: httpx.Response) -> None:
        """Kustomer's own count wins over ours: when it says 0 left, every process waits.

        A 429 for one customer's (or object's) limit holds only that customer, which our own
        per-customer window already does; it must not stop writes for everyone else.
        """
        remaining = response.headers.get("x-ratelimit-remaining")
        object_limited = "x-ratelimit-object-reset" in response.headers
        if (response.status_code == 429 and not object_limited) or remaining == "0":
            wait = reset_seconds(response.headers.get("x-ratelimit-reset"))
            try:
                self.rate_limiter.block_for(wait if wait is not None else 1.0)
            except LimiterUnavailable:
                # The request has gone and its answer is what matters now; our next acquire
                # waits for the limiter's Redis anyway.
                logger.warning("could not share Kustomer's rate-limit reset: Redis unreachable")

    @staticmethod
    def _data(payload: dict | None) -> dict:
        if not payload or not isinstance(payload.get("data"), dict):
            raise IntegrationError("Kustomer answered without a `data` object.")
        return payload["data"]

    # --- customers and conversations ----------------------------------------------------------

    def get_customer(self, customer_id: str) -> Customer | None:
        payload = self._request("GET", f"/v1/customers/{quote(customer_id)}", missing_ok=True)
        return Customer.from_resource(self._data(payload)) if payload is not None else None

    def find_customer_by_email(self, email: str) -> Customer | None:
        path = f"/v1/customers/email={quote(email, safe='@')}"
        payload = self._request("GET", path, missing_ok=True)
        return Customer.from_resource(self._data(payload)) if payload is not None else None

    def get_conversation(self, conversation_id: str) -> Conversation | None:
        path = f"/v1/conversations/{quote(conversation_id)}"
        payload = self._request("GET", path, missing_ok=True)
        return Conversation.from_resource(self._data(payload)) if payload is not None else None

    def _pages(self, path: str, *, page_size: int = 100) -> Iterator[dict]:
        """Every resource of a list, following `links.next` until it is null."""
        next_path: str | None = path
        params: dict | None = {"page": 1, "pageSize": page_size}
        while next_path:
            payload = self._request("GET", next_path, params=params) or {}
            yield from payload.get("data") or []
            next_path = (payload.get("links") or {}).get("next")
            params = None  # the next link carries its own query string

    def iter_messages(self, conversation_id: str, *, page_size: int = 100) -> Iterator[Message]:
        """Every message of a conversation, page by page."""
        path = f"/v1/conversations/{quote(conversation_id)}/messages"
        for resource in self._pages(path, page_size=page_size):
            yield Message.from_resource(resource)

    def add_conversation_tags(self, conversation_id: str, tags: list[str]) -> None:
        self._request("POST", f"/v1/conversations/{quote(conversation_id)}/tags", json=tags)

    # --- notes, klasses and KObjects ----------------------------------------------------------

    def create_note(
        self, conversation_id: str, *, body: str, external_id: str, customer_id: str | None = None
    ) -> Note:
        """An internal note on the conversation (body 1 to 10,240 characters).

        Pass the conversation's `customer_id` so the note counts against that customer's create
        limit in our limiter too, before Kustomer has to refuse it.
        """
        payload = self._request(
            "POST",
            f"/v1/conversations/{quote(conversation_id)}/notes",
            json={"body": body, "externalId": external_id},
            customer_id=customer_id,
        )
        return Note.from_resource(self._data(payload))

    def write_note(
        self, conversation_id: str, *, body: str, external_id: str, customer_id: str | None = None
    ) -> str:
        """Writes an internal note once per `external_id`; returns its id, or "" when an earlier
        attempt already wrote it (Kustomer refuses the externalId as a duplicate).

        The one way the copilot writes notes (intent notes and order-action notes alike), so a
        retried write is never doubled. `RateLimited`, other transient and permanent errors are
        raised as `create_note` raises them.
        """
        try:
            return self.create_note(
                conversation_id, body=body, external_id=external_id, customer_id=customer_id
            ).id
        except PermanentError as error:
            if is_duplicate(error):
                return ""
            raise

    def create_kobject(
        self,
        customer_id: str,
        klass: str,
        *,
        title: str,
        external_id: str,
        custom: dict[str, Any],
        description: str = "",
    ) -> KObject:
        body = {"title": title, "externalId": external_id, "custom": custom}
        if description:
            body["description"] = description
        payload = self._request(
            "POST",
            f"/v1/customers/{quote(customer_id)}/klasses/{quote(klass)}",
            json=body,
            customer_id=customer_id,
        )
        return KObject.from_resource(self._data(payload), klass=klass)

    def find_kobject(self, klass: str, external_id: str) -> KObject | None:
        path = f"/v1/klasses/{quote(klass)}/externalId={quote(external_id)}"
        payload = self._request("GET", path, missing_ok=True)
        return KObject.from_resource(self._data(payload), klass=klass) if payload else None

    def update_kobject(
        self, klass: str, kobject_id: str, *, title: str, custom: dict[str, Any]
    ) -> KObject:
        payload = self._request(
            "PUT",
            f"/v1/klasses/{quote(klass)}/{quote(kobject_id)}",
            json={"title": title, "custom": custom},
        )
        return KObject.from_resource(self._data(payload), klass=klass)

    def list_klasses(self) -> list[Klass]:
        return [Klass.from_resource(resource) for resource in self._pages("/v1/klasses")]

    def create_klass(self, name: str, *, display_name: str, icon: str, color: str) -> Klass:
        payload = self._request(
            "POST",
            "/v1/klasses",
            json={"name": name, "displayName": display_name, "icon": icon, "color": color},
        )
        return Klass.from_resource(self._data(payload))

    # --- shortcuts, users, webhooks -----------------------------------------------------------

    def list_shortcuts(self) -> list[Shortcut]:
        return [Shortcut.from_resource(resource) for resource in self._pages("/v1/shortcuts")]

    def current_user(self) -> User:
        return User.from_resource(self._data(self._request("GET", "/v1/users/current")))

    def list_outbound_webhooks(self) -> list[OutboundWebhook]:
        return [
            OutboundWebhook.from_resource(resource)
            for resource in self._pages("/v1/outbound-webhooks")
        ]

    def create_outbound_webhook(
        self, *, name: str, url: str, events: list[str], headers: list[dict] | None = None
    ) -> OutboundWebhook:
        payload = self._request(
            "POST",
            "/v1/outbound-webhooks",
            json={"name": name, "url": url, "events": events, "headers": headers or []},
        )
        return OutboundWebhook.from_resource(self._data(payload))

    # --- drafts (the agent's reply box) -------------------------------------------------------

    def create_draft(
        self, customer_id: str, *, conversation_id: str, channel: str, body: str
    ) -> Draft:
        """Puts `body` in the conversation's reply box for `channel` (e.g. "email", "chat").

        A conversation holds one draft per channel: when it has one already Kustomer refuses
        with 400, and that draft is to be changed with `update_draft`. Kustomer allows 120
        drafts per customer per minute, a limit of its own: our limiter's per-customer window
        counts other creates, so a 429 here comes from Kustomer as `RateLimited`.
        """
        payload = self._request(
            "POST",
            f"/v1/customers/{quote(customer_id)}/drafts",
            json={"conversation": conversation_id, "channel": channel, "body": body},
        )
        return Draft.from_resource(self._data(payload))

    def update_draft(self, draft_id: str, *, body: str) -> Draft:
        payload = self._request("PUT", f"/v1/drafts/{quote(draft_id)}", json={"body": body})
        return Draft.from_resource(self._data(payload))

    def list_drafts(self, customer_id: str) -> list[Draft]:
        """Every draft of the customer, across conversations (role `org.user.draft.read`)."""
        path = f"/v1/customers/{quote(customer_id)}/drafts"
        return [Draft.from_resource(resource) for resource in self._pages(path)]
