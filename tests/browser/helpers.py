"""Helpers for browser tests: accessibility checks, screenshots, the fake Insight Panel's URL."""

from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from playwright.sync_api import Page

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
SERIOUS_IMPACTS = {"serious", "critical"}


@cache
def axe_source() -> str:
    """axe-core as shipped inside the pinned `axe-playwright-python` wheel (installs from PyPI
    with the dev extras, so a fresh clone needs no npm step)."""
    return files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


def axe(page: Page, *, impacts: set[str] = SERIOUS_IMPACTS) -> list[dict[str, Any]]:
    """axe-core's violations of `page` whose impact is in `impacts` (serious and critical), the
    page's frames included: `assert not axe(page), describe_violations(...)`."""
    # axe reaches into frames by postMessage, so each frame needs its own copy; evaluating it
    # (not a <script>) is not subject to the pages' Content Security Policy.
    for frame in page.frames:
        if frame.is_detached() or frame.url in {"", "about:blank"}:
            continue
        frame.evaluate(axe_source())
        # The card is framed from another origin, which axe refuses to talk to by default.
        frame.evaluate("axe.configure({allowedOrigins: ['<unsafe_all_origins>']})")
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [violation for violation in results["violations"] if violation.get("impact") in impacts]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """One line per violation and element, for an assertion's message."""
    lines = [
        f"{violation['impact']}: {violation['id']} ({violation['help']}) at {node['target']}"
        for violation in violations
        for node in violation["nodes"]
    ]
    return "\n".join(lines) or "no violations"


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Saves `docs/screenshots/<name>.png`, to be looked at as a user would before calling a page
    done (docs/ui.md, Checks)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def insight_panel_url(
    kustomer_origin: str,
    *,
    card: str,
    customer: str = "",
    conversation: str = "",
    roles: tuple[str, ...] = (),
    width: int = 320,
) -> str:
    """The address of the fake Kustomer's Insight Panel framing `card`
    (copilot/sandbox/kustomer/card_views.py)."""
    params = {
        "card": card,
        "customer": customer,
        "conversation": conversation,
        "roles": ",".join(roles),
        "width": str(width),
    }
    query = urlencode({name: value for name, value in params.items() if value})
    return f"{kustomer_origin}/sandbox/kustomer/insight-panel/?{query}"


def host_messages(page: Page) -> list[dict[str, Any]]:
    """The messages the card sent the Insight Panel, oldest first."""
    return page.evaluate("window.kustomerHost.messages")


def wait_for_card_to_fit(page: Page, title: str = "Context Card") -> None:
    """Waits until the Insight Panel has sized the card's frame to what the card shows.

    The card asks for its new height after each change, a frame or two later. A click aimed
    before that lands where the frame scrolled to show the button, and the resize then moves
    the button from under it; a person is never that quick, a test is."""
    frame = page.get_by_title(title).element_handle().content_frame()
    assert frame is not None, f"no frame titled {title!r}"
    frame.wait_for_function("() => document.documentElement.scrollHeight <= window.innerHeight + 1")
