"""Request bodies and query parameters checked as Kustomer checks them, 400 on the first fault.

Unknown attributes are refused (Kustomer's schemas do not allow additional properties), so a
client that sends a misspelt field finds out here rather than in production.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import QueryDict

from . import conf
from .errors import ApiError, invalid

NOTE_BODY_MAX = 10_240
CUSTOM_TEXT_MAX = 1_024
EXTERNAL_ID_MAX = 255
PAGE_SIZE_DEFAULT = 10
PAGE_SIZE_MAX = 100
WEBHOOK_EVENTS_MAX = 12

CUSTOM_NAME = re.compile(r"^[a-z][A-Za-z0-9]*(Num|At|Str|Txt|Bool|Url)$")
KLASS_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
WEBHOOK_EVENT = re.compile(r"^kustomer(\.[a-z][a-z0-9_-]*)+\.(create|update|delete)$")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object", pointer="/data")
    return body


def _only(body: dict[str, Any], allowed: set[str]) -> None:
    for name in body:
        if name not in allowed:
            raise invalid(f"{name} is not an allowed attribute", field_path=name)


def _string(
    body: dict[str, Any],
    name: str,
    *,
    required: bool = False,
    min_length: int = 0,
    max_length: int | None = None,
) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise invalid(f"{name} is required", field_path=name)
        return None
    if not isinstance(value, str):
        raise invalid(f"{name} must be a string", field_path=name)
    if len(value) < min_length:
        raise invalid(f"{name} must be at least {min_length} characters", field_path=name)
    if max_length is not None and len(value) > max_length:
        raise invalid(f"{name} must be at most {max_length} characters", field_path=name)
    return value


def _string_list(body: dict[str, Any], name: str) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise invalid(f"{name} must be an array of non-empty strings", field_path=name)
    return value


def _dict(body: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid(f"{name} must be an object", field_path=name)
    return value


def parse_date(value: Any, *, field_path: str) -> datetime:
    """An ISO 8601 date-time with a time zone (`Z` or an offset)."""
    if not isinstance(value, str):
        raise invalid(f"{field_path} must be an ISO 8601 date string", field_path=field_path)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(f"{field_path} must be an ISO 8601 date", field_path=field_path) from None
    if moment.tzinfo is None:
        raise invalid(f"{field_path} needs a time zone (e.g. Z)", field_path=field_path)
    return moment.astimezone(UTC)


def _optional_date(body: dict[str, Any], name: str) -> datetime | None:
    value = body.get(name)
    return None if value is None else parse_date(value, field_path=name)


def _external_id(body: dict[str, Any]) -> str | None:
    return _string(body, "externalId", min_length=1, max_length=EXTERNAL_ID_MAX)


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def custom_attributes(value: Any, *, field_path: str = "custom") -> dict[str, Any]:
    """Custom attributes: each name ends in its type (`Num`, `At`, `Str`, `Txt`, `Bool`, `Url`)."""
    if not isinstance(value, dict):
        raise invalid(f"{field_path} must be an object", field_path=field_path)
    for name, item in value.items():
        path = f"{field_path}/{name}"
        match = CUSTOM_NAME.match(name)
        if not match:
            raise invalid(
                f"Custom attribute {name} must be camelCase and end in Num, At, Str, Txt, Bool "
                "or Url",
                field_path=path,
            )
        if item is None:
            continue
        suffix = match.group(1)
        if suffix == "Num":
            if isinstance(item, bool) or not isinstance(item, int | float):
                raise invalid(f"{name} must be a number", field_path=path)
        elif suffix == "At":
            parse_date(item, field_path=path)
        elif suffix in {"Str", "Txt"}:
            if not isinstance(item, str):
                raise invalid(f"{name} must be a string", field_path=path)
            if len(item) > CUSTOM_TEXT_MAX:
                raise invalid(
                    f"{name} must be at most {CUSTOM_TEXT_MAX} characters", field_path=path
                )
        elif suffix == "Bool":
            if not isinstance(item, bool):
                raise invalid(f"{name} must be a boolean", field_path=path)
        elif suffix == "Url" and (not isinstance(item, str) or not _is_url(item)):
            raise invalid(f"{name} must be an http(s) URL", field_path=path)
    return value


@dataclass(frozen=True)
class NoteInput:
    body: str
    external_id: str
    user_mentions: list[Any]
    imported_at: datetime | None


def note_input(raw: Any) -> NoteInput:
    body = _object(raw)
    _only(body, {"body", "externalId", "userMentions", "importedAt"})
    text = _string(body, "body", required=True, min_length=1, max_length=NOTE_BODY_MAX)
    mentions = body.get("userMentions")
    if mentions is not None and not isinstance(mentions, list):
        raise invalid("userMentions must be an array", field_path="userMentions")
    return NoteInput(
        body=text or "",
        external_id=_external_id(body) or "",
        user_mentions=mentions or [],
        imported_at=_optional_date(body, "importedAt"),
    )


KOBJECT_FIELDS = {
    "title": "title",
    "externalId": "external_id",
    "description": "description",
    "icon": "icon",
    "data": "data",
    "custom": "custom",
    "tags": "tags",
    "importedAt": "imported_at",
}


def kobject_input(raw: Any, *, creating: bool) -> dict[str, Any]:
    """The KObject fields given, by model field name (all optional on update but `title`)."""
    body = _object(raw)
    _only(body, set(KOBJECT_FIELDS))
    fields: dict[str, Any] = {}
    title = _string(body, "title", required=creating, min_length=1, max_length=1024)
    if "title" in body:
        fields["title"] = title or ""
    if "externalId" in body:
        fields["external_id"] = _external_id(body) or ""
    for name in ("description", "icon"):
        if name in body:
            fields[name] = _string(body, name) or ""
    if "data" in body:
        fields["data"] = _dict(body, "data") or {}
    if "custom" in body:
        fields["custom"] = custom_attributes(body["custom"]) if body["custom"] is not None else {}
    if "tags" in body:
        fields["tags"] = _string_list(body, "tags") or []
    if "importedAt" in body:
        fields["imported_at"] = _optional_date(body, "importedAt")
    return fields


@dataclass(frozen=True)
class KlassInput:
    name: str
    display_name: str
    icon: str
    color: str
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


def klass_input(raw: Any) -> KlassInput:
    body = _object(raw)
    _only(body, {"name", "displayName", "icon", "color", "description", "metadata"})
    name = _string(body, "name", required=True) or ""
    if not KLASS_NAME.match(name):
        raise invalid(
            "name may only contain letters, digits, underscores and hyphens (1 to 100)",
            field_path="name",
        )
    return KlassInput(
        name=name,
        display_name=_string(body, "displayName", max_length=200) or name,
        icon=_string(body, "icon", max_length=100) or "",
        color=_string(body, "color", max_length=20) or "",
        description=_string(body, "description") or "",
        metadata=_dict(body, "metadata") or {},
    )


CONVERSATION_STATUSES = ("open", "snoozed", "done")


def conversation_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The updatable conversation attributes present in `body`, by model field name."""
    fields: dict[str, Any] = {}
    if "name" in body:
        fields["name"] = _string(body, "name", max_length=500) or ""
    if "status" in body:
        status = body["status"]
        if status not in CONVERSATION_STATUSES:
            raise invalid(
                f"status must be one of {', '.join(CONVERSATION_STATUSES)}", field_path="status"
            )
        fields["status"] = status
    if "priority" in body:
        priority = body["priority"]
        if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 5:
            raise invalid("priority must be an integer from 1 to 5", field_path="priority")
        fields["priority"] = priority
    if "tags" in body:
        fields["tags"] = list(dict.fromkeys(_string_list(body, "tags") or []))
    if "custom" in body:
        fields["custom"] = custom_attributes(body["custom"]) if body["custom"] is not None else {}
    return fields


def conversation_update_input(raw: Any) -> dict[str, Any]:
    body = _object(raw)
    _only(body, {"name", "status", "priority", "tags", "custom"})
    return conversation_fields(body)


@dataclass(frozen=True)
class ConversationCreateInput:
    customer_id: str
    fields: dict[str, Any]
    imported_at: datetime | None


def conversation_create_input(raw: Any) -> ConversationCreateInput:
    body = _object(raw)
    _only(body, {"customer", "name", "status", "priority", "tags", "custom", "importedAt"})
    customer_id = _string(body, "customer", required=True, min_length=1) or ""
    return ConversationCreateInput(
        customer_id=customer_id,
        fields=conversation_fields(body),
        imported_at=_optional_date(body, "importedAt"),
    )


def tags_input(raw: Any) -> list[str]:
    """Tag names: the body is a JSON array of names (`{"tags": [...]}` is accepted too)."""
    if isinstance(raw, dict):
        _only(raw, {"tags"})
        raw = raw.get("tags")
    if not isinstance(raw, list) or not raw or not all(isinstance(t, str) and t for t in raw):
        raise ApiError(400, "The body must be a non-empty array of tag names", pointer="/data")
    return list(dict.fromkeys(raw))


@dataclass(frozen=True)
class MessageInput:
    channel: str
    direction: str
    body: str
    preview: str
    app: str
    meta: dict[str, Any]
    sent_at: datetime | None
    auto: bool
    imported_at: datetime | None


def message_input(raw: Any) -> MessageInput:
    body = _object(raw)
    _only(
        body,
        {"channel", "app", "direction", "body", "preview", "meta", "sentAt", "auto", "importedAt"},
    )
    channel = _string(body, "channel", required=True, min_length=1, max_length=50) or ""
    direction = body.get("direction")
    if direction not in ("in", "out"):
        raise invalid("direction must be in or out", field_path="direction")
    text = _string(body, "body") or ""
    preview = _string(body, "preview") or ""
    if not text and not preview:
        raise invalid("body or preview is required", field_path="body")
    auto = body.get("auto", False)
    if not isinstance(auto, bool):
        raise invalid("auto must be a boolean", field_path="auto")
    return MessageInput(
        channel=channel,
        direction=direction,
        body=text or preview,
        preview=preview,
        app=_string(body, "app", max_length=50) or "",
        meta=_dict(body, "meta") or {},
        sent_at=_optional_date(body, "sentAt"),
        auto=auto,
        imported_at=_optional_date(body, "importedAt"),
    )


@dataclass(frozen=True)
class WebhookInput:
    name: str
    url: str
    events: list[str]
    headers: list[dict[str, str]]
    description: str
    enabled: bool


def webhook_url_allowed(url: str) -> bool:
    """https only; plain http to this machine too when SANDBOX_KUSTOMER_ALLOW_HTTP_WEBHOOKS."""
    parts = urlsplit(url)
    if not parts.netloc or not parts.hostname:
        return False
    if parts.scheme == "https":
        return True
    return (
        parts.scheme == "http"
        and settings.SANDBOX_KUSTOMER_ALLOW_HTTP_WEBHOOKS
        and parts.hostname in LOCAL_HOSTS
    )


def outbound_webhook_input(raw: Any) -> WebhookInput:
    body = _object(raw)
    _only(body, {"name", "url", "events", "headers", "description", "enabled"})
    name = _string(body, "name", required=True, min_length=1, max_length=200) or ""
    url = _string(body, "url", required=True, min_length=1, max_length=2000) or ""
    if not webhook_url_allowed(url):
        raise invalid("url must be an https URL", field_path="url")
    events = _string_list(body, "events")
    if not events:
        raise invalid("events must list at least one event", field_path="events")
    if len(events) > WEBHOOK_EVENTS_MAX:
        raise invalid(f"events may list at most {WEBHOOK_EVENTS_MAX} events", field_path="events")
    for event in events:
        if not WEBHOOK_EVENT.match(event):
            raise invalid(f"{event} is not a Kustomer event name", field_path="events")
    headers = body.get("headers") or []
    if not isinstance(headers, list) or not all(
        isinstance(header, dict)
        and set(header) == {"name", "value"}
        and all(isinstance(header[key], str) and header[key] for key in ("name", "value"))
        for header in headers
    ):
        raise invalid(
            'headers must be an array of {"name": ..., "value": ...} strings',
            field_path="headers",
        )
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise invalid("enabled must be a boolean", field_path="enabled")
    return WebhookInput(
        name=name,
        url=url,
        events=list(dict.fromkeys(events)),
        headers=headers,
        description=_string(body, "description") or "",
        enabled=enabled,
    )


@dataclass(frozen=True)
class PageParams:
    page: int
    page_size: int


def _positive_int(query: QueryDict, name: str, default: int) -> int:
    text = query.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer", parameter=name) from None
    if value < 1:
        raise ApiError(400, f"{name} must be at least 1", parameter=name)
    return value


def page_params(query: QueryDict) -> PageParams:
    page_size = _positive_int(query, "pageSize", PAGE_SIZE_DEFAULT)
    if page_size > PAGE_SIZE_MAX:
        raise ApiError(400, f"pageSize must be at most {PAGE_SIZE_MAX}", parameter="pageSize")
    return PageParams(page=_positive_int(query, "page", 1), page_size=page_size)


# --- drafts -------------------------------------------------------------------------------------

DRAFT_CHANNELS = (
    "email",
    "sms",
    "chat",
    "whatsapp",
    "facebook",
    "instagram",
    "twitter-dm",
    "twitter-tweet",
    "note",
)
DRAFT_BODY_MAX = 10_240
DRAFT_BODY_MAX_BY_CHANNEL = {"twitter-tweet": 280}
EMAIL_ONLY_FIELDS = ("cc", "bcc", "subject")
EMAIL_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _addresses(body: dict[str, Any], name: str, *, channel: str) -> list[str] | None:
    """`to`/`cc`/`bcc`: one string or an array of strings; email addresses on email drafts."""
    value = body.get(name)
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) and item for item in items):
        raise invalid(f"{name} must be a string or an array of strings", field_path=name)
    if channel == "email":
        for item in items:
            if not EMAIL_ADDRESS.match(item):
                raise invalid(f"{item} in {name} is not an email address", field_path=name)
    return items


def _draft_body(body: dict[str, Any], *, channel: str, required: bool) -> str | None:
    limit = DRAFT_BODY_MAX_BY_CHANNEL.get(channel, DRAFT_BODY_MAX)
    return _string(body, "body", required=required, min_length=1, max_length=limit)


def _draft_fields(body: dict[str, Any], *, channel: str) -> dict[str, Any]:
    """The addressing fields given, by service argument name."""
    if channel != "email":
        for name in EMAIL_ONLY_FIELDS:
            if name in body:
                raise invalid(f"{name} is only for email drafts", field_path=name)
    fields: dict[str, Any] = {}
    for name in ("to", "cc", "bcc"):
        addresses = _addresses(body, name, channel=channel)
        if addresses is not None:
            fields[name] = addresses
    if body.get("from") is not None:
        sender = _string(body, "from", min_length=1, max_length=254) or ""
        if channel == "email" and not EMAIL_ADDRESS.match(sender):
            raise invalid("from must be an email address", field_path="from")
        fields["sender"] = sender
    if body.get("subject") is not None:
        fields["subject"] = _string(body, "subject", max_length=1000) or ""
    return fields


def _future_date(value: Any, *, field_path: str) -> datetime:
    moment = parse_date(value, field_path=field_path)
    if moment <= datetime.now(UTC):
        raise invalid(f"{field_path} must be in the future", field_path=field_path)
    return moment


@dataclass(frozen=True)
class DraftInput:
    conversation_id: str | None
    channel: str
    body: str
    send_at: datetime | None
    fields: dict[str, Any]


def draft_input(raw: Any) -> DraftInput:
    """A new draft. `sendAt` schedules it only with `"scheduled": true` (else Kustomer ignores
    it and the draft is created as a plain draft)."""
    body = _object(raw)
    _only(
        body,
        {
            "conversation",
            "channel",
            "body",
            "to",
            "from",
            "cc",
            "bcc",
            "subject",
            "sendAt",
            "scheduled",
        },
    )
    channel = _string(body, "channel", required=True) or ""
    if channel not in DRAFT_CHANNELS:
        raise invalid(f"channel must be one of {', '.join(DRAFT_CHANNELS)}", field_path="channel")
    scheduled = body.get("scheduled", False)
    if not isinstance(scheduled, bool):
        raise invalid("scheduled must be a boolean", field_path="scheduled")
    send_at = None
    if scheduled:
        if body.get("sendAt") is None:
            raise invalid("sendAt is required for a scheduled draft", field_path="sendAt")
        send_at = _future_date(body["sendAt"], field_path="sendAt")
    elif body.get("sendAt") is not None:
        parse_date(body["sendAt"], field_path="sendAt")
    return DraftInput(
        conversation_id=_string(body, "conversation", min_length=1),
        channel=channel,
        body=_draft_body(body, channel=channel, required=True) or "",
        send_at=send_at,
        fields=_draft_fields(body, channel=channel),
    )


def draft_update_input(raw: Any, *, channel: str) -> dict[str, Any]:
    """The fields of a draft to replace, by model field name. `sendAt` set to a date schedules
    the draft, set to null or "" unschedules it, left out leaves its status alone. The channel
    and the conversation cannot change."""
    body = _object(raw)
    _only(body, {"body", "to", "from", "cc", "bcc", "subject", "sendAt"})
    fields = _draft_fields(body, channel=channel)
    if "body" in body:
        fields["body"] = _draft_body(body, channel=channel, required=True)
    if "sendAt" in body:
        value = body["sendAt"]
        scheduled = value not in (None, "")
        fields["send_at"] = _future_date(value, field_path="sendAt") if scheduled else None
    return fields


# --- apps ---------------------------------------------------------------------------------------

# The top-level keys of an app definition; Kustomer rejects any other.
APP_DEFINITION_KEYS = {
    "app",
    "version",
    "title",
    "description",
    "iconUrl",
    "visibility",
    "dependencies",
    "appDetails",
    "tags",
    "screenshots",
    "settings",
    "auth",
    "klasses",
    "kviews",
    "widgets",
    "hooks",
    "triggers",
    "actions",
    "workflows",
    "commands",
    "outboundWebhooks",
    "redirectUris",
    "i18n",
    "changelog",
}
APP_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
APP_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


def redirect_uri_allowed(uri: str) -> bool:
    """An absolute https URI without a fragment (RFC 6749 §3.1.2); plain http only to this
    machine, when SANDBOX_KUSTOMER_ALLOW_HTTP_REDIRECT_URIS allows it (the demo)."""
    parts = urlsplit(uri)
    if not parts.netloc or not parts.hostname or parts.fragment or "#" in uri:
        return False
    if parts.scheme == "https":
        return True
    return (
        parts.scheme == "http" and conf.allow_http_redirect_uris() and parts.hostname in LOCAL_HOSTS
    )


@dataclass(frozen=True)
class AppInput:
    name: str
    version: str
    title: str
    redirect_uris: list[str]
    definition: dict[str, Any]


def app_definition_input(raw: Any) -> AppInput:
    body = _object(raw)
    _only(body, APP_DEFINITION_KEYS)
    name = _string(body, "app", required=True) or ""
    if not APP_NAME.match(name):
        raise invalid(
            "app must start with a lowercase letter and hold only lowercase letters, digits "
            "and underscores",
            field_path="app",
        )
    version = _string(body, "version", required=True) or ""
    if not APP_VERSION.match(version):
        raise invalid("version must be a semantic version such as 1.0.0", field_path="version")
    title = _string(body, "title", required=True, min_length=1, max_length=200) or ""
    redirect_uris = _string_list(body, "redirectUris") or []
    for uri in redirect_uris:
        if not redirect_uri_allowed(uri):
            raise invalid(
                f"{uri} is not an absolute https URI without a fragment",
                field_path="redirectUris",
            )
    return AppInput(
        name=name, version=version, title=title, redirect_uris=redirect_uris, definition=body
    )
