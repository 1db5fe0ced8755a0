"""The writes of the commerce app, in one place for its callers (`services.order_refund(...)`).

Each lives in the module of what it does:

- `stores`: connecting a Shopify store, its webhooks, disconnecting, its token;
- `orders`: the card's reads of a customer's orders, and the writes they call for;
- `actions`: refund, cancel, change the shipping address, send the invoice (with `refunds` and
  `action_lifecycle`), and sending them in the background;
- `approvals`: a supervisor's decision on a large refund;
- `action_notes`: the note an action leaves on its Kustomer conversation.
"""

from .action_lifecycle import ActionResult, RetryLater
from .action_notes import order_action_note_body, order_action_note_failed, order_action_note_write
from .actions import (
    order_action_execute,
    order_action_give_up,
    order_cancel,
    order_cancel_follow,
    order_invoice_send,
    order_refund,
    order_shipping_address_update,
)
from .approvals import refund_approval_decide
from .orders import (
    customer_orders_for_card,
    customer_orders_refresh,
    customer_orders_refresh_schedule,
    order_for_card,
    refund_preview,
)
from .stores import (
    WEBHOOK_TOPICS,
    shop_domain_normalize,
    store_connect,
    store_disconnect,
    store_ensure_from_settings,
    store_token_check,
    store_token_rejected,
    store_tokens_reencrypt,
    store_webhooks_register,
)

__all__ = [
    "WEBHOOK_TOPICS",
    "ActionResult",
    "RetryLater",
    "customer_orders_for_card",
    "customer_orders_refresh",
    "customer_orders_refresh_schedule",
    "order_action_execute",
    "order_action_give_up",
    "order_action_note_body",
    "order_action_note_failed",
    "order_action_note_write",
    "order_cancel",
    "order_cancel_follow",
    "order_for_card",
    "order_invoice_send",
    "order_refund",
    "order_shipping_address_update",
    "refund_approval_decide",
    "refund_preview",
    "shop_domain_normalize",
    "store_connect",
    "store_disconnect",
    "store_ensure_from_settings",
    "store_token_check",
    "store_token_rejected",
    "store_tokens_reencrypt",
    "store_webhooks_register",
]
