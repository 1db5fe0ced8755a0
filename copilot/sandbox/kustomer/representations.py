"""Rows as Kustomer renders them: `{"type", "id", "attributes", "relationships", "links"}`.

Links are paths relative to the API host (`/v1/...`), as Kustomer sends them: a client must
resolve `links.next` against its base URL.
"""

import math
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import QuerySet

from .models import (
    ApiKey,
    App,
    Conversation,
    Customer,
    Draft,
    Klass,
    KObject,
    Message,
    Note,
    OutboundWebhook,
    Shortcut,
    User,
)

Json = dict[str, Any]


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with milliseconds and a `Z`, as Kustomer writes dates."""
    if moment is None:
        return None
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def relation(kind: str, object_id: str | None, *, link: str | None = None) -> Json:
    related: Json = {"data": {"type": kind, "id": object_id} if object_id else None}
    if link and object_id:
        related["links"] = {"self": link}
    return related


def resource(kind: str, object_id: str, attributes: Json, relationships: Json, link: str) -> Json:
    return {
        "type": kind,
        "id": object_id,
        "attributes": attributes,
        "relationships": relationships,
        "links": {"self": link},
    }


def _org(org_id: str) -> Json:
    return relation("org", org_id)


def customer(row: Customer) -> Json:
    first_name, _, last_name = row.name.partition(" ")
    return resource(
        "customer",
        row.id,
        {
            "name": row.name,
            "displayName": row.name,
            "firstName": first_name,
            "lastName": last_name,
            "emails": row.emails,
            "phones": [],
            "tags": [],
            "custom": {},
            "createdAt": iso(row.created_at),
            "updatedAt": iso(row.updated_at),
            "modifiedAt": iso(row.updated_at),
        },
        {"org": _org(row.org_id)},
        f"/v1/customers/{row.id}",
    )


def conversation(row: Conversation) -> Json:
    return resource(
        "conversation",
        row.id,
        {
            "name": row.name,
            "status": row.status,
            "priority": row.priority,
            "channels": row.channels,
            "tags": row.tags,
            "custom": row.custom,
            "preview": row.preview,
            "messageCount": row.message_count,
            "noteCount": row.note_count,
            "lastMessageAt": iso(row.last_message_at),
            "importedAt": iso(row.imported_at),
            "createdAt": iso(row.created_at),
            "updatedAt": iso(row.updated_at),
            "modifiedAt": iso(row.updated_at),
        },
        {
            "customer": relation(
                "customer", row.customer_id, link=f"/v1/customers/{row.customer_id}"
            ),
            "org": _org(row.org_id),
        },
        f"/v1/conversations/{row.id}",
    )


def conversation_id(row: Conversation) -> Json:
    """A search hit with `idsOnly=true`."""
    return {"type": "conversation", "id": row.id}


def message_attributes(row: Message) -> Json:
    return {
        "channel": row.channel,
        "app": row.app,
        "size": len(row.body.encode()),
        "direction": row.direction,
        "preview": row.preview,
        "meta": row.meta,
        "sentAt": iso(row.sent_at),
        "auto": row.auto,
        "sentiment": row.sentiment,
    }


def message_relationships(row: Message) -> Json:
    return {
        "customer": relation("customer", row.customer_id),
        "conversation": relation("conversation", row.conversation_id),
        "org": _org(row.org_id),
    }


def message(row: Message) -> Json:
    attributes = message_attributes(row)
    # Whether Kustomer sends the full body is unconfirmed (docs/sandbox.md): it can be turned off
    # so that the client is tested on `preview` alone.
    if settings.SANDBOX_KUSTOMER_MESSAGE_BODY:
        attributes["body"] = row.body
    attributes["importedAt"] = iso(row.imported_at)
    attributes["createdAt"] = iso(row.created_at)
    attributes["updatedAt"] = iso(row.created_at)
    relationships = message_relationships(row)
    relationships["conversation"]["links"] = {"self": f"/v1/conversations/{row.conversation_id}"}
    relationships["customer"]["links"] = {"self": f"/v1/customers/{row.customer_id}"}
    return resource("message", row.id, attributes, relationships, f"/v1/messages/{row.id}")


def note(row: Note) -> Json:
    return resource(
        "note",
        row.id,
        {
            "body": row.body,
            "externalId": row.external_id or None,
            "userMentions": row.user_mentions,
            "importedAt": iso(row.imported_at),
            "createdAt": iso(row.created_at),
            "updatedAt": iso(row.updated_at),
        },
        {
            "conversation": relation(
                "conversation",
                row.conversation_id,
                link=f"/v1/conversations/{row.conversation_id}",
            ),
            "customer": relation(
                "customer", row.customer_id, link=f"/v1/customers/{row.customer_id}"
            ),
            "createdBy": relation("user", row.created_by_user_id or None),
            "org": _org(row.org_id),
        },
        f"/v1/notes/{row.id}",
    )


def klass(row: Klass) -> Json:
    return resource(
        "klass",
        row.id,
        {
            "name": row.name,
            "displayName": row.display_name,
            "icon": row.icon or None,
            "color": row.color or None,
            "description": row.description or None,
            "metadata": row.metadata,
            "createdAt": iso(row.created_at),
            "updatedAt": iso(row.updated_at),
        },
        {"org": _org(row.org_id)},
        f"/v1/klasses/{row.id}",
    )


def kobject(row: KObject) -> Json:
    return resource(
        "kobject",
        row.id,
        {
            "title": row.title,
            "externalId": row.external_id or None,
            "description": row.description or None,
            "icon": row.icon or None,
            "data": row.data,
            "custom": row.custom,
            "tags": row.tags,
            "importedAt": iso(row.imported_at),
            "createdAt": iso(row.created_at),
            "updatedAt": iso(row.updated_at),
        },
        {
            "klass": relation("klass", row.klass_id),
            "customer": relation(
                "customer", row.customer_id, link=f"/v1/customers/{row.customer_id}"
            ),
            "org": _org(row.org_id),
        },
        f"/v1/klasses/{row.klass.name}/{row.id}",
    )


def shortcut(row: Shortcut) -> Json:
    return resource(
        "shortcut",
        row.id,
        {
            "name": row.name,
            "draft": {"text": row.text},
            "createdAt": iso(row.created_at),
            "updatedAt": iso(row.updated_at),
        },
        {"org": _org(row.org_id)},
        f"/v1/shortcuts/{row.id}",
    )


def user(key: ApiKey) -> Json:
    return resource(
        "user",
        key.user_id,
        {
            "name": key.user_name,
            "displayName": key.user_name,
            "email": key.user_email,
            "userType": "machine",
            "roles": key.roles,
            "createdAt": iso(key.created_at),
            "updatedAt": iso(key.created_at),
        },
        {"org": _org(key.org_id)},
        f"/v1/users/{key.user_id}",
    )


def person(row: User) -> Json:
    """A person of the org (as `GET /v1/users/current` shows a signed-in agent)."""
    return resource(
        "user",
        row.id,
        {
            "name": row.name,
            "displayName": row.name,
            "email": row.email,
            "userType": "user",
            "roles": row.roles,
            "createdAt": iso(row.created_at),
            "updatedAt": iso(row.created_at),
        },
        {"org": _org(row.org_id)},
        f"/v1/users/{row.id}",
    )


def draft(row: Draft) -> Json:
    return resource(
        "draft",
        row.id,
        {
            "channel": row.channel,
            "body": row.body,
            "status": row.status,
            "to": row.to,
            "from": row.sender or None,
            "cc": row.cc,
            "bcc": row.bcc,
            "subject": row.subject or None,
            "sendAt": iso(row.send_at),
            "createdAt": iso(row.created_at),
            "updatedAt": iso(row.updated_at),
        },
        {
            "customer": relation(
                "customer", row.customer_id, link=f"/v1/customers/{row.customer_id}"
            ),
            "conversation": relation(
                "conversation",
                row.conversation_id,
                link=f"/v1/conversations/{row.conversation_id}",
            ),
            "createdBy": relation("user", row.created_by_user_id or None),
            "org": _org(row.org_id),
        },
        f"/v1/drafts/{row.id}",
    )


def app(row: App, *, client_secret: str | None = None) -> Json:
    """A registered app; `clientSecret` only in the answer that minted it."""
    attributes = {
        "app": row.name,
        "version": row.version,
        "title": row.title,
        "visibility": row.definition.get("visibility", "private"),
        "redirectUris": row.redirect_uris,
        "clientId": row.client_id,
        "installed": row.installed,
        "createdAt": iso(row.created_at),
        "updatedAt": iso(row.updated_at),
    }
    if client_secret is not None:
        attributes["clientSecret"] = client_secret
    app_id = f"{row.name}-{row.version}"
    return resource("app", app_id, attributes, {"org": _org(row.org_id)}, f"/v1/apps/{app_id}")


def outbound_webhook(row: OutboundWebhook) -> Json:
    return resource(
        "outbound-webhook",
        row.id,
        {
            "name": row.name,
            "description": row.description or None,
            "url": row.url,
            "events": row.events,
            "headers": row.headers,
            "enabled": row.enabled,
            "token": row.token,
            "createdAt": iso(row.created_at),
            "updatedAt": iso(row.updated_at),
        },
        {"org": _org(row.org_id)},
        f"/v1/outbound-webhooks/{row.id}",
    )


def single(data: Json) -> Json:
    return {"data": data}


def page(
    rows: QuerySet,
    *,
    render: Any,
    path: str,
    page_number: int,
    page_size: int,
    query: dict[str, str] | None = None,
) -> Json:
    """One page of a list, with Kustomer's `meta` and `links` (`next` is null on the last)."""
    total = rows.count()
    total_pages = math.ceil(total / page_size)
    start = (page_number - 1) * page_size
    items = list(rows[start : start + page_size])

    def link(number: int) -> str:
        params = {**(query or {}), "page": str(number), "pageSize": str(page_size)}
        return f"{path}?{urlencode(params)}"

    return {
        "data": [render(item) for item in items],
        "meta": {
            "page": page_number,
            "pageSize": page_size,
            "total": total,
            "totalPages": total_pages,
        },
        "links": {
            "self": link(page_number),
            "first": link(1),
            "prev": link(page_number - 1) if page_number > 1 else None,
            "next": link(page_number + 1) if page_number < total_pages else None,
        },
    }
