from dataclasses import dataclass

import pytest

from copilot.sandbox.kustomer import selectors as kustomer_selectors
from copilot.sandbox.kustomer import services as kustomer_sandbox
from tests.sandbox_shopify.support import (  # noqa: F401  (fixtures)
    NoteRecorder,
    _fresh_shopify_state,
    capture_server,
    fake_requests,
    fake_shop,
    fast_flush,
    shopify_client,
    shopify_url,
    store,
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item):
    # The flush after each of these (live-server) tests deletes instead of truncating.
    with fast_flush():
        yield


class ActionNoteRecorder(NoteRecorder):
    """The recorder of notes, answering `write_note` as the Kustomer client does (by creating the
    note); it accepts every note, duplicates included (the fake Kustomer below refuses them)."""

    def write_note(self, conversation_id, *, body, external_id, customer_id=None) -> str:
        return self.create_note(
            conversation_id, body=body, external_id=external_id, customer_id=customer_id
        )["id"]


@pytest.fixture
def kustomer_notes(monkeypatch) -> ActionNoteRecorder:
    from copilot.integrations import kustomer

    recorder = ActionNoteRecorder()
    monkeypatch.setattr(kustomer.KustomerClient, "from_settings", classmethod(lambda cls: recorder))
    return recorder


@dataclass
class FakeKustomer:
    """The fake Kustomer org the copilot writes its notes to, and a conversation in it."""

    org: object
    conversation_id: str

    def notes(self) -> list:
        return list(kustomer_selectors.notes(org=self.org))


@pytest.fixture
def fake_kustomer(live_server, settings) -> FakeKustomer:
    """The fake Kustomer over real HTTP, as the copilot's note writer reaches it: its key may
    write notes, and Katherine has a conversation."""
    settings.SANDBOX_KUSTOMER_LATENCY_MS = 0
    settings.KUSTOMER_API_BASE_URL = live_server.url + "/sandbox/kustomer"
    org = kustomer_sandbox.org_get_or_create()
    settings.KUSTOMER_API_KEY = kustomer_sandbox.api_key_create(
        roles=["org.user.note.write"], name="copilot"
    ).token
    customer = kustomer_sandbox.customer_create(
        name="Katherine Johnson", email="katherine@example.com", emit_webhooks=False
    )
    conversation = kustomer_sandbox.conversation_create(
        customer=customer, name="My order arrived damaged", emit_webhooks=False
    )
    return FakeKustomer(org=org, conversation_id=conversation.id)
