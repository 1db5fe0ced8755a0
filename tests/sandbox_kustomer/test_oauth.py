"""'Sign in with Kustomer' against the fake, over real HTTP: the sign-in page, the code flow with
PKCE, refresh, revocation, and what an agent's access token may do on the API."""

import base64
import hashlib
import time
from datetime import timedelta
from urllib.parse import urlencode

import httpx
import pytest
from django.utils import timezone

from copilot.integrations.kustomer_oauth import KustomerOAuth, OAuthError, pkce_pair
from copilot.sandbox.kustomer import oauth, services
from copilot.sandbox.kustomer.models import AuthorizationCode, Grant
from tests.sandbox_kustomer.browser import page_form, redirect_params
from tests.sandbox_kustomer.conftest import REDIRECT_URI


def _authorize_url(base_url: str, **params: str | None) -> str:
    _, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": None,
        "redirect_uri": REDIRECT_URI,
        "state": "state-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **params,
    }
    present = {name: value for name, value in query.items() if value is not None}
    return f"{base_url}/oauth/authorize?{urlencode(present)}"


def _token(base_url: str, **form: str) -> httpx.Response:
    return httpx.post(f"{base_url}/oauth/token", data=form)


def _code(sign_in_client, browser, *, person="Ada Agent"):
    request = sign_in_client.authorization_request(redirect_uri=REDIRECT_URI)
    params = browser.sign_in(request.url, person=person)
    return request, sign_in_client.code_from_callback(params, expected_state=request.state)


# --- the sign-in page ---------------------------------------------------------------------------


def test_the_sign_in_page_lists_the_orgs_people_as_buttons_and_needs_no_script(
    base_url, card_app, browser
):
    page = browser.open(_authorize_url(base_url, client_id=card_app.client_id))

    form = page_form(page)
    assert page.status_code == 200
    assert "<h1>Sign in to Kustomer Copilot with Kustomer</h1>" in page.text
    assert [button.text for button in form.buttons] == [
        "Sign in as Ada Agent",
        "Sign in as Sam Supervisor",
        "Cancel",
    ]
    assert "Agent, ada.agent@sandbox.example.com" in page.text
    assert "Supervisor, sam.supervisor@sandbox.example.com" in page.text
    assert form.csrf_token
    assert form.scripts == 0
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "form-action 'self' https://card.example.com" in policy
    assert page.headers["X-Frame-Options"] == "DENY"


def test_the_whole_code_flow_with_pkce_signs_the_agent_in(
    base_url, card_app, people, sign_in_client, browser, as_agent
):
    request = sign_in_client.authorization_request(redirect_uri=REDIRECT_URI)
    page = browser.open(request.url)
    answer = browser.press(page, "Sign in as Ada Agent")
    params = redirect_params(answer)
    code = sign_in_client.code_from_callback(params, expected_state=request.state)
    tokens = sign_in_client.exchange_code(
        code=code, redirect_uri=REDIRECT_URI, code_verifier=request.code_verifier
    )
    me = as_agent(tokens.access_token).get("/v1/users/current")

    assert answer.headers["Location"].startswith(REDIRECT_URI + "&code=")
    assert params["state"] == request.state and params["from"] == "kustomer"
    assert tokens.access_token and tokens.refresh_token
    assert not tokens.expired()
    assert set(tokens.scope) == set(services.AGENT_ROLES)
    assert me.status_code == 200
    agent = me.json()["data"]
    assert agent["id"] == people.ada.id
    assert agent["type"] == "user"
    assert agent["attributes"]["displayName"] == "Ada Agent"
    assert agent["attributes"]["email"] == "ada.agent@sandbox.example.com"
    assert agent["attributes"]["userType"] == "user"
    assert agent["attributes"]["roles"] == list(services.AGENT_ROLES)
    assert me.headers["x-ratelimit-limit"] == "1000"


def test_the_token_answer_is_rfc_6749s_and_never_cached(
    base_url, card_app, sign_in_client, browser
):
    request, code = _code(sign_in_client, browser)

    answer = _token(
        base_url,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
        code_verifier=request.code_verifier,
        client_id=card_app.client_id,
    )

    assert answer.status_code == 200
    assert set(answer.json()) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "scope",
    }
    assert answer.json()["token_type"] == "Bearer"
    assert answer.json()["expires_in"] == 3600
    assert answer.headers["Cache-Control"] == "no-store"


def test_the_supervisor_signs_in_with_a_supervisors_roles(signed_in, as_agent, people):
    tokens = signed_in("Sam Supervisor")

    me = as_agent(tokens.access_token).get("/v1/users/current").json()["data"]

    assert me["id"] == people.sam.id
    assert "org.user.report.read" in me["attributes"]["roles"]
    assert "org.user.report.read" not in people.ada.roles


def test_a_requested_scope_limits_what_the_token_may_do(signed_in, as_agent, customer):
    tokens = signed_in(scope=("org.user.customer.read", "org.admin.apps"))
    api = as_agent(tokens.access_token)

    # Ada does not hold org.admin.apps: she grants what she holds.
    assert tokens.scope == ("org.user.customer.read",)
    assert api.get(f"/v1/customers/{customer.id}").status_code == 200
    refused = api.get(f"/v1/customers/{customer.id}/drafts")
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["detail"] == (
        "The access token lacks the role org.user.draft.read"
    )


# --- what goes wrong at the sign-in page --------------------------------------------------------


@pytest.mark.parametrize("client_id", [None, "", "000000000000000000000000"])
def test_an_unknown_client_gets_an_invalid_client_page(base_url, card_app, browser, client_id):
    page = browser.open(_authorize_url(base_url, client_id=client_id))

    assert page.status_code == 400
    assert "<h1>Invalid Client</h1>" in page.text
    assert "Location" not in page.headers


def test_an_app_that_is_not_installed_is_an_invalid_client(base_url, card_app, browser):
    oauth.app_upsert(
        org=card_app.org,
        name=card_app.name,
        title=card_app.title,
        redirect_uris=card_app.redirect_uris,
        installed=False,
    )

    page = browser.open(_authorize_url(base_url, client_id=card_app.client_id))

    assert page.status_code == 400
    assert "<h1>Invalid Client</h1>" in page.text


@pytest.mark.parametrize(
    "redirect_uri",
    [
        None,
        "https://evil.example.com/oauth/callback",
        "https://card.example.com/oauth/callback",  # the registered one has a query
        REDIRECT_URI + "&extra=1",
    ],
)
def test_an_unregistered_redirect_uri_gets_a_400_page_and_is_never_redirected_to(
    base_url, card_app, people, browser, redirect_uri
):
    token = page_form(browser.open(_authorize_url(base_url, client_id=card_app.client_id)))
    url = _authorize_url(base_url, client_id=card_app.client_id, redirect_uri=redirect_uri)

    page = browser.open(url)
    pressed = browser.http.post(
        url, data={"csrfmiddlewaretoken": token.csrf_token, "user": people.ada.id}
    )

    assert page.status_code == 400
    assert "<h1>Invalid redirect URI</h1>" in page.text
    assert "Location" not in page.headers
    assert pressed.status_code == 400
    assert "Location" not in pressed.headers
    assert not AuthorizationCode.objects.exists()


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"code_challenge": None}, "PKCE is required: send code_challenge"),
        ({"code_challenge_method": None}, "code_challenge_method must be S256"),
        ({"code_challenge_method": "plain"}, "code_challenge_method must be S256"),
        (
            {"code_challenge": "too-short"},
            "code_challenge must be the base64url SHA-256 of the verifier",
        ),
        ({"response_type": None}, "response_type is required"),
    ],
)
def test_a_request_without_s256_pkce_is_sent_back_as_invalid_request(
    base_url, card_app, browser, params, description
):
    answer = browser.open(_authorize_url(base_url, client_id=card_app.client_id, **params))

    assert answer.status_code == 302
    assert answer.headers["Location"].startswith(REDIRECT_URI + "&")
    assert redirect_params(answer) == {
        "from": "kustomer",
        "error": "invalid_request",
        "error_description": description,
        "state": "state-123",
    }


def test_an_implicit_grant_request_is_an_unsupported_response_type(base_url, card_app, browser):
    answer = browser.open(
        _authorize_url(base_url, client_id=card_app.client_id, response_type="token")
    )

    assert redirect_params(answer)["error"] == "unsupported_response_type"


def test_cancel_sends_access_denied_with_the_state(base_url, card_app, browser, sign_in_client):
    request = sign_in_client.authorization_request(redirect_uri=REDIRECT_URI)

    answer = browser.press(browser.open(request.url), "Cancel")
    params = redirect_params(answer)

    assert answer.status_code == 302
    assert params["error"] == "access_denied"
    assert params["state"] == request.state
    assert "code" not in params
    with pytest.raises(OAuthError) as error:
        sign_in_client.code_from_callback(params, expected_state=request.state)
    assert error.value.error == "access_denied" and error.value.sign_in_again


def test_the_form_needs_its_csrf_token(base_url, card_app, people, browser):
    url = _authorize_url(base_url, client_id=card_app.client_id)
    browser.open(url)

    forged = browser.http.post(url, data={"user": people.ada.id})

    assert forged.status_code == 403
    assert not AuthorizationCode.objects.exists()


def test_a_callback_with_another_state_is_refused(sign_in_client, browser):
    request = sign_in_client.authorization_request(redirect_uri=REDIRECT_URI)
    params = browser.sign_in(request.url)

    with pytest.raises(OAuthError) as error:
        sign_in_client.code_from_callback(params, expected_state="someone-elses-state")

    assert error.value.error == "invalid_state"


# --- the token endpoint -------------------------------------------------------------------------


def test_a_wrong_code_verifier_is_invalid_grant_and_spends_the_code(sign_in_client, browser):
    request, code = _code(sign_in_client, browser)
    other_verifier, _ = pkce_pair()

    with pytest.raises(OAuthError) as wrong:
        sign_in_client.exchange_code(
            code=code, redirect_uri=REDIRECT_URI, code_verifier=other_verifier
        )
    with pytest.raises(OAuthError) as after:
        sign_in_client.exchange_code(
            code=code, redirect_uri=REDIRECT_URI, code_verifier=request.code_verifier
        )

    assert wrong.value.status == 400
    assert wrong.value.error == "invalid_grant"
    assert wrong.value.description == "code_verifier does not match the code_challenge"
    assert after.value.error == "invalid_grant"


def test_the_verifier_is_checked_against_s256_exactly(base_url, card_app, people):
    verifier = "a" * 43
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    request = oauth.AuthorizationRequest(
        app=card_app, redirect_uri=REDIRECT_URI, state=None, code_challenge=challenge
    )
    form = {
        "grant_type": "authorization_code",
        "redirect_uri": REDIRECT_URI,
        "client_id": card_app.client_id,
    }

    # The challenge sent back as the verifier (PKCE's "plain" method) is refused.
    as_plain = _token(
        base_url,
        **form,
        code=oauth.code_issue(request=request, user=people.ada),
        code_verifier=challenge,
    )
    as_s256 = _token(
        base_url,
        **form,
        code=oauth.code_issue(request=request, user=people.ada),
        code_verifier=verifier,
    )

    assert (as_plain.status_code, as_plain.json()["error"]) == (400, "invalid_grant")
    assert as_s256.status_code == 200


def test_a_reused_code_is_refused_and_revokes_the_tokens_issued_from_it(
    sign_in_client, browser, as_agent
):
    request, code = _code(sign_in_client, browser)
    tokens = sign_in_client.exchange_code(
        code=code, redirect_uri=REDIRECT_URI, code_verifier=request.code_verifier
    )
    assert as_agent(tokens.access_token).get("/v1/users/current").status_code == 200

    with pytest.raises(OAuthError) as error:
        sign_in_client.exchange_code(
            code=code, redirect_uri=REDIRECT_URI, code_verifier=request.code_verifier
        )

    assert error.value.error == "invalid_grant"
    assert "already used" in error.value.description
    assert as_agent(tokens.access_token).get("/v1/users/current").status_code == 401
    with pytest.raises(OAuthError):
        sign_in_client.refresh(tokens.refresh_token)


def test_an_expired_code_is_refused(sign_in_client, browser):
    request, code = _code(sign_in_client, browser)
    issued = AuthorizationCode.objects.get()
    lifetime = (issued.expires_at - issued.created_at).total_seconds()
    assert lifetime == pytest.approx(60, abs=0.5)
    AuthorizationCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(OAuthError) as error:
        sign_in_client.exchange_code(
            code=code, redirect_uri=REDIRECT_URI, code_verifier=request.code_verifier
        )

    assert error.value.error == "invalid_grant"
    assert error.value.description == "The authorization code has expired"


def test_the_redirect_uri_must_be_the_one_of_the_request(
    base_url, card_app, sign_in_client, browser
):
    services.org_get_or_create()
    card_app.redirect_uris = [REDIRECT_URI, "https://card.example.com/other"]
    card_app.save()
    request, code = _code(sign_in_client, browser)

    with pytest.raises(OAuthError) as error:
        sign_in_client.exchange_code(
            code=code,
            redirect_uri="https://card.example.com/other",
            code_verifier=request.code_verifier,
        )

    assert error.value.error == "invalid_grant"


def test_a_code_of_another_client_is_invalid(base_url, card_app, sign_in_client, browser):
    other = oauth.app_register(
        org=card_app.org, name="other_app", version="1.0.0", title="Other", redirect_uris=[]
    )
    request, code = _code(sign_in_client, browser)

    answer = _token(
        base_url,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
        code_verifier=request.code_verifier,
        client_id=other.client_id,
    )

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({}, 400, "invalid_request"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials"}, 400, "unsupported_grant_type"),
        ({"grant_type": "authorization_code"}, 400, "invalid_request"),
        (
            {"grant_type": "authorization_code", "code": "x", "redirect_uri": REDIRECT_URI},
            400,
            "invalid_request",
        ),
        ({"grant_type": "refresh_token"}, 400, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": "nope"}, 400, "invalid_grant"),
    ],
)
def test_bad_token_requests_get_rfc_6749_errors(base_url, card_app, form, status, error):
    answer = _token(base_url, client_id=card_app.client_id, **form)

    assert answer.status_code == status
    assert answer.json()["error"] == error
    assert answer.json()["error_description"]


def test_an_unknown_client_at_the_token_endpoint_is_a_401(base_url, card_app):
    answer = _token(base_url, grant_type="refresh_token", refresh_token="x", client_id="nobody")

    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert answer.headers["WWW-Authenticate"].startswith("Basic")


def test_the_token_endpoint_takes_only_form_posts(base_url, card_app):
    as_json = httpx.post(
        f"{base_url}/oauth/token",
        json={"grant_type": "refresh_token", "client_id": card_app.client_id},
    )
    as_get = httpx.get(f"{base_url}/oauth/token")

    assert as_json.status_code == 400
    assert as_json.json()["error"] == "invalid_request"
    assert as_get.status_code == 405
    assert as_get.headers["Allow"] == "POST"


def test_a_confidential_client_must_authenticate(base_url, card_app, browser):
    secret = oauth.app_secret_mint(app=card_app)
    client_id = card_app.client_id

    def exchange(**client) -> httpx.Response:
        oauth_client = KustomerOAuth(web_base_url=base_url, api_base_url=base_url, client_id="x")
        request = oauth_client.authorization_request(redirect_uri=REDIRECT_URI)
        url = request.url.replace("client_id=x", f"client_id={client_id}")
        code = browser.sign_in(url)["code"]
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": request.code_verifier,
            **client.pop("form", {}),
        }
        return httpx.post(f"{base_url}/oauth/token", data=form, **client)

    without = exchange(form={"client_id": client_id})
    wrong = exchange(form={"client_id": client_id, "client_secret": "guess"})
    posted = exchange(form={"client_id": client_id, "client_secret": secret})
    basic = exchange(auth=(client_id, secret))
    both = exchange(form={"client_secret": secret}, auth=(client_id, secret))

    assert (without.status_code, without.json()["error"]) == (401, "invalid_client")
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    assert posted.status_code == 200
    assert basic.status_code == 200
    assert (both.status_code, both.json()["error"]) == (400, "invalid_request")


def test_a_public_client_may_not_send_a_secret(base_url, card_app):
    answer = _token(
        base_url,
        grant_type="refresh_token",
        refresh_token="x",
        client_id=card_app.client_id,
        client_secret="made-up",
    )

    assert (answer.status_code, answer.json()["error"]) == (401, "invalid_client")


def test_the_request_log_shows_token_calls_without_their_secrets(
    base_url, card_app, sign_in_client, browser, control
):
    request, code = _code(sign_in_client, browser)
    sign_in_client.exchange_code(
        code=code, redirect_uri=REDIRECT_URI, code_verifier=request.code_verifier
    )

    log = control.get("/requests", params={"path": "/oauth/"}).json()["data"]

    assert [(row["method"], row["path"], row["status"]) for row in log] == [
        ("POST", "/oauth/token", 200)
    ]
    assert "grant_type=authorization_code" in log[0]["body"]
    assert "code_verifier=[redacted]" in log[0]["body"]
    assert code not in log[0]["body"] and request.code_verifier not in log[0]["body"]


# --- refresh, expiry, revocation ----------------------------------------------------------------


def test_refresh_gives_new_tokens_and_the_old_access_token_lives_out_its_time(
    signed_in, sign_in_client, as_agent
):
    first = signed_in()

    second = sign_in_client.refresh(first.refresh_token)

    assert second.access_token != first.access_token
    assert second.refresh_token != first.refresh_token
    assert second.scope == first.scope
    assert as_agent(second.access_token).get("/v1/users/current").status_code == 200
    assert as_agent(first.access_token).get("/v1/users/current").status_code == 200


def test_a_spent_refresh_token_presented_again_ends_the_sign_in(
    signed_in, sign_in_client, as_agent
):
    first = signed_in()
    second = sign_in_client.refresh(first.refresh_token)

    with pytest.raises(OAuthError) as error:
        sign_in_client.refresh(first.refresh_token)

    assert error.value.error == "invalid_grant" and error.value.sign_in_again
    assert as_agent(second.access_token).get("/v1/users/current").status_code == 401
    with pytest.raises(OAuthError):
        sign_in_client.refresh(second.refresh_token)


def test_an_expired_access_token_gets_401_and_a_refresh_mends_it(
    signed_in, sign_in_client, as_agent, settings
):
    settings.SANDBOX_KUSTOMER_OAUTH_ACCESS_TOKEN_SECONDS = 1
    tokens = signed_in()
    assert tokens.expired(margin_seconds=1.5)

    time.sleep(1.1)
    expired = as_agent(tokens.access_token).get("/v1/users/current")
    renewed = sign_in_client.refresh(tokens.refresh_token)

    assert expired.status_code == 401
    assert expired.json()["errors"][0]["detail"] == "The access token has expired"
    assert expired.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert "x-ratelimit-limit" not in expired.headers
    assert as_agent(renewed.access_token).get("/v1/users/current").status_code == 200


def test_revoking_the_refresh_token_signs_the_agent_out(signed_in, sign_in_client, as_agent):
    tokens = signed_in()

    sign_in_client.revoke(tokens.refresh_token)

    assert as_agent(tokens.access_token).get("/v1/users/current").status_code == 401
    with pytest.raises(OAuthError) as error:
        sign_in_client.refresh(tokens.refresh_token)
    assert error.value.description == "The refresh token was revoked"


def test_revoking_an_access_token_revokes_only_it(base_url, signed_in, sign_in_client, as_agent):
    tokens = signed_in()

    answer = httpx.post(
        f"{base_url}/oauth/revoke",
        data={
            "token": tokens.access_token,
            "token_type_hint": "access_token",
            "client_id": sign_in_client.client_id,
        },
    )
    unknown = httpx.post(
        f"{base_url}/oauth/revoke",
        data={"token": "not-a-token", "client_id": sign_in_client.client_id},
    )

    assert answer.status_code == 200 and answer.content == b""
    assert unknown.status_code == 200
    assert as_agent(tokens.access_token).get("/v1/users/current").status_code == 401
    renewed = sign_in_client.refresh(tokens.refresh_token)
    assert as_agent(renewed.access_token).get("/v1/users/current").status_code == 200


def test_another_client_cannot_revoke_the_token(base_url, card_app, signed_in, as_agent):
    other = oauth.app_register(
        org=card_app.org, name="other_app", version="1.0.0", title="Other", redirect_uris=[]
    )
    tokens = signed_in()

    answer = httpx.post(
        f"{base_url}/oauth/revoke",
        data={"token": tokens.refresh_token, "client_id": other.client_id},
    )

    assert answer.status_code == 400
    assert as_agent(tokens.access_token).get("/v1/users/current").status_code == 200


def test_an_admin_revoking_the_agents_tokens_signs_them_out_everywhere(
    signed_in, as_agent, control, people
):
    ada, sam = signed_in("Ada Agent"), signed_in("Sam Supervisor")

    answer = control.post("/oauth/revoke", json={"email": "ada.agent@sandbox.example.com"})

    assert answer.json() == {"revoked": 1}
    refused = as_agent(ada.access_token).get("/v1/users/current")
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["detail"] == "The access token was revoked"
    assert as_agent(sam.access_token).get("/v1/users/current").status_code == 200
    assert Grant.objects.filter(user=people.ada, revoked_at__isnull=False).count() == 1


def test_an_unknown_bearer_token_is_a_401(as_agent):
    answer = as_agent("no-such-token").get("/v1/users/current")

    assert answer.status_code == 401
    assert answer.json()["errors"][0]["code"] == "unauthorized"


# --- apps through the API and the control API ---------------------------------------------------


def _definition(**changes):
    return {
        "app": "acme_assistant",
        "version": "1.0.0",
        "title": "Acme Assistant",
        "visibility": "private",
        "redirectUris": ["https://assistant.acme.example/oauth/callback"],
        **changes,
    }


def test_an_app_is_registered_and_its_secret_is_shown_once(client_with, base_url):
    api = client_with("org.admin.apps")

    registered = api.post("/v1/apps/available", json=_definition())
    minted = api.post("/v1/apps/available/acme_assistant-1.0.0/secret")
    again = api.post("/v1/apps/available/acme_assistant-1.0.0/secret")

    assert registered.status_code == 201
    app = registered.json()["data"]
    assert app["type"] == "app"
    assert app["id"] == "acme_assistant-1.0.0"
    client_id = app["attributes"]["clientId"]
    assert len(client_id) == 24
    assert app["attributes"]["redirectUris"] == ["https://assistant.acme.example/oauth/callback"]
    assert "clientSecret" not in app["attributes"]
    assert minted.status_code == 201
    first_secret = minted.json()["data"]["attributes"]["clientSecret"]
    second_secret = again.json()["data"]["attributes"]["clientSecret"]
    assert first_secret != second_secret
    assert minted.json()["data"]["attributes"]["clientId"] == client_id
    # Only the newest secret authenticates.
    for secret, status in [(first_secret, 401), (second_secret, 400)]:
        answer = _token(
            base_url,
            grant_type="refresh_token",
            refresh_token="x",
            client_id=client_id,
            client_secret=secret,
        )
        assert answer.status_code == status


def test_a_new_version_keeps_the_client_id_and_a_registered_version_is_a_conflict(client_with):
    api = client_with("org.admin")

    first = api.post("/v1/apps/available", json=_definition())
    second = api.post(
        "/v1/apps/available",
        json=_definition(version="1.0.1", redirectUris=["https://acme.example/cb"]),
    )
    repeated = api.post("/v1/apps/available", json=_definition(version="1.0.1"))

    assert second.status_code == 201
    assert (
        second.json()["data"]["attributes"]["clientId"]
        == first.json()["data"]["attributes"]["clientId"]
    )
    assert second.json()["data"]["attributes"]["redirectUris"] == ["https://acme.example/cb"]
    assert repeated.status_code == 409
    assert repeated.json()["errors"][0]["code"] == "duplicate"


@pytest.mark.parametrize(
    ("changes", "pointer"),
    [
        ({"app": "Acme Assistant"}, "/data/attributes/app"),
        ({"app": None}, "/data/attributes/app"),
        ({"version": "1.0"}, "/data/attributes/version"),
        ({"title": None}, "/data/attributes/title"),
        ({"redirectUris": ["http://assistant.acme.example/cb"]}, "/data/attributes/redirectUris"),
        ({"redirectUris": ["https://acme.example/cb#top"]}, "/data/attributes/redirectUris"),
        ({"redirectUris": "https://acme.example/cb"}, "/data/attributes/redirectUris"),
        ({"clientSecret": "mine"}, "/data/attributes/clientSecret"),
    ],
)
def test_an_invalid_app_definition_is_refused(client_with, changes, pointer):
    api = client_with("org.admin.apps")

    answer = api.post("/v1/apps/available", json=_definition(**changes))

    assert answer.status_code == 400
    assert answer.json()["errors"][0]["source"]["pointer"] == pointer


def test_apps_need_the_apps_admin_role_and_unknown_versions_are_404(client_with):
    agent_like = client_with(*services.ALL_USER_ROLES)
    admin = client_with("org.admin.apps")

    assert agent_like.post("/v1/apps/available", json=_definition()).status_code == 403
    assert admin.post("/v1/apps/available/acme_assistant-9.9.9/secret").status_code == 404


def test_the_control_api_gives_the_demo_a_client_and_its_people(base_url, control, browser):
    made = control.post(
        "/apps",
        json={
            "app": "copilot_card",
            "redirectUris": ["http://127.0.0.1:8000/cards/oauth/callback"],
            "secret": True,
        },
    ).json()
    repointed = control.post(
        "/apps",
        json={
            "app": "copilot_card",
            "redirectUris": ["http://127.0.0.1:9000/cards/oauth/callback"],
        },
    ).json()
    people = control.get("/users").json()["data"]

    assert made["confidential"] is True and made["clientSecret"]
    assert repointed["clientId"] == made["clientId"]
    assert "clientSecret" not in repointed
    assert [person["attributes"]["displayName"] for person in people] == [
        "Ada Agent",
        "Sam Supervisor",
    ]
    page = browser.open(
        _authorize_url(
            base_url,
            client_id=made["clientId"],
            redirect_uri="http://127.0.0.1:9000/cards/oauth/callback",
        )
    )
    assert page.status_code == 200
