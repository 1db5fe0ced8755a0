"""Agents sign in to the card with Kustomer (OAuth 2.0 code flow with PKCE, in a pop-up), over
real HTTP to the fake Kustomer; the card's session lives in a partitioned cookie."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cards.auth import SESSION_COOKIE
from cards.models import CardSession
from copilot.sandbox.kustomer import oauth as sandbox_oauth
from tests.cards.conftest import CardBrowser

pytestmark = pytest.mark.django_db(transaction=True)


def test_signing_in_tells_the_card_who_the_agent_is(card_world):
    card = card_world.sign_in("Ada Agent")

    who = card.card("GET", "/card/session")

    assert who.status_code == 200
    assert who.json()["agent"]["name"] == "Ada Agent"
    assert who.json()["agent"]["id"] == str(card_world.ada.id)
    session = CardSession.objects.get()
    assert session.org_id == str(card_world.org.id)
    assert "Ada" not in session.access_token  # stored encrypted


def test_the_session_cookie_is_partitioned_secure_http_only_and_for_this_host_only(card_world):
    browser = card_world.sign_in()
    started = browser.http.get(f"{card_world.url}/card/signin")
    params = browser.sign_in(started.headers["Location"])
    callback = browser.http.get(f"{card_world.url}/card/oauth/callback", params=params)
    handoff = callback.text.split('data-handoff="')[1].split('"')[0]

    answer = browser.http.post(f"{card_world.url}/card/session", json={"handoff": handoff})

    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "partitioned", "samesite", "path"} <= attributes
    assert "SameSite=None" in cookie and "Path=/" in cookie and "Domain" not in cookie


def test_a_handoff_code_works_once(card_world):
    browser = card_world.sign_in()
    started = browser.http.get(f"{card_world.url}/card/signin")
    params = browser.sign_in(started.headers["Location"])
    callback = browser.http.get(f"{card_world.url}/card/oauth/callback", params=params)
    handoff = callback.text.split('data-handoff="')[1].split('"')[0]

    first = browser.http.post(f"{card_world.url}/card/session", json={"handoff": handoff})
    second = browser.http.post(f"{card_world.url}/card/session", json={"handoff": handoff})

    assert first.status_code == 200
    assert second.status_code == 400
    assert "sign in again" in second.json()["error"]


def test_a_callback_without_the_pop_ups_state_cookie_is_refused(card_world):
    browser = card_world.sign_in()
    started = browser.http.get(f"{card_world.url}/card/signin")
    params = browser.sign_in(started.headers["Location"])
    browser.http.cookies.clear()

    callback = browser.http.get(f"{card_world.url}/card/oauth/callback", params=params)

    assert callback.status_code == 400
    assert "was not started here" in callback.text
    assert 'data-handoff=""' in callback.text


def test_an_agent_of_another_org_gets_403_and_no_session(card_world, settings):
    settings.KUSTOMER_ORG_ID = "another-org"
    browser = CardBrowser(card_world.url)
    started = browser.http.get(f"{card_world.url}/card/signin")
    params = browser.sign_in(started.headers["Location"])

    callback = browser.http.get(f"{card_world.url}/card/oauth/callback", params=params)

    assert callback.status_code == 403
    assert "another Kustomer organization" in callback.text
    assert not CardSession.objects.exists()


def test_cancelling_in_kustomer_says_so(card_world):
    browser = CardBrowser(card_world.url)
    started = browser.http.get(f"{card_world.url}/card/signin")
    page = browser.open(started.headers["Location"])
    answer = browser.press(page, "Cancel")
    callback = browser.http.get(answer.headers["Location"])

    assert callback.status_code == 400
    assert "The sign-in was cancelled." in callback.text


def test_signing_out_ends_the_session_and_revokes_the_kustomer_token(card_world):
    card = card_world.sign_in()

    signed_out = card.card("POST", "/card/signout")

    assert signed_out.status_code == 200
    assert card.card("GET", "/card/session").status_code == 401
    assert CardSession.objects.get().end_reason == "signed out"
    assert not sandbox_oauth.user_tokens_revoke(user=card_world.ada)  # nothing left to revoke


def test_a_token_revoked_in_kustomer_ends_the_session_at_the_next_check(card_world):
    card = card_world.sign_in()
    sandbox_oauth.user_tokens_revoke(user=card_world.ada)
    CardSession.objects.update(verified_at=timezone.now() - timedelta(minutes=10))

    answer = card.card("GET", "/card/session")

    assert answer.status_code == 401
    assert CardSession.objects.get().end_reason == "token refused by Kustomer"


def test_an_idle_session_expires(card_world, settings):
    card = card_world.sign_in()
    CardSession.objects.update(last_seen_at=timezone.now() - timedelta(hours=3))

    assert card.card("GET", "/card/session").status_code == 401
    assert CardSession.objects.get().end_reason == "idle"


def test_an_expired_access_token_is_refreshed_without_the_agent_noticing(card_world):
    card = card_world.sign_in()
    CardSession.objects.update(
        access_expires_at=timezone.now() - timedelta(minutes=1),
        verified_at=timezone.now() - timedelta(minutes=10),
    )
    before = CardSession.objects.get().access_token

    assert card.card("GET", "/card/session").status_code == 200
    assert CardSession.objects.get().access_token != before


def test_sign_in_is_refused_with_a_sentence_when_no_oauth_client_is_set(card_world, settings):
    settings.KUSTOMER_OAUTH_CLIENT_ID = ""
    page = CardBrowser(card_world.url).http.get(f"{card_world.url}/card/signin")

    assert page.status_code == 503
    assert "KUSTOMER_OAUTH_CLIENT_ID is missing" in page.text
