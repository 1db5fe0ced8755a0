"""A typed client for the parts of Kustomer's REST API the copilot uses.

Reference: https://developer.kustomer.com/kustomer-api-docs (facts we rely on are collected in
the project's docs). Every call goes through one shared rate limiter first; the client never
sleeps and never retries: it raises `RateLimited` with the wait, and background tasks retry.
"""

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from .http import IntegrationError, PermanentError, RateLimited, TransientError, tls_context
from .kustomer_resources import (
    Conversation,
    Customer,
    Draft,
    Klass,
    KObject,
    Message,
    Note,
    OutboundWebhook,
    SearchPage,
    Shortcut,
    User,
)
from .ratelimit import LimiterUnavailable, Limits, RateLimiter, ShareOfLimiter, shared_rate_limiter

# We count a request when it leaves, Kustomer when it arrives. Counting each one a second longer
# than Kustomer's minute keeps a slow request of the last window from landing in the next one
# (it cost 0.4 % of requests as 429s without it); it costs under 2 % of the throughput.
WINDOW_MARGIN_SECONDS = 1.0

logger = logging.getLogger(__name__)

# Kustomer's search answers at most this many pages of one query, and this many hits a page.
SEARCH_PAGES_MAX = 100
SEARCH_PAGE_SIZE_MAX = 500

# A reset value above this is an epoch time, below it a number of seconds to wait: Kustomer's
# documentation does not say which it sends, so both are accepted.
_EPOCH_THRESHOLD = 10**9


def _utc_iso(moment: datetime) -> str:
    """A UTC ISO date-time with milliseconds, as Kustomer's search takes and writes dates."""
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def _middle(start: datetime, end: datetime) -> datetime | None:
    """The whole millisecond halfway between, or None when the window cannot be split."""
    half = (end - start) / 2
    middle = start + timedelta(milliseconds=half // timedelta(milliseconds=1))
    return middle if start < middle < end else None


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
    def for_history_import(cls) -> "KustomerClient":
        """The client for importing past conversations (the training UI's preview and runs).

        Its requests take a slot in a window of their own, KUSTOMER_IMPORT_REQUESTS_PER_MINUTE
        wide, and then one in the org-wide window the live pipeline uses, so that an import
        never takes more than its share of the org's budget and the live pipeline keeps the rest.
        """
        from django.conf import settings

        client = cls.from_settings()
        client.rate_limiter = ShareOfLimiter(
            own=shared_rate_limiter(
                "kustomer-import",
                Limits(
                    per_window=settings.KUSTOMER_IMPORT_REQUESTS_PER_MINUTE,
                    per_customer=settings.KUSTOMER_CUSTOMER_CREATES_PER_MINUTE,
                    window_seconds=60.0 + WINDOW_MARGIN_SECONDS,
                ),
            ),
            shared=client.rate_limiter,
        )
        return client

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

    # --- search ---------------------------------------------------------------------------------

    def search_conversations_page(
        self,
        criteria: list[dict],
        *,
        page: int = 1,
        page_size: int = 100,
        ids_only: bool = False,
        time_zone: str | None = None,
        next_path: str | None = None,
    ) -> SearchPage:
        """One page of conversations matching `criteria` (each `{"<attribute>": {op: value}}`,
        e.g. `{"conversation_tags": {"in": ["refund-request"]}}`), oldest first.

        `POST /v1/customers/search` with `queryContext: "conversation"`: it needs a search role
        (`org.user.search.read`) and Kustomer allows API keys 100 searches a minute. Pass a
        previous page's `next_path` to read the page after it.
        """
        if not 1 <= page_size <= SEARCH_PAGE_SIZE_MAX:
            raise ValueError(f"page_size must be between 1 and {SEARCH_PAGE_SIZE_MAX}")
        body: dict[str, Any] = {
            "queryContext": "conversation",
            "and": criteria,
            "sort": [{"conversation_created_at": "asc"}],
        }
        if time_zone:
            body["timeZone"] = time_zone
        if next_path:
            payload = self._request("POST", next_path, json=body)
        else:
            params: dict[str, Any] = {"page": page, "pageSize": page_size}
            if ids_only:
                params["idsOnly"] = "true"
            payload = self._request("POST", "/v1/customers/search", json=body, params=params)
        payload = payload or {}
        meta = payload.get("meta") or {}
        return SearchPage(
            conversations=[
                Conversation.from_resource(resource) for resource in payload.get("data") or []
            ],
            total=int(meta.get("total") or 0),
            total_pages=int(meta.get("totalPages") or 0),
            next_path=(payload.get("links") or {}).get("next"),
        )

    def count_conversations(self, criteria: list[dict], *, time_zone: str | None = None) -> int:
        """How many conversations match, from one `idsOnly` search of one hit."""
        return self.search_conversations_page(
            criteria, page_size=1, ids_only=True, time_zone=time_zone
        ).total

    def search_conversations(
        self,
        *,
        created_from: datetime,
        created_to: datetime,
        criteria: list[dict] | None = None,
        page_size: int = 100,
    ) -> Iterator[Conversation]:
        """Every conversation created from `created_from` up to `created_to` (both included,
        timezone-aware) that matches `criteria`, oldest first.

        Kustomer stops paging a query at page 100: a window holding more than that is split in
        two halves by date, each read alone (and split again while needed), so nothing past the
        hundredth page is lost.
        """
        if created_from.tzinfo is None or created_to.tzinfo is None:
            raise ValueError("created_from and created_to must be timezone-aware")
        yield from self._search_window(
            start=created_from,
            end=created_to,
            end_included=True,
            criteria=list(criteria or []),
            page_size=page_size,
        )

    def _search_window(
        self,
        *,
        start: datetime,
        end: datetime,
        end_included: bool,
        criteria: list[dict],
        page_size: int,
    ) -> Iterator[Conversation]:
        window = [
            {"conversation_created_at": {"gte": _utc_iso(start)}},
            {"conversation_created_at": {("lte" if end_included else "lt"): _utc_iso(end)}},
        ]
        page = self.search_conversations_page([*window, *criteria], page_size=page_size)
        middle = _middle(start, end)
        if page.total_pages > SEARCH_PAGES_MAX and middle is not None:
            logger.info(
                "kustomer search: %s hits from %s to %s is more than %s pages; splitting",
                page.total,
                _utc_iso(start),
                _utc_iso(end),
                SEARCH_PAGES_MAX,
            )
            yield from self._search_window(
                start=start, end=middle, end_included=False, criteria=criteria, page_size=page_size
            )
            yield from self._search_window(
                start=middle,
                end=end,
                end_included=end_included,
                criteria=criteria,
                page_size=page_size,
            )
            return
        yield from page.conversations
        while page.next_path:
            page = self.search_conversations_page(
                [*window, *criteria], page_size=page_size, next_path=page.next_path
            )
            yield from page.conversations

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
