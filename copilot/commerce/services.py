"""Writes of the commerce app: stores, Shopify webhooks, and the actions agents take on orders.

The four card actions share one shape:

    result = order_refund(
        store_id=store.id, order_id=order.id, agent=Agent(id="u1", name="Ada Agent"),
        idempotency_key=form_key,            # one per confirmation form: a double submit acts once
        confirmed_amount=Decimal("42.00"),   # the amount the agent saw (refund_preview)
        reason="Arrived damaged", conversation_id="c1",
    )
    result.status   # "succeeded", "awaiting_approval", "running", "queued", "failed", "denied"...
    result.message  # one plain sentence for the agent, Shopify's userErrors included

Each call checks the agent's permission (SHOPIFY_ACTION_PERMISSIONS), leaves an audit row
(`OrderAction`, with its events), and, once done, an internal note on the Kustomer conversation
("Refunded $42.00 on #1042 — Arrived damaged — by Ada Agent"). None of them waits for Shopify's
cost bucket: a busy Shopify comes back as a failed, retryable result ("try again in 3 seconds")
and submitting the same key again tries again. Nothing that could act twice is retried: refunds are
retried only with the same Shopify idempotency key, and an invoice email whose sending could not
be confirmed is reported as unknown, never sent again.
"""

import hashlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from copilot.integrations.http import IntegrationError
from copilot.integrations.shopify import (
    CANCEL_REASONS,
    MailingAddress,
    Money,
    ProtectedCustomerDataError,
    RefundLineItem,
    RefundSuggestion,
    ShopifyAccessDenied,
    ShopifyAuthError,
    ShopifyClient,
    ShopifyThrottled,
    ShopifyUnavailable,
    SuggestedTransaction,
    UserError,
    order_gid,
)

from . import order_cache
from .clients import client_for_store
from .encryption import token_encrypt, token_reencrypt
from .models import OrderAction, OrderActionEvent, RefundApproval, Store
from .permissions import ADDRESS_UPDATE, CANCEL, INVOICE_SEND, REFUND, Agent, agent_may
from .selectors import CARD_ORDERS, RefundLine, refund_approval_threshold, stores_changed

logger = logging.getLogger(__name__)

Status = OrderAction.Status
Kind = OrderAction.Kind

WEBHOOK_TOPICS = (
    "ORDERS_CREATE",
    "ORDERS_UPDATED",
    "ORDERS_CANCELLED",
    "REFUNDS_CREATE",
    "APP_UNINSTALLED",
)
# Work queued after an action commits must never turn a done action into an error for the agent:
# those hooks are `robust` (a failure is logged; the action row shows what happened).
NOTE_STATUSES = {Status.SUCCEEDED, Status.AWAITING_APPROVAL, Status.REJECTED}
# A background run that has held an action this long without finishing died: take it over.
RUNNING_LEASE = timedelta(minutes=5)


def _celery_runs_in_process() -> bool:
    from copilot.celery import app

    return bool(app.conf.task_always_eager)


# --- stores ------------------------------------------------------------------------------------


def _normalize_domain(shop_domain: str) -> str:
    domain = shop_domain.strip().lower().removeprefix("https://").removeprefix("http://")
    return domain.split("/")[0]


def store_token_check(
    *, shop_domain: str, access_token: str, api_base_url: str = "", timeout: float | None = None
):
    """Asks Shopify who the token belongs to; raises IntegrationError when it is refused."""
    with ShopifyClient(
        shop_domain=_normalize_domain(shop_domain),
        access_token=access_token,
        api_version=settings.SHOPIFY_API_VERSION,
        base_url=api_base_url,
        timeout=timeout or settings.SHOPIFY_TIMEOUT_SECONDS,
    ) as client:
        return client.shop()


def store_connect(
    *,
    shop_domain: str,
    access_token: str,
    name: str = "",
    api_base_url: str = "",
    verify: bool = True,
    register_webhooks: bool = True,
    from_environment: bool = False,
) -> Store:
    """Connects (or reconnects) a store with its Admin API token, stored encrypted.

    With `verify`, the token is checked with Shopify first (IntegrationError if refused) and the
    store's name is taken from Shopify when none is given. With `register_webhooks`, the orders,
    refunds and app/uninstalled topics are subscribed to SHOPIFY_WEBHOOK_URL.
    """
    domain = _normalize_domain(shop_domain)
    if verify:
        shop = store_token_check(
            shop_domain=domain, access_token=access_token, api_base_url=api_base_url
        )
        name = name or shop.name
    with transaction.atomic():
        store, created = Store.objects.select_for_update().get_or_create(shop_domain=domain)
        store.name = name or store.name
        store.api_base_url = api_base_url.rstrip("/")
        store.access_token_encrypted = token_encrypt(access_token)
        store.status = Store.Status.CONNECTED
        store.status_detail = ""
        store.connected_at = timezone.now()
        store.disconnected_at = None
        store.from_environment = from_environment or (store.from_environment and not created)
        if from_environment:
            store.environment_token_sha256 = hashlib.sha256(access_token.encode()).hexdigest()
        if not created:
            store.cache_version += 1
        store.save()
    stores_changed()
    if register_webhooks and settings.SHOPIFY_WEBHOOK_URL:
        problems = store_webhooks_register(store_id=store.pk)
        if problems:
            logger.warning("webhooks of %s not all registered: %s", domain, "; ".join(problems))
    return store


def store_ensure_from_settings() -> Store | None:
    """The store of SHOPIFY_SHOP_DOMAIN/SHOPIFY_ACCESS_TOKEN, created or given a new token.

    A token it was already given is not applied again, so an uninstalled store stays
    disconnected until the environment brings a new token. Shopify is asked once for the store's
    name (briefly: a failure only leaves the name empty); webhooks are registered by
    `manage.py shopify_store_connect`.
    """
    domain = _normalize_domain(settings.SHOPIFY_SHOP_DOMAIN or "")
    token = settings.SHOPIFY_ACCESS_TOKEN
    if not domain or not token:
        return None
    fingerprint = hashlib.sha256(token.encode()).hexdigest()
    store = Store.objects.filter(shop_domain=domain).first()
    if store is not None and (
        store.environment_token_sha256 == fingerprint or not store.from_environment
    ):
        return store
    name = store.name if store is not None else ""
    if not name:
        try:
            name = store_token_check(
                shop_domain=domain,
                access_token=token,
                api_base_url=settings.SHOPIFY_API_BASE_URL,
                timeout=settings.SHOPIFY_CARD_TIMEOUT_SECONDS,
            ).name
        except IntegrationError as error:
            logger.warning("could not read the name of %s: %s", domain, error)
    return store_connect(
        shop_domain=domain,
        access_token=token,
        name=name,
        api_base_url=settings.SHOPIFY_API_BASE_URL,
        verify=False,
        register_webhooks=False,
        from_environment=True,
    )


def store_webhooks_register(*, store_id: int, callback_url: str = "") -> list[str]:
    """Subscribes the store's topics to our receiver; returns the problems (empty when all is
    well; a subscription that already exists is fine)."""
    store = Store.objects.get(pk=store_id)
    uri = callback_url or settings.SHOPIFY_WEBHOOK_URL
    client = client_for_store(store)
    problems = []
    for topic in WEBHOOK_TOPICS:
        try:
            result = client.webhook_subscription_create(topic=topic, uri=uri)
        except IntegrationError as error:
            problems.append(f"{topic}: {error}")
            continue
        for error in result.user_errors:
            if "already been taken" not in error.message:
                problems.append(f"{topic}: {error.message}")
    if not problems:
        Store.objects.filter(pk=store.pk).update(webhooks_registered_at=timezone.now())
    return problems


def store_disconnect(
    *, store_id: int, status: str = Store.Status.DISCONNECTED, detail: str = ""
) -> None:
    """Forgets the token and every cached order of the store; its audit rows stay."""
    Store.objects.filter(pk=store_id).update(
        status=status,
        status_detail=detail[:500],
        access_token_encrypted="",
        disconnected_at=timezone.now(),
        cache_version=F("cache_version") + 1,
    )
    stores_changed()


def store_token_rejected(*, store_id: int, detail: str) -> None:
    """Shopify refused the token (401/403): stop using the store until an admin reconnects it."""
    Store.objects.filter(pk=store_id, status=Store.Status.CONNECTED).update(
        status=Store.Status.TOKEN_REJECTED,
        status_detail=detail[:500],
        cache_version=F("cache_version") + 1,
    )
    stores_changed()


def store_tokens_reencrypt() -> int:
    """Re-encrypts every stored token with the first SHOPIFY_TOKEN_ENCRYPTION_KEY."""
    count = 0
    for store in Store.objects.exclude(access_token_encrypted=""):
        Store.objects.filter(pk=store.pk).update(
            access_token_encrypted=token_reencrypt(store.access_token_encrypted)
        )
        count += 1
    stores_changed()
    return count


# --- the orders cache --------------------------------------------------------------------------


def customer_orders_refresh(*, store_id: int, email: str) -> None:
    """Fetches a customer's orders into the cache (background work: raises ShopifyThrottled and
    other transient errors for the task to retry later)."""
    store = Store.objects.filter(pk=store_id, status=Store.Status.CONNECTED).first()
    if store is None or not store.access_token_encrypted:
        return
    started_at = time.time()
    page = client_for_store(store).customer_orders(email, first=CARD_ORDERS)
    order_cache.write(store, email, page, started_at=started_at)


def customer_orders_refresh_schedule(*, store_id: int, email: str) -> None:
    """Queues one background fetch per store and email at a time (not when tasks run in
    process: there is no background to wait in)."""
    if not email or _celery_runs_in_process():
        return
    digest = hashlib.sha256(email.encode()).hexdigest()[:40]
    if cache.add(f"commerce:orders:v1:refresh:{store_id}:{digest}", 1, timeout=30):
        from .tasks import refresh_customer_orders

        transaction.on_commit(lambda: refresh_customer_orders.delay(store_id, email), robust=True)


# --- actions: shared plumbing ------------------------------------------------------------------


@dataclass(frozen=True)
class ActionResult:
    """What the card shows after an action."""

    action_id: int | None
    status: str
    message: str

    @property
    def succeeded(self) -> bool:
        return self.status == Status.SUCCEEDED

    @property
    def in_progress(self) -> bool:
        """Accepted, not finished: waiting for approval, queued, or running (poll it with
        `selectors.order_action_get(action_id)`)."""
        return self.status in {
            Status.PENDING,
            Status.AWAITING_APPROVAL,
            Status.QUEUED,
            Status.RUNNING,
        }


class RetryLater(Exception):
    """Background work that should run again in `countdown` seconds."""

    def __init__(self, countdown: float) -> None:
        super().__init__(f"retry in {countdown:.1f} s")
        self.countdown = countdown


def _result(action: OrderAction) -> ActionResult:
    return ActionResult(action_id=action.pk, status=action.status, message=action.result_message)


def _event(action: OrderAction, kind: str, message: str = "", actor: str = "") -> None:
    OrderActionEvent.objects.create(action=action, kind=kind, message=message[:2000], actor=actor)


def _order_label(action: OrderAction) -> str:
    return action.order_name or "the order"


def _money(action: OrderAction) -> str:
    if action.amount is None:
        return ""
    return Money(action.amount, action.currency).display()


def _save(action: OrderAction, status: str, message: str, *, retryable: bool = False, **fields):
    """Moves the action to `status`, records the event, and after commit writes the note and
    forgets the customer's cached orders when something changed in Shopify."""
    action.status = status
    action.result_message = message
    action.retryable = retryable
    for name, value in fields.items():
        setattr(action, name, value)
    if status in {Status.SUCCEEDED, Status.FAILED, Status.REJECTED, Status.UNKNOWN, Status.DENIED}:
        action.completed_at = timezone.now()
    action.save()
    _event(action, status, message)
    if status == Status.SUCCEEDED and action.customer_email:
        store = action.store
        email = action.customer_email
        transaction.on_commit(lambda: order_cache.drop(store, email), robust=True)
    if status in NOTE_STATUSES and action.conversation_id:
        from .tasks import write_action_note

        transaction.on_commit(lambda: write_action_note.delay(action.pk), robust=True)
    return _result(action)


def _open(
    *,
    kind: str,
    permission: str,
    store_id: int,
    order_id: str,
    agent: Agent,
    idempotency_key: str,
    params: dict,
    reason: str,
    conversation_id: str,
    customer_email: str,
) -> tuple[OrderAction | None, ActionResult | None]:
    """The audit row of this confirmation: (row to act on, None), or (None, result to return as
    is) for a repeated key, a refused agent or a store that is not connected."""
    key = (idempotency_key or "").strip()
    if not 8 <= len(key) <= 64:
        raise ValueError("idempotency_key must be 8 to 64 characters (a UUID from the card).")
    store = Store.objects.filter(pk=store_id).first()
    if store is None or not store.is_connected:
        return None, ActionResult(None, Status.FAILED, "This store is not connected.")
    try:
        with transaction.atomic():
            action = OrderAction.objects.create(
                store=store,
                kind=kind,
                idempotency_key=key,
                order_id=order_gid(order_id),
                customer_email=(customer_email or "").strip().lower(),
                agent_id=agent.id,
                agent_name=agent.name,
                agent_roles=sorted(agent.roles),
                conversation_id=conversation_id or "",
                reason=reason or "",
                params=params,
            )
    except IntegrityError:
        action = OrderAction.objects.get(idempotency_key=key)
        if action.kind != kind or action.order_id != order_gid(order_id):
            return None, ActionResult(
                action.pk,
                Status.FAILED,
                "This confirmation was already used for another action: open the action again.",
            )
        if action.status == Status.FAILED and action.retryable:
            # Nothing happened in Shopify last time: the same confirmation may try again.
            reopened = OrderAction.objects.filter(
                pk=action.pk, status=Status.FAILED, retryable=True
            ).update(status=Status.PENDING, retryable=False, completed_at=None, params=params)
            if reopened:
                action.refresh_from_db()
                _event(action, "retried", actor=agent.name)
                return action, None
        return None, _result(action)
    if not agent_may(agent, permission):
        verb = {
            REFUND: "refund",
            CANCEL: "cancel",
            ADDRESS_UPDATE: "change the shipping address of",
            INVOICE_SEND: "send invoices for",
        }[permission]
        message = f"You are not allowed to {verb} orders. Ask a supervisor."
        _event(action, "requested", actor=agent.name)
        return None, _save(action, Status.DENIED, message)
    _event(action, "requested", actor=agent.name)
    return action, None


def _claim(action: OrderAction, *, from_statuses: Sequence[str]) -> bool:
    """Takes the action to RUNNING if nobody else did; a RUNNING action whose runner vanished
    (no update for RUNNING_LEASE) can be taken over."""
    now = timezone.now()
    claimed = OrderAction.objects.filter(pk=action.pk, status__in=list(from_statuses)).update(
        status=Status.RUNNING, attempts=F("attempts") + 1, updated_at=now
    )
    if not claimed:
        claimed = OrderAction.objects.filter(
            pk=action.pk, status=Status.RUNNING, updated_at__lt=now - RUNNING_LEASE
        ).update(attempts=F("attempts") + 1, updated_at=now)
    if claimed:
        action.refresh_from_db()
    return bool(claimed)


def _claimed(action: OrderAction) -> bool:
    """True for the one request that takes a new action out of "pending" and so talks to Shopify;
    a concurrent duplicate gets False and the action as the first request left it."""
    if _claim(action, from_statuses=[Status.PENDING]):
        return True
    action.refresh_from_db()
    return False


def _card_client(action: OrderAction) -> ShopifyClient:
    """A client with the card's short timeout: an agent is waiting for the answer."""
    return client_for_store(action.store, timeout=settings.SHOPIFY_CARD_TIMEOUT_SECONDS)


def _send_once(
    action: OrderAction,
    send: Callable[[OrderAction, ShopifyClient], ActionResult],
    *,
    what: str,
    resend: str,
) -> ActionResult:
    """Sends a newly opened action with `send(action, client)` if this request claims it; an
    error becomes the action's failure (`what` names it, `resend` says whether a retry may
    send it again)."""
    if not _claimed(action):
        return _result(action)
    client = _card_client(action)
    try:
        return send(action, client)
    except Exception as error:
        return _failure(action, error, what=what, resend=resend)


def _refusal(what: str, errors: Sequence[UserError]) -> str:
    """Shopify's userErrors as one sentence."""
    details = "; ".join(error.message.strip().rstrip(".") for error in errors if error.message)
    return f"Shopify refused to {what}: {details or 'no reason given'}."


def _failure(action: OrderAction, error: Exception, *, what: str, resend: str) -> ActionResult:
    """A request-level failure while the agent waits, as a sentence.

    `resend` says what to do when Shopify may have received the request without our knowing
    the outcome: "queue" (safe to send again: it cannot act twice), or "unknown" (it could).
    """
    store_name = action.store.display_name
    if isinstance(error, ShopifyThrottled):
        seconds = max(math.ceil(error.retry_after), 1)
        return _save(
            action,
            Status.FAILED,
            f"Shopify is busy right now, so nothing was changed. Try again in {seconds} "
            f"second{'s' if seconds != 1 else ''}.",
            retryable=True,
        )
    if isinstance(error, ShopifyUnavailable):
        if not error.reached_shopify:
            return _save(
                action,
                Status.FAILED,
                f"{store_name} could not be reached, so nothing was changed. "
                "Try again in a moment.",
                retryable=True,
            )
        if resend == "queue":
            _save(
                action,
                Status.QUEUED,
                f"Shopify did not confirm in time. The copilot is making sure it is done exactly "
                f"once and will note the result on the conversation ({what}).",
            )
            from .tasks import execute_order_action

            transaction.on_commit(lambda: execute_order_action.delay(action.pk), robust=True)
            return _result(action)
        return _save(
            action,
            Status.UNKNOWN,
            f"Shopify did not confirm in time whether it could {what}. Check the order's timeline "
            "in Shopify before trying again.",
        )
    if isinstance(error, ShopifyAuthError):
        store_token_rejected(store_id=action.store_id, detail=str(error))
        return _save(
            action,
            Status.FAILED,
            f"{store_name} refused the copilot's access: an admin needs to reconnect the store.",
        )
    if isinstance(error, ProtectedCustomerDataError):
        return _save(
            action,
            Status.FAILED,
            f"{store_name} has not approved the copilot for protected customer data.",
        )
    if isinstance(error, ShopifyAccessDenied | IntegrationError):
        return _save(action, Status.FAILED, f"Shopify refused to {what}: {error}")
    # A bug of ours: say so instead of breaking the card, and leave the trace in the log.
    logger.error("order action %s failed", action.pk, exc_info=error)
    return _save(
        action,
        Status.UNKNOWN,
        f"Something went wrong in the copilot while trying to {what}. Check the order in "
        "Shopify before trying again.",
    )


# --- refund ------------------------------------------------------------------------------------


def _refund_request(action: OrderAction, suggestion: RefundSuggestion) -> dict:
    """What refundCreate will send, kept on the row so that a resend is exactly the same request
    with the same Shopify idempotency key. A new request (after Shopify refused the previous one,
    or nothing was sent) gets a key of its own, since Shopify may remember a key's first answer."""
    requested = action.params.get("line_items")
    restock = bool(action.params.get("restock"))
    if requested is None:
        lines = [
            {"line_item_id": item.line_item_id, "quantity": item.quantity, "restock": restock}
            for item in suggestion.line_items
        ]
    else:
        lines = [
            {
                "line_item_id": item["line_item_id"],
                "quantity": int(item["quantity"]),
                "restock": bool(item.get("restock", restock)),
            }
            for item in requested
        ]
    shipping = suggestion.shipping.amount if suggestion.shipping else Decimal("0")
    return {
        # `attempts` grows with every run of the action, so each new request has its own key.
        "idempotency_key": f"{action.idempotency_key}.{action.attempts}",
        "line_items": lines,
        "shipping_amount": str(shipping) if shipping > 0 else None,
        "transactions": [
            {
                "parent_id": t.parent_id,
                "gateway": t.gateway,
                "amount": str(t.amount.amount),
                "currency": t.amount.currency_code,
            }
            for t in suggestion.transactions
        ],
        "notify": bool(action.params.get("notify_customer")),
        "note": action.reason[:255],
    }


def _refund_send(action: OrderAction, client) -> ActionResult:
    """Sends the refund kept on the row, with the row's key as Shopify's idempotency key."""
    request = action.params["refund_request"]
    result = client.refund_create(
        order_id=action.order_id,
        idempotency_key=request["idempotency_key"],
        line_items=[
            RefundLineItem(item["line_item_id"], item["quantity"], item["restock"])
            for item in request["line_items"]
        ],
        shipping_amount=Decimal(request["shipping_amount"]) if request["shipping_amount"] else None,
        transactions=[
            SuggestedTransaction(
                parent_id=t["parent_id"],
                gateway=t["gateway"],
                kind="REFUND",
                amount=Money(Decimal(t["amount"]), t["currency"]),
            )
            for t in request["transactions"]
        ],
        notify=request["notify"],
        note=request["note"],
    )
    if result.user_errors or result.refund is None:
        return _save(
            action,
            Status.FAILED,
            _refusal(f"refund {_order_label(action)}", result.user_errors),
            retryable=True,
        )
    total = result.refund.total
    return _save(
        action,
        Status.SUCCEEDED,
        f"Refunded {total.display() if total else _money(action)} on {_order_label(action)}.",
        shopify_id=result.refund.id,
        amount=total.amount if total else action.amount,
        currency=total.currency_code if total else action.currency,
    )


def order_refund(
    *,
    store_id: int,
    order_id: str,
    agent: Agent,
    idempotency_key: str,
    confirmed_amount: Decimal | str | None,
    line_items: Sequence[RefundLine] | None = None,
    refund_shipping: bool = False,
    restock: bool = False,
    reason: str = "",
    notify_customer: bool = True,
    conversation_id: str = "",
    customer_email: str = "",
) -> ActionResult:
    """Refunds an order: everything refundable when `line_items` is None, else those items and
    quantities (and the shipping with `refund_shipping`), to the original payment methods.

    Shopify computes the amount (`suggestedRefund`); if it is not `confirmed_amount` (what the
    agent confirmed from `selectors.refund_preview`) nothing is sent. Above
    SHOPIFY_REFUND_APPROVAL_THRESHOLD the refund waits for a supervisor (status
    "awaiting_approval") and is sent once approved in the admin. The same `idempotency_key`
    refunds once, however often it is submitted.
    """
    params = {
        "line_items": [
            {"line_item_id": line.line_item_id, "quantity": line.quantity, "restock": line.restock}
            for line in line_items
        ]
        if line_items is not None
        else None,
        "refund_shipping": refund_shipping,
        "restock": restock,
        "notify_customer": notify_customer,
        "confirmed_amount": str(confirmed_amount) if confirmed_amount is not None else None,
    }
    action, result = _open(
        kind=Kind.REFUND,
        permission=REFUND,
        store_id=store_id,
        order_id=order_id,
        agent=agent,
        idempotency_key=idempotency_key,
        params=params,
        reason=reason,
        conversation_id=conversation_id,
        customer_email=customer_email,
    )
    if result is not None:
        return result
    if not _claimed(action):
        return _result(action)
    client = _card_client(action)
    what = f"refund {order_gid(order_id)}"
    try:
        suggestion = client.suggested_refund(
            action.order_id,
            line_items=[
                RefundLineItem(line.line_item_id, line.quantity, line.restock)
                for line in line_items
            ]
            if line_items is not None
            else None,
            refund_shipping=refund_shipping,
        )
    except Exception as error:
        # Only a read so far: whatever happened, nothing changed in Shopify.
        if isinstance(error, ShopifyUnavailable):
            error.reached_shopify = False
        return _failure(action, error, what=what, resend="unknown")
    if suggestion is None:
        return _save(action, Status.FAILED, f"{action.store.display_name} has no such order.")
    action.order_name = suggestion.order_name
    action.customer_email = action.customer_email or suggestion.order_email.lower()
    action.amount = suggestion.amount.amount
    action.currency = suggestion.amount.currency_code
    label = _order_label(action)
    if confirmed_amount is not None and Decimal(str(confirmed_amount)) != action.amount:
        confirmed = Money(Decimal(str(confirmed_amount)), action.currency).display()
        return _save(
            action,
            Status.FAILED,
            f"The refund now comes to {suggestion.amount.display()}, not the {confirmed} you "
            f"confirmed: {label} changed. Check it and confirm again.",
            retryable=True,
        )
    if action.amount <= 0 and line_items is None:
        return _save(action, Status.FAILED, f"There is nothing left to refund on {label}.")
    action.params = {**action.params, "refund_request": _refund_request(action, suggestion)}
    threshold = refund_approval_threshold()
    if action.amount > threshold:
        with transaction.atomic():
            RefundApproval.objects.get_or_create(action=action)
            return _save(
                action,
                Status.AWAITING_APPROVAL,
                f"Refunds above {Money(threshold, action.currency).display()} need a supervisor's "
                f"approval: the refund of {_money(action)} on {label} is waiting for one.",
            )
    action.params = {**action.params, "refund_sent": True}
    action.save()
    try:
        return _refund_send(action, client)
    except Exception as error:
        return _failure(action, error, what=f"refund {label}", resend="queue")


# --- cancel ------------------------------------------------------------------------------------


def order_cancel(
    *,
    store_id: int,
    order_id: str,
    agent: Agent,
    idempotency_key: str,
    reason: str,
    restock: bool,
    notify_customer: bool,
    refund: bool = True,
    staff_note: str = "",
    conversation_id: str = "",
    customer_email: str = "",
) -> ActionResult:
    """Cancels an order that has not shipped. `reason` is Shopify's: CUSTOMER, DECLINED, FRAUD,
    INVENTORY, STAFF or OTHER; `restock` puts the items back in stock; `notify_customer` emails
    the customer; `refund` refunds the payment to its original method; `staff_note` (at most 255
    characters) is kept on the order and in the audit row.

    Shopify cancels asynchronously: the result is "running" with a message, and a background task
    follows the job to its end (then the action is "succeeded" and the note is written).
    """
    if reason not in CANCEL_REASONS:
        raise ValueError(f"reason must be one of {', '.join(CANCEL_REASONS)}")
    params = {
        "reason": reason,
        "restock": restock,
        "notify_customer": notify_customer,
        "refund": refund,
        "staff_note": staff_note[:255],
    }
    action, result = _open(
        kind=Kind.CANCEL,
        permission=CANCEL,
        store_id=store_id,
        order_id=order_id,
        agent=agent,
        idempotency_key=idempotency_key,
        params=params,
        reason=staff_note,
        conversation_id=conversation_id,
        customer_email=customer_email,
    )
    if result is not None:
        return result
    return _send_once(action, _cancel_send, what="cancel the order", resend="queue")


def _cancel_send(action: OrderAction, client, *, resending: bool = False) -> ActionResult:
    params = action.params
    result = client.order_cancel(
        order_id=action.order_id,
        reason=params["reason"],
        restock=params["restock"],
        notify_customer=params["notify_customer"],
        staff_note=params.get("staff_note") or "",
        refund=params.get("refund", True),
    )
    if result.job is None:
        codes = {error.code for error in result.user_errors}
        if resending and "ORDER_IS_ALREADY_CANCELLED" in codes:
            # Our first, unconfirmed request did it.
            return _cancel_succeeded(action, client)
        return _save(
            action,
            Status.FAILED,
            _refusal(f"cancel {_order_label(action)}", result.user_errors),
            retryable=True,
        )
    _save(
        action,
        Status.RUNNING,
        f"Cancelling {_order_label(action)}: Shopify is processing it.",
        shopify_id=result.job.id,
    )
    from .tasks import follow_order_cancel

    transaction.on_commit(lambda: follow_order_cancel.delay(action.pk), robust=True)
    return _result(action)


def _cancel_succeeded(action: OrderAction, client) -> ActionResult:
    order = client.order(action.order_id)
    if order is None or order.cancelled_at is None:
        return _save(
            action,
            Status.FAILED,
            f"Shopify finished the cancellation job, but {_order_label(action)} is not cancelled.",
        )
    action.order_name = order.name or action.order_name
    action.customer_email = action.customer_email or order.email.lower()
    params = action.params
    details = [params["reason"].lower()]
    if params.get("refund"):
        details.append("refunded")
    if params.get("restock"):
        details.append("restocked")
    if params.get("notify_customer"):
        details.append("customer notified")
    return _save(action, Status.SUCCEEDED, f"Cancelled {order.name} ({', '.join(details)}).")


def order_cancel_follow(*, action_id: int, wait_seconds: float = 20.0) -> bool:
    """Follows a cancellation job until done (polling for at most `wait_seconds`), then checks
    the order. Returns False while the job runs on; raises transient errors for a later retry."""
    action = OrderAction.objects.select_related("store").get(pk=action_id)
    if action.status != Status.RUNNING or not action.shopify_id:
        return True
    client = client_for_store(action.store)
    deadline = time.monotonic() + wait_seconds
    pause = 0.2
    while True:
        job = client.job(action.shopify_id)
        if job.done:
            break
        if time.monotonic() + pause > deadline:
            OrderAction.objects.filter(pk=action.pk).update(updated_at=timezone.now())
            return False
        time.sleep(pause)
        pause = min(pause * 2, 2.0)
    with transaction.atomic():
        action = OrderAction.objects.select_for_update().get(pk=action_id)
        if action.status != Status.RUNNING:
            return True
        _cancel_succeeded(action, client)
    return True


# --- shipping address, invoice -----------------------------------------------------------------


def order_shipping_address_update(
    *,
    store_id: int,
    order_id: str,
    agent: Agent,
    idempotency_key: str,
    address: MailingAddress,
    reason: str = "",
    conversation_id: str = "",
    customer_email: str = "",
) -> ActionResult:
    """Changes where an order ships. Shopify refuses once anything has shipped; its refusal comes
    back as the result's message."""
    params = {"address": address.to_input(), "address_lines": address.lines()}
    action, result = _open(
        kind=Kind.ADDRESS_UPDATE,
        permission=ADDRESS_UPDATE,
        store_id=store_id,
        order_id=order_id,
        agent=agent,
        idempotency_key=idempotency_key,
        params=params,
        reason=reason,
        conversation_id=conversation_id,
        customer_email=customer_email,
    )
    if result is not None:
        return result
    # Setting the same address twice changes nothing more: safe to send again.
    return _send_once(action, _address_send, what="change the shipping address", resend="queue")


def _address_send(action: OrderAction, client) -> ActionResult:
    address = action.params["address"]
    name = f"{address.get('firstName', '')} {address.get('lastName', '')}".strip()
    result = client.order_update(
        order_id=action.order_id,
        shipping_address=MailingAddress(
            name=name,
            address1=address.get("address1", ""),
            address2=address.get("address2", ""),
            city=address.get("city", ""),
            province_code=address.get("provinceCode", ""),
            zip=address.get("zip", ""),
            country_code=address.get("countryCode", ""),
            phone=address.get("phone", ""),
        ),
    )
    action.order_name = result.order_name or action.order_name
    action.customer_email = action.customer_email or result.order_email.lower()
    if result.user_errors or not result.order_id:
        return _save(
            action,
            Status.FAILED,
            _refusal(f"change the shipping address of {_order_label(action)}", result.user_errors),
            retryable=True,
        )
    lines = ", ".join(action.params.get("address_lines") or [])
    return _save(
        action,
        Status.SUCCEEDED,
        f"Changed the shipping address of {_order_label(action)} to {lines}.",
    )


def order_invoice_send(
    *,
    store_id: int,
    order_id: str,
    agent: Agent,
    idempotency_key: str,
    to: str = "",
    custom_message: str = "",
    conversation_id: str = "",
    customer_email: str = "",
) -> ActionResult:
    """Emails the order's invoice again (to the order's email unless `to` is given). Never sent
    twice for one key; when Shopify does not confirm in time the result is "unknown"."""
    params = {"to": to, "custom_message": custom_message}
    action, result = _open(
        kind=Kind.INVOICE_SEND,
        permission=INVOICE_SEND,
        store_id=store_id,
        order_id=order_id,
        agent=agent,
        idempotency_key=idempotency_key,
        params=params,
        reason="",
        conversation_id=conversation_id,
        customer_email=customer_email,
    )
    if result is not None:
        return result
    return _send_once(action, _invoice_send, what="send the invoice", resend="unknown")


def _invoice_send(action: OrderAction, client) -> ActionResult:
    to = action.params.get("to") or ""
    result = client.order_invoice_send(
        action.order_id, to=to, custom_message=action.params.get("custom_message") or ""
    )
    action.order_name = result.order_name or action.order_name
    action.customer_email = action.customer_email or result.order_email.lower()
    if result.user_errors or not result.order_id:
        return _save(
            action,
            Status.FAILED,
            _refusal(f"send the invoice of {_order_label(action)}", result.user_errors),
            retryable=True,
        )
    recipient = to or result.order_email or "the customer"
    action.params = {**action.params, "sent_to": recipient}
    return _save(
        action,
        Status.SUCCEEDED,
        f"Sent the invoice of {_order_label(action)} to {recipient} again.",
    )


# --- approvals and background execution --------------------------------------------------------


def refund_approval_decide(
    *, approval_id: int, user, approve: bool, comment: str = ""
) -> ActionResult:
    """A supervisor approves (the refund is then sent in the background) or rejects a refund.
    Needs the `commerce.decide_refundapproval` permission; deciding twice changes nothing."""
    if not user.has_perm("commerce.decide_refundapproval"):
        raise PermissionDenied("You may not approve or reject refunds.")
    decision = RefundApproval.Decision.APPROVED if approve else RefundApproval.Decision.REJECTED
    supervisor = user.get_full_name() or user.get_username()
    with transaction.atomic():
        decided = RefundApproval.objects.filter(
            pk=approval_id, decision=RefundApproval.Decision.PENDING
        ).update(decision=decision, decided_by=user, decided_at=timezone.now(), comment=comment)
        approval = RefundApproval.objects.select_related("action__store").get(pk=approval_id)
        action = approval.action
        if not decided or action.status != Status.AWAITING_APPROVAL:
            return _result(action)
        if approve:
            _event(action, "approved", comment, actor=supervisor)
            _save(
                action,
                Status.QUEUED,
                f"{supervisor} approved the refund of {_money(action)} on {_order_label(action)}; "
                "it is being sent.",
            )
            from .tasks import execute_order_action

            transaction.on_commit(lambda: execute_order_action.delay(action.pk), robust=True)
            return _result(action)
        _event(action, "rejected", comment, actor=supervisor)
        message = (
            f"{supervisor} did not approve the refund of {_money(action)} on {_order_label(action)}"
        )
        return _save(
            action, Status.REJECTED, f"{message}: {comment}." if comment else f"{message}."
        )


def order_action_execute(*, action_id: int) -> ActionResult:
    """Background: sends a queued action (an approved refund, or one whose first attempt Shopify
    did not confirm). Raises RetryLater when Shopify is busy or unreachable; every resend is
    safe (the same refund key, an address set again, a cancellation checked first)."""
    action = OrderAction.objects.select_related("store").get(pk=action_id)
    if not _claim(action, from_statuses=[Status.QUEUED]):
        return _result(action)
    if not action.store.is_connected:
        return _save(action, Status.FAILED, f"{action.store.display_name} is not connected.")
    client = client_for_store(action.store)
    try:
        if action.kind == Kind.REFUND:
            return _refund_execute(action, client)
        if action.kind == Kind.CANCEL:
            order = client.order(action.order_id)
            if order is not None and order.cancelled_at is not None:
                return _cancel_succeeded(action, client)
            return _cancel_send(action, client, resending=True)
        if action.kind == Kind.ADDRESS_UPDATE:
            return _address_send(action, client)
        return _save(action, Status.UNKNOWN, "This action is never sent again automatically.")
    except (ShopifyThrottled, ShopifyUnavailable) as error:
        OrderAction.objects.filter(pk=action.pk).update(status=Status.QUEUED)
        countdown = error.retry_after if isinstance(error, ShopifyThrottled) else 5.0
        raise RetryLater(countdown) from error
    except IntegrationError as error:
        return _save(action, Status.FAILED, f"Shopify refused: {error}")


def _refund_execute(action: OrderAction, client) -> ActionResult:
    if "refund_request" not in action.params:
        return _save(action, Status.FAILED, "The refund has no request to send.")
    if action.params.get("refund_sent"):
        # Sent before without a confirmation: send exactly the same again (same key).
        return _refund_send(action, client)
    approved = action.amount
    suggestion = client.suggested_refund(
        action.order_id,
        line_items=[
            RefundLineItem(item["line_item_id"], item["quantity"], item["restock"])
            for item in action.params["refund_request"]["line_items"]
        ]
        if action.params.get("line_items") is not None
        else None,
        refund_shipping=bool(action.params.get("refund_shipping")),
    )
    if suggestion is None or suggestion.amount.amount != approved:
        now_amount = suggestion.amount.display() if suggestion else "nothing"
        return _save(
            action,
            Status.FAILED,
            f"{_order_label(action)} changed since the refund was approved (it would now refund "
            f"{now_amount}, not {_money(action)}), so nothing was sent.",
        )
    action.params = {
        **action.params,
        "refund_request": _refund_request(action, suggestion),
        "refund_sent": True,
    }
    action.save(update_fields=["params", "updated_at"])
    return _refund_send(action, client)


def order_action_give_up(*, action_id: int) -> None:
    """Background retries ran out: the outcome in Shopify is unknown."""
    action = OrderAction.objects.select_related("store").get(pk=action_id)
    if action.status in {Status.QUEUED, Status.RUNNING}:
        _save(
            action,
            Status.UNKNOWN,
            f"Shopify stayed unreachable: check {_order_label(action)} in Shopify.",
        )


# --- notes on the Kustomer conversation --------------------------------------------------------


def order_action_note_body(action: OrderAction) -> str:
    """The internal note for the action's current state, e.g.
    "Refunded $42.00 on #1042 — Arrived damaged — by Ada Agent"."""
    order = _order_label(action)
    reason = f" — {action.reason.strip()}" if action.reason.strip() else ""
    by = f" — by {action.agent_name or action.agent_id}"
    approval = getattr(action, "approval", None)
    supervisor_name = ""
    if approval and approval.decided_by:
        supervisor_name = approval.decided_by.get_full_name() or approval.decided_by.get_username()
    if action.status == Status.AWAITING_APPROVAL:
        return (
            f"Refund of {_money(action)} on {order} is waiting for a supervisor's approval"
            f"{reason} — requested by {action.agent_name or action.agent_id}"
        )
    if action.status == Status.REJECTED:
        supervisor = f" by {supervisor_name}" if supervisor_name else ""
        comment = f": {approval.comment}" if approval and approval.comment else ""
        return (
            f"Refund of {_money(action)} on {order} was not approved{supervisor}{comment}"
            f" — requested by {action.agent_name or action.agent_id}"
        )
    if action.kind == Kind.REFUND:
        approved = f", approved by {supervisor_name}" if supervisor_name else ""
        return f"Refunded {_money(action)} on {order}{reason}{by}{approved}"
    if action.kind == Kind.CANCEL:
        details = action.result_message.partition("(")[2].rstrip(".)")
        return f"Cancelled {order}" + (f" ({details})" if details else "") + f"{reason}{by}"
    if action.kind == Kind.ADDRESS_UPDATE:
        lines = ", ".join(action.params.get("address_lines") or [])
        return f"Changed the shipping address of {order} to {lines}{reason}{by}"
    return (
        f"Sent the invoice of {order} again to {action.params.get('sent_to', 'the customer')}{by}"
    )


def order_action_note_write(*, action_id: int, client) -> bool:
    """Writes the note for the action's current state once (the external id names the row and
    the state, so a retry cannot add a second note). `client` has Kustomer's `create_note`."""
    action = OrderAction.objects.select_related("store").get(pk=action_id)
    status = action.status
    if not action.conversation_id or status not in NOTE_STATUSES:
        return False
    if status in (action.notes_written or []):
        return False
    client.create_note(
        action.conversation_id,
        body=order_action_note_body(action),
        external_id=f"copilot-shopify-action-{action.pk}-{status}",
    )
    with transaction.atomic():
        action = OrderAction.objects.select_for_update().get(pk=action_id)
        action.notes_written = [*(action.notes_written or []), status]
        action.save(update_fields=["notes_written", "updated_at"])
        _event(action, "note_written", status)
    return True


def order_action_note_failed(*, action_id: int, error: str) -> None:
    action = OrderAction.objects.get(pk=action_id)
    _event(action, "note_failed", error)
