"""Kustomer's `/v1` operations: validate, call one selector or service, render.

Authentication, rate limits, roles and errors are handled by `api.route` (see api.py).
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from . import oauth, ratelimit, search, selectors, services, validation
from . import representations as render
from .api import Call, Reply, operation
from .auth import Role, authorize_any
from .errors import ApiError, Duplicate, NotFound


def _page(call: Call, rows: QuerySet, renderer: Callable[[Any], dict[str, Any]]) -> Reply:
    params = validation.page_params(call.request.GET)
    return Reply(
        render.page(
            rows,
            render=renderer,
            path=call.path,
            page_number=params.page,
            page_size=params.page_size,
        )
    )


# --- customers --------------------------------------------------------------------------------


@operation(role=Role.CUSTOMER_READ)
def customer_get(call: Call, *, customer_id: str) -> Reply:
    customer = selectors.customer_get(org=call.org, customer_id=customer_id)
    return Reply(render.single(render.customer(customer)))


@operation(role=Role.CUSTOMER_READ)
def customer_get_by_email(call: Call, *, email: str) -> Reply:
    customer = selectors.customer_find_by_email(org=call.org, email=email)
    return Reply(render.single(render.customer(customer)))


# --- search -------------------------------------------------------------------------------------


@operation(role=None)
def conversation_search(call: Call) -> Reply:
    """`POST /v1/customers/search`: conversations for `queryContext: "conversation"`."""
    authorize_any(call.principal, (Role.SEARCH_READ, Role.SEARCH_CREATE))
    if call.principal.api_key is not None:
        # Kustomer's own limit for search, per API key, on top of the org's.
        decision = ratelimit.hit(
            f"search:{call.principal.api_key.id}",
            limit=settings.SANDBOX_KUSTOMER_SEARCH_RATE_LIMIT,
            window=60,
        )
        if not decision.allowed:
            raise ApiError(
                429,
                "The API key's search rate limit is exceeded; try again later",
                code="rate_limited",
                headers=ratelimit.headers(decision),
            )
    params = search.search_params(call.request.GET)
    query = search.search_query(call.body, now=timezone.now())
    rows = selectors.conversations_search(
        org=call.org, condition=query.condition, order_by=query.order_by
    )
    extra = {"idsOnly": "true"} if params.ids_only else {}
    body = render.page(
        rows,
        render=render.conversation_id if params.ids_only else render.conversation,
        path=call.path,
        page_number=params.page,
        page_size=params.page_size,
        query=extra,
    )
    if params.page >= search.SEARCH_PAGES_MAX:
        body["links"]["next"] = None  # paging stops here, whatever is left
    return Reply(body)


# --- conversations ----------------------------------------------------------------------------


@operation(role=Role.CONVERSATION_WRITE)
def conversation_create(call: Call) -> Reply:
    data = validation.conversation_create_input(call.body)
    try:
        customer = selectors.customer_get(org=call.org, customer_id=data.customer_id)
    except NotFound as error:
        raise ApiError(400, str(error), pointer="/data/attributes/customer") from None
    call.take_create_slot(customer_id=customer.id, imported=data.imported_at is not None)
    conversation = services.conversation_create(
        customer=customer,
        name=data.fields.get("name", ""),
        status=data.fields.get("status", "open"),
        priority=data.fields.get("priority", 3),
        tags=data.fields.get("tags", ()),
        custom=data.fields.get("custom"),
        channel="",
        imported_at=data.imported_at,
    )
    return Reply(render.single(render.conversation(conversation)), status=201)


@operation(role=Role.CONVERSATION_READ)
def conversation_get(call: Call, *, conversation_id: str) -> Reply:
    conversation = selectors.conversation_get(org=call.org, conversation_id=conversation_id)
    return Reply(render.single(render.conversation(conversation)))


def _conversation_update(call: Call, conversation_id: str, *, merge_custom: bool) -> Reply:
    conversation = selectors.conversation_get(org=call.org, conversation_id=conversation_id)
    fields = validation.conversation_update_input(call.body)
    call.take_update_slot(kind="conversation", object_id=conversation.id)
    conversation = services.conversation_update(
        conversation=conversation, fields=fields, merge_custom=merge_custom
    )
    return Reply(render.single(render.conversation(conversation)))


@operation(role=Role.CONVERSATION_WRITE)
def conversation_patch(call: Call, *, conversation_id: str) -> Reply:
    return _conversation_update(call, conversation_id, merge_custom=True)


@operation(role=Role.CONVERSATION_WRITE)
def conversation_put(call: Call, *, conversation_id: str) -> Reply:
    return _conversation_update(call, conversation_id, merge_custom=False)


@operation(role=Role.CONVERSATION_WRITE)
def conversation_tags_add(call: Call, *, conversation_id: str) -> Reply:
    conversation = selectors.conversation_get(org=call.org, conversation_id=conversation_id)
    tags = validation.tags_input(call.body)
    call.take_update_slot(kind="conversation", object_id=conversation.id)
    conversation = services.conversation_tags_add(conversation=conversation, tags=tags)
    return Reply(render.single(render.conversation(conversation)))


@operation(role=Role.MESSAGE_READ)
def conversation_messages(call: Call, *, conversation_id: str) -> Reply:
    conversation = selectors.conversation_get(org=call.org, conversation_id=conversation_id)
    return _page(call, selectors.conversation_messages(conversation=conversation), render.message)


@operation(role=Role.MESSAGE_WRITE)
def conversation_message_create(call: Call, *, conversation_id: str) -> Reply:
    conversation = selectors.conversation_get(org=call.org, conversation_id=conversation_id)
    data = validation.message_input(call.body)
    call.take_create_slot(
        customer_id=conversation.customer_id, imported=data.imported_at is not None
    )
    message = services.message_create(
        conversation=conversation,
        direction=data.direction,
        body=data.body,
        preview=data.preview,
        channel=data.channel,
        app=data.app,
        meta=data.meta,
        sent_at=data.sent_at,
        auto=data.auto,
        imported_at=data.imported_at,
    )
    return Reply(render.single(render.message(message)), status=201)


@operation(role=Role.NOTE_WRITE)
def conversation_note_create(call: Call, *, conversation_id: str) -> Reply:
    conversation = selectors.conversation_get(org=call.org, conversation_id=conversation_id)
    data = validation.note_input(call.body)
    call.take_create_slot(
        customer_id=conversation.customer_id, imported=data.imported_at is not None
    )
    note = services.note_create(
        conversation=conversation,
        body=data.body,
        external_id=data.external_id,
        user_mentions=data.user_mentions,
        created_by=call.principal.api_key,
        created_by_user_id=call.principal.user_id,
        imported_at=data.imported_at,
    )
    return Reply(render.single(render.note(note)), status=201)


# --- klasses and KObjects ---------------------------------------------------------------------


@operation(role=Role.ADMIN)
def klass_list(call: Call) -> Reply:
    return _page(call, selectors.klasses(org=call.org), render.klass)


@operation(role=Role.ADMIN)
def klass_create(call: Call) -> Reply:
    data = validation.klass_input(call.body)
    klass = services.klass_create(
        org=call.org,
        name=data.name,
        display_name=data.display_name,
        icon=data.icon,
        color=data.color,
        description=data.description,
        metadata=data.metadata,
    )
    return Reply(render.single(render.klass(klass)), status=201)


@operation(role=Role.KOBJECT_WRITE)
def kobject_create(call: Call, *, customer_id: str, klass_name: str) -> Reply:
    customer = selectors.customer_get(org=call.org, customer_id=customer_id)
    klass = selectors.klass_get_by_name(org=call.org, name=klass_name)
    fields = validation.kobject_input(call.body, creating=True)
    call.take_create_slot(customer_id=customer.id, imported=fields.get("imported_at") is not None)
    kobject = services.kobject_create(klass=klass, customer=customer, fields=fields)
    return Reply(render.single(render.kobject(kobject)), status=201)


@operation(role=Role.KOBJECT_READ)
def kobject_get_by_external_id(call: Call, *, klass_name: str, external_id: str) -> Reply:
    klass = selectors.klass_get_by_name(org=call.org, name=klass_name)
    kobject = selectors.kobject_find_by_external_id(klass=klass, external_id=external_id)
    return Reply(render.single(render.kobject(kobject)))


@operation(role=Role.KOBJECT_READ)
def kobject_get(call: Call, *, klass_name: str, kobject_id: str) -> Reply:
    klass = selectors.klass_get_by_name(org=call.org, name=klass_name)
    kobject = selectors.kobject_get(klass=klass, kobject_id=kobject_id)
    return Reply(render.single(render.kobject(kobject)))


@operation(role=Role.KOBJECT_WRITE)
def kobject_update(call: Call, *, klass_name: str, kobject_id: str) -> Reply:
    klass = selectors.klass_get_by_name(org=call.org, name=klass_name)
    kobject = selectors.kobject_get(klass=klass, kobject_id=kobject_id)
    fields = validation.kobject_input(call.body, creating=False)
    kobject = services.kobject_update(kobject=kobject, fields=fields)
    return Reply(render.single(render.kobject(kobject)))


# --- shortcuts, users, outbound webhooks ------------------------------------------------------


@operation(role=Role.SHORTCUT_READ)
def shortcut_list(call: Call) -> Reply:
    return _page(call, selectors.shortcuts(org=call.org), render.shortcut)


@operation(role=None)
def user_current(call: Call) -> Reply:
    """The signed-in agent for an OAuth access token, the key's machine user for an API key."""
    principal = call.principal
    if principal.user is not None:
        return Reply(render.single(render.person(principal.user)))
    assert principal.api_key is not None
    return Reply(render.single(render.user(principal.api_key)))


@operation(role=Role.ADMIN)
def outbound_webhook_list(call: Call) -> Reply:
    return _page(call, selectors.outbound_webhooks(org=call.org), render.outbound_webhook)


@operation(role=Role.ADMIN)
def outbound_webhook_create(call: Call) -> Reply:
    data = validation.outbound_webhook_input(call.body)
    webhook = services.outbound_webhook_create(
        org=call.org,
        name=data.name,
        url=data.url,
        events=data.events,
        headers=data.headers,
        description=data.description,
        enabled=data.enabled,
    )
    return Reply(render.single(render.outbound_webhook(webhook)), status=201)


# --- drafts -------------------------------------------------------------------------------------


@operation(role=None)
def draft_create(call: Call, *, customer_id: str) -> Reply:
    """Kustomer asks no role for drafts: any API key or signed-in user may write one."""
    customer = selectors.customer_get(org=call.org, customer_id=customer_id)
    data = validation.draft_input(call.body)
    conversation = None
    if data.conversation_id is not None:
        conversation = selectors.conversation_get(
            org=call.org, conversation_id=data.conversation_id
        )
        if conversation.customer_id != customer.id:
            raise ApiError(
                400,
                f"Conversation {conversation.id} belongs to another customer",
                pointer="/data/attributes/conversation",
            )
    call.take_draft_slot(customer_id=customer.id)
    draft = services.draft_create(
        customer=customer,
        conversation=conversation,
        channel=data.channel,
        body=data.body,
        send_at=data.send_at,
        created_by_user_id=call.principal.user_id,
        **data.fields,
    )
    return Reply(render.single(render.draft(draft)), status=201)


@operation(role=None)
def draft_update(call: Call, *, draft_id: str) -> Reply:
    draft = selectors.draft_get(org=call.org, draft_id=draft_id)
    fields = validation.draft_update_input(call.body, channel=draft.channel)
    draft = services.draft_update(draft=draft, fields=fields)
    return Reply(render.single(render.draft(draft)))


@operation(role=Role.DRAFT_READ)
def customer_draft_list(call: Call, *, customer_id: str) -> Reply:
    customer = selectors.customer_get(org=call.org, customer_id=customer_id)
    return _page(call, selectors.customer_drafts(customer=customer), render.draft)


# --- apps ---------------------------------------------------------------------------------------


@operation(role=Role.APPS_ADMIN)
def app_register(call: Call) -> Reply:
    """Registers an app version (and, in the fake, installs it in the org at once)."""
    data = validation.app_definition_input(call.body)
    try:
        app = oauth.app_register(
            org=call.org,
            name=data.name,
            version=data.version,
            title=data.title,
            redirect_uris=data.redirect_uris,
            definition=data.definition,
        )
    except Duplicate as error:
        raise ApiError(409, str(error), code="duplicate", pointer=error.pointer) from None
    return Reply(render.single(render.app(app)), status=201)


@operation(role=Role.APPS_ADMIN, reads_body=False)
def app_secret_create(call: Call, *, app_version: str) -> Reply:
    """`{app}-{version}`: a new client secret, shown in this answer only."""
    name, _, version = app_version.rpartition("-")
    app = oauth.app_get_version(org=call.org, name=name, version=version)
    secret = oauth.app_secret_mint(app=app)
    return Reply(render.single(render.app(app, client_secret=secret)), status=201)


@operation(role=None, reads_body=False)
def not_found(call: Call, **_: str) -> Reply:
    raise ApiError(404, f"No route {call.request.method} {call.path}", code="not_found")
