"""The order actions on the card: confirmations with Shopify's amounts, a double submit that acts
once, Shopify's refusals as sentences, disabled actions with their reasons, and approvals."""

from decimal import Decimal

import pytest

from copilot.commerce import services
from copilot.commerce.models import OrderAction, RefundApproval
from copilot.sandbox.shopify.models import Refund, gid
from tests.cards import test_orders
from tests.cards.test_orders import agent_token, html, orders_of
from tests.sandbox_shopify.support import order_of

pytestmark = pytest.mark.django_db(transaction=True)

# The fixtures of the Orders section's tests: the fake Shopify and the fake Kustomer.
_fresh_shopify_state = test_orders._fresh_shopify_state
fake_shop = test_orders.fake_shop
shopify_url = test_orders.shopify_url
store = test_orders.store
kustomer = test_orders.kustomer
customer_id = test_orders.customer_id
agent = test_orders.agent


def legacy(kind: str, row) -> str:
    """The numeric id Shopify gives a row of the fake."""
    return gid(kind, row.pk).rsplit("/", 1)[-1]


def order_url(store, order, action: str) -> str:
    return f"/card/orders/{store.pk}/{legacy('Order', order)}/{action}"


def dom_id(store, order) -> str:
    return f"order-{store.pk}-{legacy('Order', order)}"


def hidden_fields(form) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for element in form.find_all("input"):
        if element.attrs.get("type") == "hidden":
            fields.setdefault(element.attrs["name"], []).append(element.attrs.get("value", ""))
    return fields


def review_refund(client, store, order, customer: str, **picked):
    """The refund's first two steps: the picker, then Shopify's confirmation of the choice."""
    start = client.get(order_url(store, order, "refund"), {"customer": customer})
    assert start.status_code == 200
    form = {"customer": customer, "notify": "1", **picked}
    return client.post(order_url(store, order, "refund/review"), form)


def test_the_refund_confirmation_states_shopifys_suggested_refund(
    store, fake_shop, agent, customer_id
):
    katherine = customer_id("katherine@example.com", "Katherine Johnson")
    order = order_of(fake_shop, "katherine@example.com", state="unfulfilled")  # $45 + $8
    line = order.line_items.get()

    response = review_refund(
        agent,
        store,
        order,
        katherine,
        **{f"quantity-{legacy('LineItem', line)}": "1"},
        shipping="1",
    )

    preview = services.refund_preview(store_id=store.pk, order_id=gid("Order", order.pk))
    page = html(response)
    confirm = page.by_text("button", "Refund $")
    assert confirm.attrs["type"] == "submit"
    assert confirm.text == f"Refund {preview.amount.display()}" == "Refund $53.00"
    assert "Shipping: $8.00" in page.text
    assert "1 × Leather Card Wallet" in page.text  # noqa: RUF001
    fields = hidden_fields(page.find_all("form")[0])
    assert fields["amount"] == ["53.00"]
    assert fields["full"] == ["1"]
    assert len(fields["key"][0]) >= 8
    assert page.by_text("button", "Back").attrs["data-card-get"].endswith(f"customer={katherine}")
    assert not OrderAction.objects.exists()  # nothing happens before the confirmation


def test_a_refund_of_one_line_posted_twice_with_the_same_key_refunds_once(
    store, fake_shop, agent, customer_id
):
    ada = customer_id()
    order = order_of(fake_shop, "ada@example.com", state="unfulfilled")  # sweater $89, beanie $24
    sweater = order.line_items.get(title="Merino Crew Sweater")
    beanie = order.line_items.get(title="Wool Blend Beanie")
    review = review_refund(
        agent,
        store,
        order,
        ada,
        **{
            f"quantity-{legacy('LineItem', sweater)}": "0",
            f"quantity-{legacy('LineItem', beanie)}": "1",
        },
    )
    page = html(review)
    assert page.by_text("button", "Refund $").text == "Refund $24.00"
    fields = hidden_fields(page.find_all("form")[0])
    assert "full" not in fields and "shipping" not in fields

    first = agent.post(order_url(store, order, "refund/confirm"), fields)
    second = agent.post(order_url(store, order, "refund/confirm"), fields)

    assert Refund.objects.filter(order=order).count() == 1
    assert OrderAction.objects.count() == 1
    beanie.refresh_from_db()
    assert beanie.refunded_quantity == 1
    for response in (first, second):
        assert response.status_code == 200
        assert html(response).by_text("p", "Refunded").text == f"Refunded $24.00 on {order.name}."
        assert response["X-Card-Refresh"] == "orders"
    # The section, refreshed, keeps the sentence on the order.
    refreshed = html(orders_of(agent, ada)).by_id(dom_id(store, order))
    assert "open" in refreshed.attrs
    assert f"Refunded $24.00 on {order.name}." in refreshed.text


def test_shopifys_refusal_is_a_sentence_in_place(store, fake_shop, agent, customer_id):
    tim = customer_id("tim@example.com", "Tim Berners-Lee")
    order = order_of(fake_shop, "tim@example.com", state="partially_refunded")
    refunded = order.line_items.get(refunded_quantity=1)  # the tote: nothing left to refund

    response = agent.post(
        order_url(store, order, "refund/confirm"),
        {
            "customer": tim,
            "key": "a-stale-confirmation-1",
            "amount": "0.00",
            "line": f"{gid('LineItem', refunded.pk)}|1",
        },
    )

    assert response.status_code == 200
    assert "X-Card-Refresh" not in response
    sentence = html(response).by_id(f"{dom_id(store, order)}-actions").find_all("p")[0]
    assert sentence.attrs["role"] == "alert"
    assert sentence.text == (
        f"Shopify refused to refund {order.name}: Quantity cannot be greater than the refundable "
        "quantity (0) of Waxed Canvas Tote."
    )
    assert not Refund.objects.filter(order=order, idempotency_key__startswith="a-stale").exists()


def _action_button(page, order_dom_id: str, label: str):
    panel = page.by_id(f"{order_dom_id}-actions")
    return page, panel.by_text("button", label)


def test_actions_the_agent_may_not_take_are_disabled_with_the_reason(
    store, fake_shop, agent, customer_id, settings
):
    settings.SHOPIFY_ACTION_PERMISSIONS = {
        "refund": ["role:supervisor"],
        "cancel": ["*"],
        "address_update": ["*"],
        "invoice_send": ["*"],
    }
    ada = customer_id()
    order = order_of(fake_shop, "ada@example.com", state="unfulfilled")

    page, refund = _action_button(html(orders_of(agent, ada)), dom_id(store, order), "Refund")
    _, cancel = _action_button(page, dom_id(store, order), "Cancel order")

    assert "disabled" in refund.attrs
    reason = page.by_id(refund.attrs["aria-describedby"])
    assert reason.text == "Refund: You are not allowed to refund orders. Ask a supervisor."
    assert "disabled" not in cancel.attrs
    # Asking anyway is refused with the same sentence.
    direct = agent.get(order_url(store, order, "refund"), {"customer": ada})
    assert direct.status_code == 403
    assert "You are not allowed to refund orders." in html(direct).text


def test_actions_the_orders_state_forbids_are_disabled_with_the_reason(
    store, fake_shop, agent, customer_id
):
    grace = customer_id("grace@example.com", "Grace Hopper")
    cancelled = order_of(fake_shop, "grace@example.com", state="cancelled")
    shipped = order_of(fake_shop, "grace@example.com", state="fulfilled")
    page = html(orders_of(agent, grace))

    def reason(order, label):
        _, button = _action_button(page, dom_id(store, order), label)
        assert "disabled" in button.attrs
        return page.by_id(button.attrs["aria-describedby"]).text

    assert reason(cancelled, "Cancel order") == "Cancel order: This order is already cancelled."
    assert reason(cancelled, "Refund") == "Refund: This order is fully refunded."
    assert reason(shipped, "Cancel order") == (
        "Cancel order: This order has shipped, so it can no longer be cancelled."
    )
    assert reason(shipped, "Change address") == (
        "Change address: This order has shipped, so its address can no longer change."
    )


def test_a_large_refund_waits_and_a_supervisor_approves_it_in_the_card(
    store, fake_shop, agent, customer_id, card_client, kustomer
):
    alan = customer_id("alan@example.com", "Alan Turing")
    order = order_of(fake_shop, "alan@example.com", state="unfulfilled")  # $259
    review = html(
        review_refund(
            agent,
            store,
            order,
            alan,
            **{
                f"quantity-{legacy('LineItem', item)}": str(item.quantity)
                for item in order.line_items.all()
            },
        )
    )
    assert "need a supervisor's approval" in review.text
    assert review.by_text("button", "Refund $").text == "Refund $259.00"

    requested = agent.post(
        order_url(store, order, "refund/confirm"), hidden_fields(review.find_all("form")[0])
    )

    assert "the refund of $259.00 on" in html(requested).text
    assert "is waiting for one" in html(requested).text
    assert not Refund.objects.filter(order=order).exists()
    # The agent sees it waiting, and cannot decide it.
    as_agent = html(orders_of(agent, alan))
    approve = as_agent.by_id("orders-approvals").by_text("button", "Approve")
    assert "disabled" in approve.attrs
    assert as_agent.by_id(approve.attrs["aria-describedby"]).text == (
        "Only a supervisor can approve or reject refunds."
    )
    # Sam, a supervisor in Kustomer (supervisors can read the org's users), approves it.
    supervisor = card_client(
        agent_id="user-sam",
        name="Sam Supervisor",
        roles=("org.user.conversation.read", "org.user.user.read"),
        access_token=agent_token(kustomer, "Sam Supervisor"),
    )
    approvals = html(orders_of(supervisor, alan)).by_id("orders-approvals")
    form = approvals.by_text("button", "Approve")
    assert "disabled" not in form.attrs
    approval = RefundApproval.objects.get()
    decided = supervisor.post(
        f"/card/approvals/{approval.pk}/decide", {"customer": alan, "decision": "approve"}
    )

    assert decided.status_code == 200
    assert decided["X-Card-Refresh"] == "orders"
    assert (
        "Sam Supervisor approved the refund of $259.00"
        in html(decided).by_id(f"approval-{approval.pk}").text
    )
    assert Refund.objects.filter(order=order).count() == 1
    assert OrderAction.objects.get().status == "succeeded"
    assert OrderAction.objects.get().amount == Decimal("259.00")
    assert "Refunds waiting for approval" not in html(orders_of(supervisor, alan)).text
