"""Browser tests: Playwright (sync API) driving Debian's Chromium against the live server.

The card lives in a cross-site iframe inside Kustomer; the live server answers on both
http://localhost:PORT and http://127.0.0.1:PORT, two sites to a browser, so a test can put the
fake Kustomer on one (`origins.kustomer`) and the copilot's card on the other (`origins.app`).
Every test here carries the `browser` marker (`pytestmark = pytest.mark.browser`).
"""

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Chromium refuses to run as root with its sandbox on (CI runs as root).
CHROMIUM_ARGS = ["--no-sandbox"] if os.geteuid() == 0 else []
# chrome://settings/cookies: 1 is "Block third-party cookies" (0 allows them, 2 blocks them in
# Incognito only).
BLOCK_THIRD_PARTY_COOKIES = 1
ALLOW_THIRD_PARTY_COOKIES = 0


# An action in the card goes through the fakes over HTTP (Kustomer's Drafts API, Shopify's
# suggested refund) on a live server that shares two cores with the browser and the rest of
# the suite: under load that took more than Playwright's 5 s. A failing check still fails,
# only later.
expect.set_options(timeout=15_000)


@dataclass(frozen=True)
class Origins:
    """The live server under its two names: Kustomer's side and the copilot's side."""

    kustomer: str  # http://localhost:PORT
    app: str  # http://127.0.0.1:PORT


# Package scope, not session: while Playwright's sync API is started, its asyncio loop counts as
# running in the main thread, and Django refuses database calls there (SynchronousOnlyOperation).
# The check is lifted only while the browser tests run, and Playwright stops after the last one,
# so the rest of the suite keeps Django's guard.
#
# The test database is set up before Playwright starts (hence `django_db_setup`): its teardown
# drops the database through the connections of the context it was set up in, which must be the
# suite's ordinary one.
@pytest.fixture(scope="package")
def playwright(django_db_setup: None) -> Iterator[Playwright]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"Browser tests need Chromium at {CHROMIUM}: apt-get install chromium")
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as instance:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield instance
        # Django keeps a separate set of connections while that loop runs; once it stops they are
        # out of reach, and an open one would keep the test database from being dropped.
        connections.close_all()


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One headless Chromium for the browser tests; tests open their own contexts (or `page`)."""
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh context (its own cookies and storage), 1280 by 800."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


@pytest.fixture
def origins(live_server) -> Origins:
    """pytest-django's live server binds 127.0.0.1 through the name `localhost`, so it answers
    both names; ALLOWED_HOSTS holds both by default."""
    port = live_server.thread.port
    return Origins(kustomer=f"http://localhost:{port}", app=f"http://127.0.0.1:{port}")


def chromium_profile_context(
    playwright: Playwright, profile: Path, *, block_third_party_cookies: bool
) -> BrowserContext:
    """A Chromium with a profile of its own whose cookie setting is the user's choice
    "Block third-party cookies" (or "Allow"), set in its Preferences as the settings page does.

    Chromium's own default differs between versions and between normal and Incognito windows, so
    tests about third-party cookies say which they need.
    """
    mode = BLOCK_THIRD_PARTY_COOKIES if block_third_party_cookies else ALLOW_THIRD_PARTY_COOKIES
    (profile / "Default").mkdir(parents=True, exist_ok=True)
    preferences = {"profile": {"cookie_controls_mode": mode}}
    (profile / "Default" / "Preferences").write_text(json.dumps(preferences))
    return playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 800},
    )


@pytest.fixture
def context_third_party_cookies_blocked(
    playwright: Playwright, tmp_path: Path
) -> Iterator[BrowserContext]:
    """A browser context that blocks third-party cookies, as Safari always does and Chrome does
    in Incognito: a framed card gets back only partitioned (CHIPS) cookies. Verified by
    tests/browser/test_harness.py."""
    context = chromium_profile_context(
        playwright, tmp_path / "profile", block_third_party_cookies=True
    )
    yield context
    context.close()
