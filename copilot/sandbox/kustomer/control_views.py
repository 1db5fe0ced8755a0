"""The control API (`/sandbox/kustomer/_control/...`): drive the fake from tests, demo, benchmarks.

No authentication: it exists only where the sandbox is mounted (`COPILOT_SANDBOX`). Every
operation takes an optional `org` (name, default "sandbox") in the JSON body or query string.
"""

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from . import history, oauth, selectors, services, validation
from . import representations as render
from .errors import ApiError, Duplicate, NotFound
from .models import Conversation, Customer, Org

ControlView = Callable[[HttpRequest, dict[str, Any], Org], JsonResponse]


def control_route(**views: ControlView) -> Callable[[HttpRequest], JsonResponse]:
    """A view serving `views` by method: parses the JSON body, picks the org, and turns bad
    input into Kustomer-style error bodies."""

    @csrf_exempt
    def view(request: HttpRequest) -> JsonResponse:
        function = views.get(request.method or "")
        if function is None:
            allowed = ", ".join(views)
            return ApiError(
                405, f"Use {allowed}", code="method_not_allowed", headers={"Allow": allowed}
            ).response()
        try:
            body = json.loads(request.body or b"{}") if request.method == "POST" else {}
            if not isinstance(body, dict):
                raise ApiError(400, "The body must be a JSON object")
            org_name = body.get("org") or request.GET.get("org") or services.DEFAULT_ORG_NAME
            org = services.org_get_or_create(name=str(org_name))
            return function(request, body, org)
        except ApiError as error:
            return error.response()
        except NotFound as error:
            return ApiError(404, str(error), code="not_found").response()
        except (ValueError, TypeError, KeyError) as error:
            return ApiError(400, f"Bad control request: {error!r}").response()

    return view


def _customer(org: Org, customer_id: Any) -> Customer:
    return selectors.customer_get(org=org, customer_id=str(customer_id))


def _conversation(org: Org, conversation_id: Any) -> Conversation:
    return selectors.conversation_get(org=org, conversation_id=str(conversation_id))


def _rows(items: list[dict[str, Any]]) -> JsonResponse:
    return JsonResponse({"data": items})


def reset(request: HttpRequest, body: dict[str, Any], org: Org) -> JsonResponse:
    services.sandbox_reset()
    return JsonResponse({"reset": True})


def api_key_create(request: HttpRequest, body: dict[str, Any], org: Org) -> JsonResponse:
    roles = body.get("roles") or []
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise ApiError(400, "roles must be an array of role names")
    key = services.api_key_create(
        org=org,
        roles=roles,
        name=str(body.get("name") or "API key"),
        user_name=str(body.get("userName") or "Sandbox API User"),
        user_email=str(body.get("userEmail") or ""),
    )
    return JsonResponse(
        {
            "id": key.id,
            "token": key.token,
            "roles": key.roles,
            "userId": key.user_id,
            "org": org.id,
        },
        status=201,
    )


def customer_create(request: HttpRequest, body: dict[str, Any], org: Org) -> JsonResponse:
    customer = services.customer_create(
        org=org, name=str(body["name"]), email=str(body.get("email") or "")
    )
    return JsonResponse(render.customer(customer), status=201)


def customer_list(request: HttpRequest, body: dict[str, Any], org: Org) -> JsonResponse:
    return _rows([render.customer(row) for row in org.customers.order_by("created_at", "id")])


def conversation_create(request: HttpRequest, body: dict[str, Any], org: Org) -> JsonResponse:
    conversation = services.conversation_create(
        customer=_customer(org, body["customerId"]),
        name=str(body.get("subject") or body.get("name") or ""),
        channel=str(body.get("channel") or "email"),
    )
    return JsonResponse(render.conversation(conversation), status=201)


def history_seed(request: HttpRequest, body: dict[str, Any], org: Org) -> JsonResponse:
    """Past conversations with tags, a contact reason (`contactReasonStr`) and dates in the
    past, across four customers of the past (idempotent: a second call writes nothing)."""
    written = history.conversation_history_seed(org=org)
    return JsonResponse(
        {"written": written, "conversations": len(history.PAST_CONVERSATIONS)}, status=201
    )


def message_send(request: HttpRequest, body: dict[str, Any], org: Org) -> JsonResponse:
    """`direction` "in" (default): the customer writes, on `conversationId` or on a new
    conversation of `customerId`; "out": an agent replies on `conversationId`."""
    direction = body.get("direction", "in")
    conversation_id = body.get("conversationId")
    conversation = _conversation(org, conversation_id) if conversation_id else None
    delivery = {
        "webhook_copies": int(body.get("webhookCopies", 1)),
        "webhook_delay_seconds": float(body.get("webhookDelaySeconds", 0.0)),
    }
    text = str(body["body"])
    if direction == "in":
        message = services.message_send_from_customer(
            body=text,
            conversation=conversation,
            customer=None if conversation else _customer(org, body["customerId"]),
            subject=str(body.get("subject") or ""),
            channel=str(body.get("channel") or "email"),
            sentiment=body.get("sentiment"),
            **delivery,
        )
    elif direction == "out":
        if conversation is None:
            raise ApiError(400, "conversationId is required for an agent's message")
        message = services.message_send_from_agent(
            conversation=conversation, body=text, channel=str(body.get("channel") or ""), **delivery
        )
    else:
        raise ApiError(400, "direction must be in or out")
    return JsonResponse(
        {
            "messageId": message.id,
            "conversationId": message.conversation_id,
            "customerId": message.customer_id,
            "data": render.message(message),
        },
        status=201,
    )


def message_list(request: HttpRequest, body: dict[str, Any], org: Org) -> JsonResponse:
    return _rows([render.message(row) for row in selectors.messages(org=org)])


def shortcut_upsert(request: HttpRequest, body: dict[str, Any], org: Org) -> JsonResponse:
    shortcut = services.shortcut_upsert(org=org, name=str(body["name"]), text=str(body["text"]))
    return JsonResponse(render.shortcut(shortcut), status=201)


def note_list(request: HttpRequest, body: dict[str, Any], org: Org) -> JsonResponse:
    return _rows([render.note(row) for row in selectors.notes(org=org)])


def kobject_list(request: HttpRequest, body: dict[str, Any], org: Org) -> JsonResponse:
    return _rows([render.kobject(row) for row in selectors.kobjects(org=org)])


def request_list(request: HttpRequest, body: dict[str, Any], org: Org) -> JsonResponse:
    """Every API call of the org (`?all=true`: of every org, 401s included), oldest first."""
    rows = selectors.request_log(org=None if request.GET.get("all") == "true" else org)
    if request.GET.get("method"):
        rows = rows.filter(method=request.GET["method"].upper())
    if request.GET.get("path"):
        rows = rows.filter(path__startswith=request.GET["path"])
    return _rows(
        [
            {
                "method": row.method,
                "path": row.path,
                "query": row.query,
                "status": row.status,
                "apiKeyId": row.api_key_id or None,
                "userId": row.user_id or None,
                "body": row.body,
                "durationMs": round(row.duration_ms, 1),
                "createdAt": render.iso(row.created_at),
            }
            for row in rows
        ]
    )


def webhook_delivery_list(request: HttpRequest, body: dict[str, Any], org: Org) -> JsonResponse:
    return _rows(
        [
            {
                "id": row.id,
                "webhookId": row.webhook_id,
                "url": row.webhook.url,
                "eventId": row.event_id,
                "event": row.event_name,
                "status": row.status,
                "attempts": row.attempts,
                "lastStatusCode": row.last_status_code,
                "lastError": row.last_error,
                "nextAttemptAt": render.iso(row.next_attempt_at),
                "deliveredAt": render.iso(row.delivered_at),
                "createdAt": render.iso(row.created_at),
            }
            for row in selectors.webhook_deliveries(org=org)
        ]
    )


def webhook_deliveries_wait(request: HttpRequest, body: dict[str, Any], org: Org) -> JsonResponse:
    """Waits (up to `timeout` s, default 10) until this process has no delivery in flight."""
    idle = services.webhook_deliveries_wait(timeout=min(60.0, float(body.get("timeout", 10.0))))
    return JsonResponse({"idle": idle})


def failure_inject(request: HttpRequest, body: dict[str, Any], org: Org) -> JsonResponse:
    seconds = body.get("seconds")
    injection = services.failure_inject(
        path_prefix=str(body["pathPrefix"]),
        mode=str(body["mode"]),
        count=int(body.get("count", 1)),
        seconds=float(seconds) if seconds is not None else None,
    )
    return JsonResponse(
        {
            "id": injection.id,
            "pathPrefix": injection.path_prefix,
            "mode": injection.mode,
            "remaining": injection.remaining,
            "seconds": injection.seconds,
        },
        status=201,
    )


# --- people, apps and OAuth ---------------------------------------------------------------------


def user_create(request: HttpRequest, body: dict[str, Any], org: Org) -> JsonResponse:
    """A person who can sign in: `{name, email, roles?, roleName?}` (roles default to an
    agent's)."""
    roles = body.get("roles", list(services.AGENT_ROLES))
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise ApiError(400, "roles must be an array of role names")
    try:
        user = services.user_create(
            org=org,
            name=str(body["name"]),
            email=str(body["email"]),
            roles=roles,
            role_name=str(body.get("roleName") or ""),
        )
    except Duplicate as error:
        raise ApiError(400, str(error), code="duplicate") from None
    return JsonResponse(render.person(user), status=201)


def user_list(request: HttpRequest, body: dict[str, Any], org: Org) -> JsonResponse:
    return _rows([render.person(row) for row in org.users.order_by("created_at", "id")])


def app_register(request: HttpRequest, body: dict[str, Any], org: Org) -> JsonResponse:
    """`{app, redirectUris, title?, secret?, installed?}`: the demo's one call to get an OAuth
    client. Registers the app (version 1.0.0) or points the registered one at `redirectUris`,
    keeping its client id; `secret: true` mints a client secret (shown in this answer only),
    making it a confidential client; `installed: false` uninstalls it. The org's demo users
    (Ada Agent, Sam Supervisor) are created if missing."""
    redirect_uris = body.get("redirectUris") or []
    if not isinstance(redirect_uris, list) or not all(
        isinstance(uri, str) and validation.redirect_uri_allowed(uri) for uri in redirect_uris
    ):
        raise ApiError(400, "redirectUris must be absolute https URIs (or http to this machine)")
    app = oauth.app_upsert(
        org=org,
        name=str(body["app"]),
        title=str(body.get("title") or body["app"]),
        redirect_uris=redirect_uris,
        installed=bool(body.get("installed", True)),
    )
    services.demo_users_ensure(org=org)
    secret = oauth.app_secret_mint(app=app) if body.get("secret") else None
    answer = {
        "clientId": app.client_id,
        "app": app.name,
        "version": app.version,
        "redirectUris": app.redirect_uris,
        "confidential": app.confidential,
        "installed": app.installed,
    }
    if secret is not None:
        answer["clientSecret"] = secret
    return JsonResponse(answer, status=201)


def app_list(request: HttpRequest, body: dict[str, Any], org: Org) -> JsonResponse:
    return _rows([render.app(row) for row in org.apps.order_by("created_at", "id")])


def oauth_revoke(request: HttpRequest, body: dict[str, Any], org: Org) -> JsonResponse:
    """`{userId | email, clientId?}`: signs the person out of every app (or of one), as an
    admin does in Kustomer; their tokens answer 401 from then on."""
    users = org.users.all()
    if body.get("userId"):
        users = users.filter(pk=str(body["userId"]))
    elif body.get("email"):
        users = users.filter(email=str(body["email"]).strip().lower())
    else:
        raise ApiError(400, "Give userId or email")
    user = users.first()
    if user is None:
        raise NotFound("No such user in this org")
    app = None
    if body.get("clientId"):
        app = org.apps.filter(client_id=str(body["clientId"])).first()
        if app is None:
            raise NotFound(f"No app with client id {body['clientId']}")
    return JsonResponse({"revoked": oauth.user_tokens_revoke(user=user, app=app)})


def draft_list(request: HttpRequest, body: dict[str, Any], org: Org) -> JsonResponse:
    """The org's drafts, `?conversationId=` or `?customerId=` to narrow: what each reply box
    holds."""
    rows = selectors.drafts(
        org=org,
        conversation_id=request.GET.get("conversationId"),
        customer_id=request.GET.get("customerId"),
    )
    return _rows([render.draft(row) for row in rows])
