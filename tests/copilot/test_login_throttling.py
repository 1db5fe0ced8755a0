"""Staff sign-ins are throttled per username and per address, with a sentence and a way out."""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def staff():
    return User.objects.create_user("lead", password="the-right-password-42", is_staff=True)


def sign_in(client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_the_right_password_is_refused_after_five_wrong_ones(client, staff):
    for _ in range(4):
        assert sign_in(client, "lead", "wrong").status_code == 200  # the form again
    assert sign_in(client, "lead", "wrong").status_code == 429  # the fifth locks

    locked = sign_in(client, "lead", "the-right-password-42")

    assert locked.status_code == 429
    page = " ".join(locked.content.decode().split())
    assert "signing in is locked for 15 minutes" in page
    assert "axes_reset_username" in page
    assert "_auth_user_id" not in client.session


def test_the_lock_follows_the_username_from_another_address(client, staff):
    for number in range(5):
        sign_in(client, "lead", "wrong", address=f"10.0.0.{number}")

    assert sign_in(client, "lead", "the-right-password-42", address="10.9.9.9").status_code == 429


def test_one_address_guessing_many_usernames_is_locked(client, staff):
    for number in range(5):
        sign_in(client, f"someone-{number}", "wrong", address="10.6.6.6")

    assert sign_in(client, "lead", "the-right-password-42", address="10.6.6.6").status_code == 429
    # Other addresses are not held up by it.
    assert sign_in(client, "lead", "the-right-password-42", address="10.0.0.7").status_code == 302


def test_an_administrator_unlocks_a_username(client, staff):
    for _ in range(5):
        sign_in(client, "lead", "wrong")

    call_command("axes_reset_username", "lead")
    call_command("axes_reset_ip", "10.0.0.1")

    assert sign_in(client, "lead", "the-right-password-42").status_code == 302


def test_behind_the_proxy_the_address_is_the_one_the_proxy_saw(client, staff, settings):
    settings.DJANGO_BEHIND_PROXY = True
    for number in range(5):
        # A caller cannot choose its address by sending X-Forwarded-For itself.
        client.post(
            LOGIN,
            {"username": f"guess-{number}", "password": "wrong"},
            REMOTE_ADDR="192.168.0.2",
            HTTP_X_FORWARDED_FOR=f"1.2.3.{number}, 203.0.113.9",
        )

    response = client.post(
        LOGIN,
        {"username": "lead", "password": "the-right-password-42"},
        REMOTE_ADDR="192.168.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )

    assert response.status_code == 429
