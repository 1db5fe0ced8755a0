"""Routes of the fake Kustomer, mounted at `sandbox/kustomer/` when COPILOT_SANDBOX is true."""

from django.urls import path, re_path

from . import card_views, oauth_views, views, workspace_views
from . import control_views as control
from .api import route
from .control_views import control_route

app_name = "sandbox_kustomer"

urlpatterns = [
    # Kustomer's REST API.
    path("v1/customers/email=<path:email>", route(GET=views.customer_get_by_email)),
    path("v1/customers/search", route(POST=views.conversation_search)),
    path(
        "v1/customers/<str:customer_id>/klasses/<str:klass_name>",
        route(POST=views.kobject_create),
    ),
    path(
        "v1/customers/<str:customer_id>/drafts",
        route(GET=views.customer_draft_list, POST=views.draft_create),
    ),
    path("v1/customers/<str:customer_id>", route(GET=views.customer_get)),
    path("v1/drafts/<str:draft_id>", route(PUT=views.draft_update)),
    path("v1/apps/available", route(POST=views.app_register)),
    path(
        "v1/apps/available/<str:app_version>/secret",
        route(POST=views.app_secret_create),
    ),
    path("v1/conversations", route(POST=views.conversation_create)),
    path(
        "v1/conversations/<str:conversation_id>",
        route(
            GET=views.conversation_get, PATCH=views.conversation_patch, PUT=views.conversation_put
        ),
    ),
    path("v1/conversations/<str:conversation_id>/tags", route(POST=views.conversation_tags_add)),
    path(
        "v1/conversations/<str:conversation_id>/messages",
        route(GET=views.conversation_messages, POST=views.conversation_message_create),
    ),
    path(
        "v1/conversations/<str:conversation_id>/notes",
        route(POST=views.conversation_note_create),
    ),
    path("v1/klasses", route(GET=views.klass_list, POST=views.klass_create)),
    path(
        "v1/klasses/<str:klass_name>/externalId=<path:external_id>",
        route(GET=views.kobject_get_by_external_id),
    ),
    path(
        "v1/klasses/<str:klass_name>/<str:kobject_id>",
        route(GET=views.kobject_get, PUT=views.kobject_update),
    ),
    path("v1/shortcuts", route(GET=views.shortcut_list)),
    path("v1/users/current", route(GET=views.user_current)),
    path(
        "v1/outbound-webhooks",
        route(GET=views.outbound_webhook_list, POST=views.outbound_webhook_create),
    ),
    re_path(
        r"^v1/",
        route(
            GET=views.not_found,
            POST=views.not_found,
            PUT=views.not_found,
            PATCH=views.not_found,
            DELETE=views.not_found,
        ),
    ),
    # OAuth 2.0 for apps (oauth.py): the sign-in page, the token and revocation endpoints.
    path("oauth/authorize", oauth_views.authorize, name="oauth-authorize"),
    path("oauth/token", oauth_views.token, name="oauth-token"),
    path("oauth/revoke", oauth_views.revoke, name="oauth-revoke"),
    # iFrame Context Cards (card_views.py): the Cards SDK stand-in, the Insight Panel, a demo card.
    path("card-js/kustomer-card.js", card_views.card_sdk, name="card-sdk"),
    path("card-js/demo-card/", card_views.demo_card, name="demo-card"),
    path("insight-panel/", card_views.insight_panel, name="insight-panel"),
    # The demo workspace (workspace_views.py): Kustomer's conversation view around the card.
    path("workspace/", workspace_views.workspace, name="workspace"),
    path("workspace/messages", workspace_views.workspace_message, name="workspace-message"),
    path(
        "workspace/conversations/<str:conversation_id>/timeline",
        workspace_views.workspace_timeline,
        name="workspace-timeline",
    ),
    path(
        "workspace/conversations/<str:conversation_id>/reply",
        workspace_views.workspace_reply,
        name="workspace-reply",
    ),
    # The control API (no authentication; see control_views.py).
    path("_control/reset", control_route(POST=control.reset)),
    path("_control/api-keys", control_route(POST=control.api_key_create)),
    path(
        "_control/customers",
        control_route(GET=control.customer_list, POST=control.customer_create),
    ),
    path("_control/conversations", control_route(POST=control.conversation_create)),
    path("_control/history", control_route(POST=control.history_seed)),
    path("_control/messages", control_route(GET=control.message_list, POST=control.message_send)),
    path("_control/shortcuts", control_route(POST=control.shortcut_upsert)),
    path("_control/notes", control_route(GET=control.note_list)),
    path("_control/kobjects", control_route(GET=control.kobject_list)),
    path("_control/requests", control_route(GET=control.request_list)),
    path("_control/webhook-deliveries", control_route(GET=control.webhook_delivery_list)),
    path("_control/webhook-deliveries/wait", control_route(POST=control.webhook_deliveries_wait)),
    path("_control/failures", control_route(POST=control.failure_inject)),
    path("_control/users", control_route(GET=control.user_list, POST=control.user_create)),
    path("_control/apps", control_route(GET=control.app_list, POST=control.app_register)),
    path("_control/oauth/revoke", control_route(POST=control.oauth_revoke)),
    path("_control/drafts", control_route(GET=control.draft_list)),
]
