import pytest

from tests.sandbox_shopify.support import (  # noqa: F401  (fixtures)
    _fresh_shopify_state,
    capture_server,
    fake_requests,
    fake_shop,
    fast_flush,
    kustomer_notes,
    shopify_client,
    shopify_url,
    store,
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item):
    # The flush after each of these (live-server) tests deletes instead of truncating.
    with fast_flush():
        yield
