"""The fake's mutations over real HTTP: Shopify's business rules, userErrors, idempotency, jobs."""

import pytest

from copilot.sandbox.shopify.models import InvoiceEmail, Order, Refund, gid
from tests.sandbox_shopify.support import graphql, order_of, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

REFUND = """
mutation R($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) {
    refund { id totalRefundedSet { shopMoney { amount currencyCode } } }
    userErrors { field message }
  }
}
"""
SUGGEST = """
query S($id: ID!) {
  order(id: $id) {
    suggestedRefund(suggestFullRefund: true) {
      amountSet { shopMoney { amount currencyCode } }
      refundLineItems { lineItem { id } quantity }
      suggestedTransactions {
        parentTransaction { id } gateway kind amountSet { shopMoney { amount } }
      }
    }
  }
}
"""
CANCEL = """
mutation C($id: ID!) {
  orderCancel(orderId: $id, reason: CUSTOMER, restock: true,
              refundMethod: {originalPaymentMethodsRefund: true}, notifyCustomer: true,
              staffNote: "Customer asked") {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}
"""


def _full_refund_input(shopify_url, order: Order) -> dict:
    suggested = graphql(shopify_url, SUGGEST, {"id": gid("Order", order.pk)}).json()
    refund = suggested["data"]["order"]["suggestedRefund"]
    return {
        "orderId": gid("Order", order.pk),
        "refundLineItems": [
            {"lineItemId": item["lineItem"]["id"], "quantity": item["quantity"]}
            for item in refund["refundLineItems"]
        ],
        "shipping": {"fullRefund": True},
        "transactions": [
            {
                "orderId": gid("Order", order.pk),
                "parentId": t["parentTransaction"]["id"],
                "gateway": t["gateway"],
                "kind": "REFUND",
                "amount": t["amountSet"]["shopMoney"]["amount"],
            }
            for t in refund["suggestedTransactions"]
        ],
    }


def test_suggested_full_refund_covers_every_item_and_the_shipping(shopify_url, fake_shop):
    order = order_of(fake_shop, "ada@example.com", state="unfulfilled")  # $113 + $8 shipping

    data = graphql(shopify_url, SUGGEST, {"id": gid("Order", order.pk)}).json()["data"]

    refund = data["order"]["suggestedRefund"]
    assert refund["amountSet"]["shopMoney"] == {"amount": "121.00", "currencyCode": "USD"}
    assert sum(item["quantity"] for item in refund["refundLineItems"]) == 2
    assert refund["suggestedTransactions"][0]["kind"] == "SUGGESTED_REFUND"


def test_the_same_idempotency_key_gives_the_same_refund_and_refunds_once(shopify_url, fake_shop):
    order = order_of(fake_shop, "ada@example.com", state="unfulfilled")
    refund_input = _full_refund_input(shopify_url, order)

    first = graphql(shopify_url, REFUND, {"input": refund_input, "key": "key-1"}).json()
    second = graphql(shopify_url, REFUND, {"input": refund_input, "key": "key-1"}).json()

    assert first["data"]["refundCreate"]["userErrors"] == []
    assert (
        first["data"]["refundCreate"]["refund"]["id"]
        == second["data"]["refundCreate"]["refund"]["id"]
    )
    assert Refund.objects.filter(order=order).count() == 1
    order.refresh_from_db()
    assert order.financial_status == "REFUNDED"


def test_a_refund_without_an_idempotency_key_is_refused_from_2026_04(shopify_url, fake_shop):
    order = order_of(fake_shop, "ada@example.com", state="unfulfilled")
    mutation = REFUND.replace(" @idempotent(key: $key)", "").replace(", $key: String!", "")
    refund_input = _full_refund_input(shopify_url, order)

    refused = graphql(shopify_url, mutation, {"input": refund_input}).json()
    older = graphql(shopify_url, mutation, {"input": refund_input}, version="2026-01").json()

    assert "@idempotent" in refused["errors"][0]["message"]
    assert refused["data"]["refundCreate"] is None
    assert older["data"]["refundCreate"]["refund"]["id"]


def test_a_key_used_again_with_another_input_is_refused(shopify_url, fake_shop):
    order = order_of(fake_shop, "ada@example.com", state="unfulfilled")
    refund_input = _full_refund_input(shopify_url, order)
    graphql(shopify_url, REFUND, {"input": refund_input, "key": "key-2"})

    other = {**refund_input, "note": "different"}
    body = graphql(shopify_url, REFUND, {"input": other, "key": "key-2"}).json()

    assert body["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    assert Refund.objects.filter(order=order).count() == 1


def test_refunding_more_than_is_refundable_gets_user_errors(shopify_url, fake_shop):
    order = order_of(fake_shop, "ada@example.com", state="partially_refunded")
    refund_input = _full_refund_input(shopify_url, order)
    refunded_item = order.line_items.get(refunded_quantity=1)
    refund_input["refundLineItems"] = [
        {"lineItemId": gid("LineItem", refunded_item.pk), "quantity": refunded_item.quantity}
    ]
    refund_input["transactions"][0]["amount"] = "999.00"

    body = graphql(shopify_url, REFUND, {"input": refund_input, "key": "key-3"}).json()

    errors = body["data"]["refundCreate"]["userErrors"]
    assert body["data"]["refundCreate"]["refund"] is None
    assert "errors" not in body  # business errors are not request errors
    assert any("refundable quantity" in error["message"] for error in errors)
    assert any("greater than" in error["message"] for error in errors)
    assert order.refunds.count() == 1  # only the seeded one


def test_cancel_is_a_job_and_cancelling_again_is_already_cancelled(shopify_url, fake_shop):
    order = order_of(fake_shop, "ada@example.com", state="unfulfilled")

    started = graphql(shopify_url, CANCEL, {"id": gid("Order", order.pk)}).json()
    job = started["data"]["orderCancel"]["job"]
    query = "query($id: ID!) { job(id: $id) { id done } }"
    done = wait_until(
        lambda: graphql(shopify_url, query, {"id": job["id"]}).json()["data"]["job"]["done"]
    )
    again = graphql(shopify_url, CANCEL, {"id": gid("Order", order.pk)}).json()

    assert job["done"] is False
    assert done is True
    order.refresh_from_db()
    assert order.cancelled_at is not None
    assert order.cancel_reason == "CUSTOMER"
    assert order.financial_status == "REFUNDED"
    errors = again["data"]["orderCancel"]["orderCancelUserErrors"]
    assert errors[0]["code"] == "ORDER_IS_ALREADY_CANCELLED"
    assert again["data"]["orderCancel"]["job"] is None


def test_a_fulfilled_order_cannot_be_cancelled(shopify_url, fake_shop):
    order = order_of(fake_shop, "ada@example.com", state="fulfilled")

    body = graphql(shopify_url, CANCEL, {"id": gid("Order", order.pk)}).json()

    assert body["data"]["orderCancel"]["orderCancelUserErrors"][0]["code"] == "INVALID"
    order.refresh_from_db()
    assert order.cancelled_at is None


UPDATE = """
mutation U($input: OrderInput!) {
  orderUpdate(input: $input) { order { id } userErrors { field message } }
}
"""
NEW_ADDRESS = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "address1": "1 New Street",
    "city": "Salem",
    "provinceCode": "OR",
    "zip": "97301",
    "countryCode": "US",
}


def test_the_shipping_address_changes_only_before_fulfillment(shopify_url, fake_shop):
    open_order = order_of(fake_shop, "ada@example.com", state="unfulfilled")
    shipped = order_of(fake_shop, "ada@example.com", state="fulfilled")

    changed = graphql(
        shopify_url,
        UPDATE,
        {"input": {"id": gid("Order", open_order.pk), "shippingAddress": NEW_ADDRESS}},
    ).json()
    refused = graphql(
        shopify_url,
        UPDATE,
        {"input": {"id": gid("Order", shipped.pk), "shippingAddress": NEW_ADDRESS}},
    ).json()

    assert changed["data"]["orderUpdate"]["userErrors"] == []
    open_order.refresh_from_db()
    assert open_order.shipping_address["address1"] == "1 New Street"
    errors = refused["data"]["orderUpdate"]["userErrors"]
    assert errors[0]["field"] == ["shippingAddress"]
    assert "fulfilled" in errors[0]["message"]


def test_invoice_send_emails_the_order_address(shopify_url, fake_shop):
    order = order_of(fake_shop, "grace@example.com", state="fulfilled")
    mutation = """mutation($id: ID!) {
      orderInvoiceSend(id: $id) { order { id } userErrors { field message code } }
    }"""

    body = graphql(shopify_url, mutation, {"id": gid("Order", order.pk)}).json()

    assert body["data"]["orderInvoiceSend"]["userErrors"] == []
    assert list(InvoiceEmail.objects.values_list("to", flat=True)) == ["grace@example.com"]


def test_a_return_is_created_for_fulfilled_items_only_up_to_what_shipped(shopify_url, fake_shop):
    order = order_of(fake_shop, "katherine@example.com", state="fulfilled")
    item = order.fulfillments.first().items.first()
    mutation = """mutation($input: ReturnInput!) {
      returnCreate(returnInput: $input) {
        return { id name status }
        userErrors { field message code }
      }
    }"""
    line = {
        "fulfillmentLineItemId": gid("FulfillmentLineItem", item.pk),
        "returnReason": "SIZE_TOO_SMALL",
    }

    created = graphql(
        shopify_url,
        mutation,
        {
            "input": {
                "orderId": gid("Order", order.pk),
                "returnLineItems": [{**line, "quantity": 1}],
            }
        },
    ).json()
    too_many = graphql(
        shopify_url,
        mutation,
        {
            "input": {
                "orderId": gid("Order", order.pk),
                "returnLineItems": [{**line, "quantity": 99}],
            }
        },
    ).json()

    assert created["data"]["returnCreate"]["return"]["status"] == "OPEN"
    assert created["data"]["returnCreate"]["return"]["name"] == f"{order.name}-R1"
    assert too_many["data"]["returnCreate"]["userErrors"][0]["code"] == "INVALID"


def test_mutations_cost_10_points(shopify_url, fake_shop):
    order = order_of(fake_shop, "ada@example.com", state="unfulfilled")

    body = graphql(
        shopify_url, UPDATE, {"input": {"id": gid("Order", order.pk), "note": "Leave at the door"}}
    ).json()

    assert body["extensions"]["cost"]["requestedQueryCost"] == 10
    assert body["extensions"]["cost"]["actualQueryCost"] == 10
