"""The Kustomer resources the copilot reads, typed: each built from the API's JSON:API resource
(`{"type", "id", "attributes", "relationships"}`) by its `from_resource`, leniently, since
Kustomer adds attributes over time and leaves many out."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


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
    custom: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None

    @classmethod
    def from_resource(cls, resource: dict) -> "Conversation":
        """A conversation, or a search hit with `idsOnly=true` (an id and nothing else)."""
        attributes = resource.get("attributes") or {}
        custom = attributes.get("custom")
        return cls(
            id=resource["id"],
            customer_id=_relationship_id(resource, "customer"),
            name=attributes.get("name") or "",
            status=attributes.get("status") or "",
            tags=[tag for tag in attributes.get("tags") or [] if isinstance(tag, str)],
            custom=dict(custom) if isinstance(custom, dict) else {},
            created_at=_parse_time(attributes.get("createdAt")),
        )


@dataclass(frozen=True)
class SearchPage:
    """One page of a search: its hits and how many match in all."""

    conversations: list[Conversation]
    total: int
    total_pages: int
    next_path: str | None


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
