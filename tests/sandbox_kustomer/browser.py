"""A person's browser in the "Sign in with Kustomer" pop-up: no JavaScript, only links and forms.

It keeps cookies (the page's CSRF cookie) and never follows a redirect, so a test can see where
the fake sends the person.
"""

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import httpx


@dataclass
class _Button:
    name: str
    value: str
    text: str = ""


class PageForm(HTMLParser):
    """The one form of the sign-in page: its CSRF token and its submit buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.csrf_token = ""
        self.buttons: list[_Button] = []
        self.scripts = 0
        self._open: _Button | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "input" and attributes.get("name") == "csrfmiddlewaretoken":
            self.csrf_token = attributes.get("value") or ""
        if tag == "button" and attributes.get("type") == "submit":
            self._open = _Button(attributes.get("name") or "", attributes.get("value") or "")

    def handle_data(self, data):
        if self._open is not None:
            self._open.text += data

    def handle_endtag(self, tag):
        if tag == "button" and self._open is not None:
            self._open.text = " ".join(self._open.text.split())
            self.buttons.append(self._open)
            self._open = None


def page_form(page: httpx.Response) -> PageForm:
    form = PageForm()
    form.feed(page.text)
    return form


class Browser:
    def __init__(self) -> None:
        self.http = httpx.Client(follow_redirects=False, timeout=10)

    def close(self) -> None:
        self.http.close()

    def open(self, url: str) -> httpx.Response:
        return self.http.get(url)

    def press(self, page: httpx.Response, button_text: str) -> httpx.Response:
        """Presses the page's button labelled `button_text` (the form posts to the page's URL)."""
        form = page_form(page)
        button = next(button for button in form.buttons if button.text == button_text)
        return self.http.post(
            str(page.url),
            data={"csrfmiddlewaretoken": form.csrf_token, button.name: button.value},
            headers={"Referer": str(page.url)},
        )

    def sign_in(self, url: str, *, person: str = "Ada Agent") -> dict[str, str]:
        """Opens the sign-in URL and signs in as `person`: the redirect's query parameters."""
        answer = self.press(self.open(url), f"Sign in as {person}")
        assert answer.status_code == 302, answer.text
        return redirect_params(answer)


def redirect_params(response: httpx.Response) -> dict[str, str]:
    """The query parameters of where a 302 sends the browser."""
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    return {name: values[0] for name, values in query.items()}
