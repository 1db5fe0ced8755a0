"""The card's Orders section and the order actions, as HTML fragments.

Every fragment is server-rendered and swapped in by the card's script (see `card.js`): a GET
button replaces a panel, a form posts and its answer replaces a panel, and `X-Card-Refresh:
orders` reloads the section once an action changed something. The customer comes from the card's
context as a Kustomer id and is checked with Kustomer as the agent (`customers.customer_lookup`);
an order is acted on only if it is that customer's. Writes go through `copilot.commerce`.
"""

import uuid
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from copilot.commerce import services as commerce
from copilot.commerce.action_lifecycle import ActionResult, Status, amount_display
from copilot.commerce.models import OrderAction, RefundApproval
from copilot.commerce.permissions import (
    ADDRESS_UPDATE,
    CANCEL,
    INVOICE_SEND,
    REFUND,
    REFUND_APPROVE,
    agent_may,
)
from copilot.commerce.selectors import (
    BUSY,
    ERROR,
    STALE,
    UNAVAILABLE,
    RefundLine,
    refund_approval_threshold,
    store_get,
)
from copilot.integrations.shopify import CANCEL_REASONS, MailingAddress, Money, Order, order_gid

from .access import conversation_access
from .auth import card_session_required, not_signed_in
from .customers import CustomerLookup, customer_lookup
from .order_display import (
    CANCEL_REASON_WORDS,
    KEY,
    NOT_ALLOWED,
    RECENT_ACTIONS,
    RESULT_TONES,
    Customer,
    address_refusal,
    cancel_refusal,
    invoice_refusal,
    legacy_id,
    money,
    order_dom_id,
    order_view,
    refund_refusal,
    words,
)
from .sessions import SessionEnded


class Refusal(Exception):
    """Ends a view with one sentence, rendered in the panel the request would have replaced."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _params(request: HttpRequest) -> QueryDict:
    return request.POST if request.method == "POST" else request.GET


def _customer(request: HttpRequest) -> Customer:
    """The customer of the card's context, as Kustomer shows them to the agent."""
    params = _params(request)
    customer_id = (params.get("customer") or "").strip()
    lookup: CustomerLookup = customer_lookup(request.card_session, customer_id)
    if lookup.unavailable:
        raise Refusal(
            "Kustomer could not be reached to check this customer. Try again in a moment.",
            status=503,
        )
    if not lookup.visible:
        raise Refusal("Kustomer does not show you this customer.", status=404)
    conversation_id = (params.get("conversation") or "").strip()[:64]
    return Customer(id=customer_id, conversation_id=conversation_id, email=lookup.email)


def _order(customer: Customer, store_id: int, order_id: int) -> tuple[str, Order]:
    """The order, fresh from Shopify, if it is this customer's; its store's name with it."""
    if not customer.email:
        raise Refusal("This customer has no email address, so their orders cannot be found.")
    lookup = commerce.order_for_card(store_id=store_id, order_id=order_gid(order_id))
    if lookup.order is None:
        status = 404 if lookup.state == "missing" else 503 if lookup.state != ERROR else 502
        raise Refusal(lookup.message or "This order could not be read.", status=status)
    order = lookup.order
    emails = {order.email.lower(), (order.customer.email if order.customer else "").lower()}
    if customer.email not in emails:
        raise Refusal("This order is not one of this customer's orders.", status=404)
    store = store_get(store_id)
    return (store.display_name if store else ""), order


def _conversation_for_note(request: HttpRequest, customer: Customer) -> str:
    """The conversation to note the action on, if Kustomer shows it to the agent and it is this
    customer's (the id comes from the browser)."""
    if not customer.conversation_id:
        return ""
    access = conversation_access(request.card_session, customer.conversation_id)
    return customer.conversation_id if access.customer_id == customer.id else ""


def _key(request: HttpRequest) -> str:
    key = request.POST.get("key") or ""
    if not KEY.match(key):
        raise Refusal("This confirmation is incomplete. Open the action again.")
    return key


def _render(request, template: str, context: dict, *, status: int = 200) -> HttpResponse:
    return HttpResponse(render_to_string(template, context, request=request), status=status)


def _panel_message(request, panel_id: str, message: str, *, status: int, back_url: str = ""):
    return _render(
        request,
        "cards/_order_result.html",
        {"panel_id": panel_id, "message": message, "tone": "error", "back_url": back_url},
        status=status,
    )


def fragment(view):
    """A fragment view: a signed-in card session, the session ended by Kustomer as a 401, and a
    `Refusal` as a sentence in the panel being replaced."""

    def handle(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except SessionEnded:
            return not_signed_in()
        except Refusal as refusal:
            return _panel_message(
                request, _panel_id(request, kwargs), str(refusal), status=refusal.status
            )

    handle.__name__ = view.__name__
    handle.__doc__ = view.__doc__
    return card_session_required(handle)


def _panel_id(request: HttpRequest, kwargs: dict) -> str:
    if "approval_id" in kwargs:
        return f"approval-{kwargs['approval_id']}"
    if "order_id" in kwargs:
        return f"order-{kwargs['store_id']}-{kwargs['order_id']}-actions"
    return "orders-body"


def _actions_url(store_id: int, order_id: int, customer: Customer) -> str:
    return f"{reverse('cards:orders-actions', args=[store_id, order_id])}?{customer.query()}"


# --- the section -------------------------------------------------------------------------------


def _supervisor(request: HttpRequest) -> bool:
    """Whether the signed-in agent may decide refund approvals (`refund_approve` in
    SHOPIFY_ACTION_PERMISSIONS, by their Kustomer id or roles)."""
    return agent_may(request.card_agent, REFUND_APPROVE)


def _pending_approvals(email: str) -> list[RefundApproval]:
    if not email:
        return []
    return list(
        RefundApproval.objects.filter(
            decision=RefundApproval.Decision.PENDING,
            action__customer_email=email,
            action__status=Status.AWAITING_APPROVAL,
        )
        .select_related("action", "action__store")
        .order_by("requested_at")
    )


def _recent_actions(pairs: list[tuple[int, str]]) -> dict[tuple[int, str], OrderAction]:
    """The latest action of each order within RECENT_ACTIONS, so its sentence outlives the
    section's refresh."""
    if not pairs:
        return {}
    recent = OrderAction.objects.filter(
        store_id__in={store_id for store_id, _ in pairs},
        order_id__in={order_id for _, order_id in pairs},
        updated_at__gte=timezone.now() - RECENT_ACTIONS,
    ).order_by("-updated_at")
    latest: dict[tuple[int, str], OrderAction] = {}
    for action in recent:
        latest.setdefault((action.store_id, action.order_id), action)
    return latest


STORE_TONES = {STALE: "warn", BUSY: "warn", UNAVAILABLE: "error", ERROR: "error"}


@require_GET
@fragment
def orders_fragment(request: HttpRequest) -> HttpResponse:
    """The Orders section's body: this customer's orders in every connected store."""
    customer = _customer(request)
    context = {"customer": customer, "query": customer.query()}
    if not customer.email:
        return _render(request, "cards/_orders.html", {**context, "no_email": True})
    orders = commerce.customer_orders_for_card(customer.email)
    approvals = _pending_approvals(customer.email)
    waiting = {(a.action.store_id, a.action.order_id) for a in approvals}
    pairs = [(store.store_id, order.id) for store, order in orders.orders]
    recent = _recent_actions(pairs)
    views = []
    for index, (store, order) in enumerate(orders.orders):
        action = recent.get((store.store_id, order.id))
        views.append(
            order_view(
                request,
                store.store_id,
                store.store_name,
                order,
                customer,
                awaiting_approval=(store.store_id, order.id) in waiting,
                recent=action,
                open=index == 0 or action is not None,
            )
        )
    summaries = [
        (store.store_name, store.customer) for store in orders.stores if store.customer is not None
    ]
    notices = [
        (STORE_TONES.get(store.state, ""), store.message)
        for store in orders.stores
        if store.message
    ]
    supervisor = _supervisor(request)
    return _render(
        request,
        "cards/_orders.html",
        {
            **context,
            "stores": orders.stores,
            "orders": views,
            "several_stores": len(orders.stores) > 1,
            "summaries": summaries,
            "notices": notices,
            "retry": any(store.state in {BUSY, UNAVAILABLE} for store in orders.stores),
            "approvals": [(approval, amount_display(approval.action)) for approval in approvals],
            "decisions": [
                ("approve", "Approve", "btn--primary"),
                ("reject", "Reject", "btn--quiet"),
            ],
            "is_supervisor": supervisor,
            "fragment_url": f"{reverse('cards:orders')}?{customer.query()}",
        },
    )


@require_GET
@fragment
def order_actions(request: HttpRequest, store_id: int, order_id: int) -> HttpResponse:
    """An order's action buttons (where "Back" returns to)."""
    customer = _customer(request)
    store_name, order = _order(customer, store_id, order_id)
    view = order_view(request, store_id, store_name, order, customer)
    return _render(request, "cards/_order_actions.html", {"view": view})


# --- refund ------------------------------------------------------------------------------------


def _refund_form(request, customer: Customer, store_id: int, order: Order, **extra) -> dict:
    panel_id = f"{order_dom_id(store_id, order)}-actions"
    sent = request.POST if request.method == "POST" else {}
    refundable = [
        (
            item,
            legacy_id(item.id),
            sent.get(f"quantity-{legacy_id(item.id)}", item.refundable_quantity),
        )
        for item in order.line_items
        if item.refundable_quantity > 0
    ]
    return {
        "panel_id": panel_id,
        "order": order,
        "customer": customer,
        "refundable": refundable,
        "shipping": money(order.shipping) if order.shipping and order.shipping.amount else "",
        "review_url": reverse("cards:orders-refund-review", args=[store_id, order_id_of(order)]),
        "back_url": _actions_url(store_id, order_id_of(order), customer),
        **extra,
    }


def order_id_of(order: Order) -> str:
    return order.legacy_id or legacy_id(order.id)


@require_GET
@fragment
def refund_start(request: HttpRequest, store_id: int, order_id: int) -> HttpResponse:
    """The refund's first step: which items and quantities (everything by default)."""
    customer = _customer(request)
    _, order = _order(customer, store_id, order_id)
    if not agent_may(request.card_agent, REFUND):
        raise Refusal(NOT_ALLOWED[REFUND] + " Ask a supervisor.", status=403)
    if refusal := refund_refusal(order):
        raise Refusal(refusal, status=409)
    return _render(
        request, "cards/_order_refund.html", _refund_form(request, customer, store_id, order)
    )


def _picked(request: HttpRequest, order: Order) -> tuple[list[RefundLine] | None, bool, bool]:
    """What the agent picked: (lines, or None for everything refundable; shipping; restock)."""
    restock = request.POST.get("restock") == "1"
    shipping = request.POST.get("shipping") == "1"
    if request.POST.get("full") == "1":
        return None, True, restock
    picked = []
    everything = True
    for item in order.line_items:
        if item.refundable_quantity <= 0:
            continue
        raw = request.POST.get(f"quantity-{legacy_id(item.id)}", "0").strip() or "0"
        try:
            quantity = int(raw)
        except ValueError:
            raise Refusal(f"The quantity of {item.title} must be a whole number.") from None
        if not 0 <= quantity <= item.refundable_quantity:
            raise Refusal(
                f"Between 0 and {item.refundable_quantity} of {item.title} can be refunded."
            )
        everything = everything and quantity == item.refundable_quantity
        if quantity:
            picked.append(RefundLine(item.id, quantity, restock=restock))
    has_shipping = bool(order.shipping and order.shipping.amount)
    if everything and (shipping or not has_shipping):
        return None, True, restock
    if not picked and not shipping:
        raise Refusal("Choose at least one item, or the shipping, to refund.")
    return picked, shipping, restock


@require_POST
@fragment
def refund_review(request: HttpRequest, store_id: int, order_id: int) -> HttpResponse:
    """The refund's confirmation: Shopify's suggested refund for what the agent picked."""
    customer = _customer(request)
    _, order = _order(customer, store_id, order_id)
    try:
        line_items, shipping, restock = _picked(request, order)
    except Refusal as refusal:
        context = _refund_form(request, customer, store_id, order, error=str(refusal))
        return _render(request, "cards/_order_refund.html", context, status=400)
    preview = commerce.refund_preview(
        store_id=store_id,
        order_id=order.id,
        line_items=line_items,
        refund_shipping=shipping,
    )
    if preview.amount is None:
        status = 404 if preview.state == "missing" else 503
        raise Refusal(preview.message or "Shopify could not compute the refund.", status=status)
    if preview.amount.amount <= 0:
        raise Refusal(f"There is nothing to refund on {order.name} with that choice.", status=409)
    titles = {item.id: item.title for item in order.line_items}
    threshold = refund_approval_threshold()
    return _render(
        request,
        "cards/_order_refund_confirm.html",
        {
            "panel_id": f"{order_dom_id(store_id, order)}-actions",
            "order": order,
            "customer": customer,
            "key": uuid.uuid4().hex,
            "preview": preview,
            "amount": preview.amount.display(),
            "shipping": money(preview.shipping)
            if preview.shipping and preview.shipping.amount
            else "",
            "lines": [
                (titles.get(item.line_item_id, "an item"), item) for item in preview.line_items
            ],
            "full": line_items is None,
            "picked": [f"{line.line_item_id}|{line.quantity}" for line in line_items or ()],
            "refund_shipping": shipping,
            "restock": restock,
            "notify": request.POST.get("notify") == "1",
            "reason": (request.POST.get("reason") or "").strip()[:255],
            "threshold": Money(threshold, preview.amount.currency_code).display(),
            "confirm_url": reverse("cards:orders-refund-confirm", args=[store_id, order_id]),
            "back_url": f"{reverse('cards:orders-refund', args=[store_id, order_id])}?"
            f"{customer.query()}",
        },
    )


def _lines_confirmed(request: HttpRequest) -> list[RefundLine] | None:
    if request.POST.get("full") == "1":
        return None
    restock = request.POST.get("restock") == "1"
    confirmed = []
    for value in request.POST.getlist("line"):
        line_item_id, _, quantity = value.rpartition("|")
        if not line_item_id.startswith("gid://shopify/LineItem/") or not quantity.isdigit():
            raise Refusal("This confirmation is incomplete. Open the refund again.")
        confirmed.append(RefundLine(line_item_id, int(quantity), restock=restock))
    return confirmed


def _result(request, panel_id: str, result: ActionResult, *, back_url: str = "") -> HttpResponse:
    response = _render(
        request,
        "cards/_order_result.html",
        {
            "panel_id": panel_id,
            "message": result.message,
            "tone": RESULT_TONES.get(result.status, "error"),
            "back_url": back_url,
        },
    )
    if result.status not in {Status.FAILED, Status.DENIED}:
        response["X-Card-Refresh"] = "orders"
    return response


@require_POST
@fragment
def refund_confirm(request: HttpRequest, store_id: int, order_id: int) -> HttpResponse:
    """Refunds what the confirmation showed, once per confirmation."""
    customer = _customer(request)
    key = _key(request)
    try:
        amount = Decimal(request.POST.get("amount") or "")
    except InvalidOperation:
        raise Refusal("This confirmation is incomplete. Open the refund again.") from None
    result = commerce.order_refund(
        store_id=store_id,
        order_id=_owned_order_id(customer, store_id, order_id, key),
        agent=request.card_agent,
        idempotency_key=key,
        confirmed_amount=amount,
        line_items=_lines_confirmed(request),
        refund_shipping=request.POST.get("shipping") == "1",
        restock=request.POST.get("restock") == "1",
        reason=(request.POST.get("reason") or "").strip()[:255],
        notify_customer=request.POST.get("notify") == "1",
        conversation_id=_conversation_for_note(request, customer),
        customer_email=customer.email,
    )
    return _result(
        request,
        f"order-{store_id}-{order_id}-actions",
        result,
        back_url=_actions_url(store_id, order_id, customer),
    )


def _owned_order_id(customer: Customer, store_id: int, order_id: int, key: str) -> str:
    """The order's id, once it is known to be this customer's. A repeated confirmation (its
    action exists already) is answered from the audit row without asking Shopify again."""
    gid = order_gid(order_id)
    if OrderAction.objects.filter(
        idempotency_key=key, store_id=store_id, order_id=gid, customer_email=customer.email
    ).exists():
        return gid
    _order(customer, store_id, order_id)
    return gid


# --- cancel, address, invoice ------------------------------------------------------------------


def _action_form(request, store_id, order_id, permission, refusal):
    customer = _customer(request)
    _, order = _order(customer, store_id, order_id)
    if not agent_may(request.card_agent, permission):
        raise Refusal(NOT_ALLOWED[permission] + " Ask a supervisor.", status=403)
    if reason := refusal(order):
        raise Refusal(reason, status=409)
    context = {
        "panel_id": f"{order_dom_id(store_id, order)}-actions",
        "order": order,
        "customer": customer,
        "key": uuid.uuid4().hex,
        "back_url": _actions_url(store_id, order_id, customer),
    }
    return order, context


@require_GET
@fragment
def cancel_start(request: HttpRequest, store_id: int, order_id: int) -> HttpResponse:
    """The cancellation's confirmation: reason, restock, refund (with Shopify's amount), email."""
    order, context = _action_form(request, store_id, order_id, CANCEL, cancel_refusal)
    refund_amount = ""
    if order.can_refund:
        preview = commerce.refund_preview(store_id=store_id, order_id=order.id)
        refund_amount = preview.amount.display() if preview.amount else ""
    context.update(
        refund_amount=refund_amount,
        reasons=[(code, CANCEL_REASON_WORDS.get(code, words(code))) for code in CANCEL_REASONS],
        confirm_url=reverse("cards:orders-cancel-confirm", args=[store_id, order_id]),
    )
    return _render(request, "cards/_order_cancel.html", context)


@require_POST
@fragment
def cancel_confirm(request: HttpRequest, store_id: int, order_id: int) -> HttpResponse:
    customer = _customer(request)
    key = _key(request)
    reason = request.POST.get("reason") or ""
    if reason not in CANCEL_REASONS:
        raise Refusal("Choose why the order is cancelled.")
    result = commerce.order_cancel(
        store_id=store_id,
        order_id=_owned_order_id(customer, store_id, order_id, key),
        agent=request.card_agent,
        idempotency_key=key,
        reason=reason,
        restock=request.POST.get("restock") == "1",
        notify_customer=request.POST.get("notify") == "1",
        refund=request.POST.get("refund") == "1",
        staff_note=(request.POST.get("note") or "").strip()[:255],
        conversation_id=_conversation_for_note(request, customer),
        customer_email=customer.email,
    )
    return _result(
        request,
        f"order-{store_id}-{order_id}-actions",
        result,
        back_url=_actions_url(store_id, order_id, customer),
    )


ADDRESS_FIELDS = (
    ("name", "Name", "name"),
    ("address1", "Address", "address-line1"),
    ("address2", "Apartment, suite (optional)", "address-line2"),
    ("city", "City", "address-level2"),
    ("province_code", "State or province code", "address-level1"),
    ("zip", "ZIP or postal code", "postal-code"),
    ("country_code", "Country code (e.g. US)", "country"),
    ("phone", "Phone (optional)", "tel"),
)
REQUIRED_ADDRESS = ("name", "address1", "city", "zip", "country_code")


@require_GET
@fragment
def address_start(request: HttpRequest, store_id: int, order_id: int) -> HttpResponse:
    """The new shipping address, filled in with the current one."""
    order, context = _action_form(request, store_id, order_id, ADDRESS_UPDATE, address_refusal)
    current = order.shipping_address or MailingAddress()
    context.update(
        current=current.lines(),
        fields=[
            (name, label, autocomplete, getattr(current, name), name in REQUIRED_ADDRESS)
            for name, label, autocomplete in ADDRESS_FIELDS
        ],
        confirm_url=reverse("cards:orders-address-confirm", args=[store_id, order_id]),
    )
    return _render(request, "cards/_order_address.html", context)


@require_POST
@fragment
def address_confirm(request: HttpRequest, store_id: int, order_id: int) -> HttpResponse:
    customer = _customer(request)
    key = _key(request)
    values = {name: (request.POST.get(name) or "").strip()[:255] for name, *_ in ADDRESS_FIELDS}
    missing = [
        label for name, label, _ in ADDRESS_FIELDS if name in REQUIRED_ADDRESS and not values[name]
    ]
    if missing:
        raise Refusal(f"The new address needs: {', '.join(missing).lower()}.")
    values["country_code"] = values["country_code"].upper()
    values["province_code"] = values["province_code"].upper()
    result = commerce.order_shipping_address_update(
        store_id=store_id,
        order_id=_owned_order_id(customer, store_id, order_id, key),
        agent=request.card_agent,
        idempotency_key=key,
        address=MailingAddress(**values),
        conversation_id=_conversation_for_note(request, customer),
        customer_email=customer.email,
    )
    return _result(
        request,
        f"order-{store_id}-{order_id}-actions",
        result,
        back_url=_actions_url(store_id, order_id, customer),
    )


@require_GET
@fragment
def invoice_start(request: HttpRequest, store_id: int, order_id: int) -> HttpResponse:
    """Sending the invoice again: to whom, with an optional message."""
    _, context = _action_form(request, store_id, order_id, INVOICE_SEND, invoice_refusal)
    context["confirm_url"] = reverse("cards:orders-invoice-confirm", args=[store_id, order_id])
    return _render(request, "cards/_order_invoice.html", context)


@require_POST
@fragment
def invoice_confirm(request: HttpRequest, store_id: int, order_id: int) -> HttpResponse:
    customer = _customer(request)
    key = _key(request)
    result = commerce.order_invoice_send(
        store_id=store_id,
        order_id=_owned_order_id(customer, store_id, order_id, key),
        agent=request.card_agent,
        idempotency_key=key,
        custom_message=(request.POST.get("message") or "").strip()[:500],
        conversation_id=_conversation_for_note(request, customer),
        customer_email=customer.email,
    )
    return _result(
        request,
        f"order-{store_id}-{order_id}-actions",
        result,
        back_url=_actions_url(store_id, order_id, customer),
    )


# --- approvals ---------------------------------------------------------------------------------


@require_POST
@fragment
def approval_decide(request: HttpRequest, approval_id: int) -> HttpResponse:
    """A supervisor approves or rejects a refund waiting for this customer."""
    customer = _customer(request)
    if not _supervisor(request):
        raise Refusal("Only a supervisor can approve or reject refunds.", status=403)
    approval = RefundApproval.objects.filter(
        pk=approval_id, action__customer_email=customer.email
    ).first()
    if approval is None or not customer.email:
        raise Refusal("This approval is not one of this customer's.", status=404)
    decision = request.POST.get("decision")
    if decision not in {"approve", "reject"}:
        raise Refusal("Choose Approve or Reject.")
    try:
        result = commerce.refund_approval_decide(
            approval_id=approval.pk,
            agent=request.card_agent,
            approve=decision == "approve",
            comment=(request.POST.get("comment") or "").strip()[:500],
        )
    except PermissionDenied as error:
        raise Refusal(str(error), status=403) from error
    response = _render(
        request,
        "cards/_order_result.html",
        {
            "panel_id": f"approval-{approval_id}",
            "message": result.message,
            "tone": "ok" if result.status in {Status.QUEUED, Status.SUCCEEDED} else "",
        },
    )
    response["X-Card-Refresh"] = "orders"
    return response
