"""The fake Shopify over real HTTP: queries, costs, the leaky bucket and the error paths."""

import time

import pytest

from copilot.sandbox.shopify.bucket import buckets
from copilot.sandbox.shopify.models import Order, gid
from copilot.sandbox.shopify.schema import search_terms
from tests.sandbox_shopify.support import API_VERSION, graphql

pytestmark = pytest.mark.django_db(transaction=True)

# The query of docs/shopify-api.md, word for word.
DOC_QUERY = """
query CustomerOrders($q: String!) {
  orders(first: 10, query: $q, sortKey: CREATED_AT, reverse: true) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id legacyResourceId name createdAt cancelledAt cancelReason
      displayFinancialStatus displayFulfillmentStatus statusPageUrl tags note
      currentTotalPriceSet { shopMoney { amount currencyCode } }
      totalRefundedSet { shopMoney { amount currencyCode } }
      customer { id displayName numberOfOrders amountSpent { amount currencyCode } }
      shippingAddress { name address1 address2 city provinceCode zip countryCodeV2 phone }
      lineItems(first: 20) { nodes { id title quantity sku refundableQuantity } }
      fulfillments(first: 5) { status displayStatus trackingInfo(first: 3) { company number url } }
    }
  }
}
"""


def test_orders_query_of_the_doc_returns_the_customers_orders_newest_first(shopify_url, fake_shop):
    response = graphql(shopify_url, DOC_QUERY, {"q": "email:ada@example.com"})

    assert response.status_code == 200
    assert response.headers["X-Shopify-API-Version"] == API_VERSION
    body = response.json()
    assert "errors" not in body
    orders = body["data"]["orders"]["nodes"]
    assert len(orders) == 3
    created = [order["createdAt"] for order in orders]
    assert created == sorted(created, reverse=True)
    first = orders[0]
    assert first["id"].startswith("gid://shopify/Order/")
    assert first["legacyResourceId"] == first["id"].rsplit("/", 1)[1]
    assert first["name"].startswith("#10")
    assert isinstance(first["currentTotalPriceSet"]["shopMoney"]["amount"], str)
    assert first["customer"]["numberOfOrders"] == "3"  # UnsignedInt64 is a string
    assert first["customer"]["displayName"] == "Ada Lovelace"
    assert isinstance(first["fulfillments"], list)  # a plain list, not a connection
    statuses = {order["displayFinancialStatus"] for order in orders}
    assert statuses == {"PAID", "PARTIALLY_REFUNDED"}
    delivered = next(order for order in orders if order["fulfillments"])
    tracking = delivered["fulfillments"][0]["trackingInfo"][0]
    assert tracking["company"] in {"UPS", "USPS", "FedEx"}
    assert tracking["url"].startswith("https://")
    assert body["data"]["orders"]["pageInfo"]["hasNextPage"] is False


def test_every_response_carries_the_requested_and_actual_cost(shopify_url, fake_shop, settings):
    settings.SANDBOX_SHOPIFY_RESTORE_RATE = 0.01  # nothing flows back during the request
    body = graphql(shopify_url, DOC_QUERY, {"q": "email:ada@example.com"}).json()

    cost = body["extensions"]["cost"]
    # Connections cost 2 + first x node; objects 1; scalars 0.
    per_order = 1 + 2 + 2 + 2 + 1 + (2 + 20 * 1) + 5 * (1 + 3 * 1)
    assert cost["requestedQueryCost"] == 2 + 10 * per_order
    assert cost["actualQueryCost"] < cost["requestedQueryCost"]
    throttle = cost["throttleStatus"]
    assert throttle["maximumAvailable"] == 2000
    assert throttle["currentlyAvailable"] == pytest.approx(2000 - cost["actualQueryCost"], abs=5)


def test_an_empty_bucket_answers_throttled_with_http_200_and_no_data(shopify_url, fake_shop):
    buckets.set_available(fake_shop.domain, 10)

    response = graphql(shopify_url, DOC_QUERY, {"q": "email:ada@example.com"})

    assert response.status_code == 200
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["message"] == "Throttled"
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    cost = body["extensions"]["cost"]
    assert cost["actualQueryCost"] is None
    assert cost["throttleStatus"]["currentlyAvailable"] < cost["requestedQueryCost"]


def test_the_throttle_can_answer_429_with_retry_after(shopify_url, fake_shop, settings):
    settings.SANDBOX_SHOPIFY_THROTTLE_STATUS = 429
    buckets.set_available(fake_shop.domain, 0)

    response = graphql(shopify_url, DOC_QUERY, {"q": "email:ada@example.com"})

    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert response.json()["errors"][0]["extensions"]["code"] == "THROTTLED"


def test_the_bucket_restores_at_the_restore_rate(shopify_url, fake_shop, settings):
    settings.SANDBOX_SHOPIFY_RESTORE_RATE = 1000
    buckets.set_available(fake_shop.domain, 0)
    time.sleep(0.3)

    body = graphql(shopify_url, "query { shop { name } }").json()

    assert body["data"]["shop"]["name"] == "Northwind Goods"  # not throttled any more
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] >= 250


def test_a_query_above_1000_points_is_refused_before_it_runs(shopify_url, fake_shop):
    query = "{ orders(first: 250) { nodes { lineItems(first: 250) { nodes { id } } } } }"

    body = graphql(shopify_url, query).json()

    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert "data" not in body


def test_a_connection_without_first_or_last_is_refused(shopify_url, fake_shop):
    body = graphql(shopify_url, '{ orders(query: "") { nodes { id } } }').json()

    assert "first or last" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{ orders(first: 1) { nodes { id } ", "Syntax Error"),
        ("{ orders(first: 1) { nodes { favouriteColour } } }", "favouriteColour"),
    ],
)
def test_a_bad_query_is_answered_with_errors_not_data(shopify_url, fake_shop, query, message):
    response = graphql(shopify_url, query)

    assert response.status_code == 200
    assert message in response.json()["errors"][0]["message"]
    assert "data" not in response.json()


def test_a_wrong_access_token_gets_401(shopify_url, fake_shop):
    response = graphql(shopify_url, "{ shop { name } }", token="shpat_wrong")

    assert response.status_code == 401
    assert "Invalid API key or access token" in response.json()["errors"]


def test_an_unknown_api_version_gets_404(shopify_url, fake_shop):
    assert graphql(shopify_url, "{ shop { name } }", version="2026-13").status_code == 404


def test_a_body_without_a_query_gets_400(shopify_url, fake_shop):
    import httpx

    response = httpx.post(
        f"{shopify_url}/admin/api/{API_VERSION}/graphql.json",
        content=b"not json",
        headers={"X-Shopify-Access-Token": fake_shop.access_token},
    )

    assert response.status_code == 400


def test_missing_protected_customer_data_approval_comes_back_as_an_error(
    shopify_url, fake_shop, settings
):
    settings.SANDBOX_SHOPIFY_PROTECTED_CUSTOMER_DATA = False

    body = graphql(shopify_url, DOC_QUERY, {"q": "email:ada@example.com"}).json()

    messages = " ".join(error["message"] for error in body["errors"])
    assert "protected customer data" in messages
    assert body["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"


def test_without_read_all_orders_only_the_last_60_days_are_visible(shopify_url, fake_shop):
    fake_shop.read_all_orders = False
    fake_shop.save()
    query = "query($q: String!) { orders(first: 10, query: $q) { nodes { name } } }"

    body = graphql(shopify_url, query, {"q": "email:katherine@example.com"}).json()

    # Katherine has 4 orders; the one from 85 days ago is out of sight.
    assert len(body["data"]["orders"]["nodes"]) == 3


def test_orders_can_be_found_by_name_and_paged_with_cursors(shopify_url, fake_shop):
    query = """query($q: String!, $after: String) {
      orders(first: 2, after: $after, query: $q, sortKey: CREATED_AT) {
        pageInfo { hasNextPage endCursor } edges { cursor node { name } }
      }
    }"""
    first = graphql(shopify_url, query, {"q": "email:margaret@example.com"}).json()["data"]
    after = first["orders"]["pageInfo"]["endCursor"]
    second = graphql(shopify_url, query, {"q": "email:margaret@example.com", "after": after})
    names = [edge["node"]["name"] for edge in first["orders"]["edges"]]
    names += [edge["node"]["name"] for edge in second.json()["data"]["orders"]["edges"]]
    by_name = graphql(shopify_url, query, {"q": f"name:{names[0]}"}).json()["data"]

    assert first["orders"]["pageInfo"]["hasNextPage"] is True
    assert len(set(names)) == 4
    assert [edge["node"]["name"] for edge in by_name["orders"]["edges"]] == [names[0]]


def test_one_order_and_the_customers_lifetime_figures(shopify_url, fake_shop):
    order = Order.objects.filter(shop=fake_shop, customer__email="ada@example.com").first()
    query = """query($id: ID!, $q: String!) {
      order(id: $id) {
        name transactions(first: 5) { kind gateway amountSet { shopMoney { amount } } }
      }
      customers(first: 1, query: $q) { nodes { email numberOfOrders amountSpent { amount } } }
    }"""

    data = graphql(shopify_url, query, {"id": gid("Order", order.pk), "q": "email:ada@example.com"})
    data = data.json()["data"]

    assert data["order"]["name"] == order.name
    assert data["order"]["transactions"][0]["kind"] == "SALE"
    customer = data["customers"]["nodes"][0]
    assert customer["numberOfOrders"] == "3"
    assert customer["amountSpent"]["amount"] == "276.00"


def test_search_syntax_is_split_into_terms():
    assert search_terms('email:"ada lovelace@example.com" name:#1001 status:open shoes') == [
        ("email", "ada lovelace@example.com"),
        ("name", "#1001"),
        ("status", "open"),
        (None, "shoes"),
    ]
