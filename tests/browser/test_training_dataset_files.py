"""Importing a file in the training UI, in Chromium: a team lead uploads a CSV with one bad row,
reads the report (nothing saved yet), confirms, and finds the new examples in the dataset."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from intents.importing import LabelledRow
from intents.models import LabeledExample
from intents.services import examples_import
from tests.browser.conftest import Origins
from tests.browser.helpers import axe, describe_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = (
    "text,intent\n"
    "my parcel is stuck in customs,track_order\n"
    ",track_order\n"
    "please give me my money back for the broken mug,get_refund\n"
)


@pytest.fixture
def lead() -> None:
    examples_import(
        rows=[
            LabelledRow(text="where is my order 1042", intent="track_order", row=1),
            LabelledRow(text="refund order 1042 please", intent="get_refund", row=2),
        ]
    )
    get_user_model().objects.create_superuser("lead", "lead@example.com", "a-long-password-1")


def sign_in(page: Page, origins: Origins, path: str) -> None:
    page.goto(f"{origins.app}{path}")
    page.get_by_label("Username").fill("lead")
    page.get_by_label("Password").fill("a-long-password-1")
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))


def test_a_lead_imports_a_file_after_reading_its_report(page: Page, origins: Origins, lead) -> None:
    sign_in(page, origins, "/training/dataset/")
    page.get_by_role("link", name="Import a file…").click()
    expect(page.get_by_role("heading", name="Import examples")).to_be_visible()
    screenshot(page, "training-import-1280")
    page.get_by_label("File (.csv or .jsonl, up to 5 MB)").set_input_files(
        files=[{"name": "examples.csv", "mimeType": "text/csv", "buffer": CSV.encode()}]
    )
    page.get_by_role("button", name="Check the file").click()

    expect(
        page.get_by_role("heading", name="Check “examples.csv” before importing")
    ).to_be_visible()
    problems = page.get_by_role("table")
    expect(problems.get_by_role("row")).to_have_count(2)  # the header and the bad row
    expect(problems.get_by_role("row").nth(1)).to_contain_text("2")
    expect(problems.get_by_role("row").nth(1)).to_contain_text("The text is empty.")
    assert LabeledExample.objects.count() == 2  # nothing saved before the confirmation
    assert not axe(page), describe_violations(axe(page))
    screenshot(page, "training-import-report-1280")

    page.get_by_role("button", name="Import 2 examples").click()

    expect(page).to_have_url(re.compile(r"/training/dataset/\?source=import$"))
    expect(page.get_by_role("status")).to_contain_text("Imported 2 examples from examples.csv")
    examples = page.get_by_role("table")
    expect(examples).to_contain_text("my parcel is stuck in customs")
    expect(examples).to_contain_text("please give me my money back for the broken mug")
    assert LabeledExample.objects.filter(source="import", labelled_by="lead").count() == 2
