"""The card's page: framed only by Kustomer, a strict CSP, and nothing of anyone before sign-in."""

import pytest

pytestmark = pytest.mark.django_db


def test_only_the_allowed_origins_may_frame_the_card(client, settings):
    settings.KUSTOMER_FRAME_ANCESTORS = ["https://*.kustomerapp.com"]

    page = client.get("/card/?parentUrl=https%3A%2F%2Facme.kustomerapp.com&id=card-1")

    assert page.status_code == 200
    assert "X-Frame-Options" not in page.headers
    policy = page.headers["Content-Security-Policy"]
    assert "frame-ancestors https://*.kustomerapp.com" in policy
    assert "'unsafe-inline'" not in policy


def test_the_cards_only_script_from_elsewhere_is_kustomers_sdk(client, settings):
    settings.KUSTOMER_CARD_SDK_URL = (
        "https://cdn.kustomerapp.com/card-js/latest/kustomer-card.min.js"
    )
    settings.KUSTOMER_CARD_SDK_ORIGIN = "https://cdn.kustomerapp.com"

    page = client.get("/card/")

    script_src = next(
        part for part in page.headers["Content-Security-Policy"].split(";") if "script-src" in part
    )
    assert script_src.split() == ["script-src", "'self'", "https://cdn.kustomerapp.com"]
    assert '<script src="https://cdn.kustomerapp.com/card-js/latest/kustomer-card.min.js"' in (
        page.text
    )
    assert "<script>" not in page.text  # no inline script


@pytest.mark.parametrize("path", ["/admin/login/", "/card/signin", "/healthz"])
def test_every_other_page_refuses_to_be_framed(client, path):
    page = client.get(path)

    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_before_sign_in_the_card_holds_only_its_shape_and_the_sign_in(client):
    page = client.get("/card/")

    assert "Sign in with Kustomer" in page.text
    assert 'aria-busy="true"' in page.text  # skeletons until the session is known
    assert "@" not in page.text.split("<body", 1)[1]  # no customer, no agent


@pytest.mark.parametrize(
    "path",
    ["/card/fragments/insight?conversation=c1", "/card/fragments/orders?customer=c1"],
)
def test_every_card_request_without_a_session_gets_401(client, path):
    answer = client.get(path)

    assert answer.status_code == 401
    assert answer.json() == {
        "error": "Sign in with Kustomer to see this customer.",
        "sign_in": True,
    }


def test_a_signed_in_post_without_the_csrf_header_gets_403(card_client):
    client = card_client()
    client.defaults.pop("HTTP_X_CARD_CSRF", None)
    client.headers = {}

    answer = client.post("/card/intent/feedback", {"message": "m1", "choice": "right"})

    assert answer.status_code == 403
    assert "did not come from the card" in answer.json()["error"]
