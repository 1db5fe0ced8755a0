"""Importing a file of labelled examples from the training UI, in two steps: the upload is
read and kept (nothing is saved), a report says what importing it would do, and only the
person's confirmation saves it.

The rows are kept server-side in the cache, under an unguessable token bound to the person who
uploaded them, for an hour: the browser never sends the rows back, so what is confirmed is
exactly what was checked, and a 5 MB file is not carried twice. The report is computed again
on confirmation, inside the transaction that saves, so that an example added in between is
skipped rather than duplicated.
"""

import logging
import secrets
from dataclasses import dataclass

from django.core.cache import cache
from django.db import IntegrityError, transaction

from . import services
from .dataset_files import ImportReport, import_report
from .importing import LabelledRow, ParsedFile, RowProblem
from .models import Intent, IntentChange, LabeledExample, text_fingerprint

logger = logging.getLogger(__name__)

UPLOAD_KEPT_SECONDS = 3600
_FINGERPRINTS_PER_QUERY = 5000


class ImportRefused(ValueError):
    """An import that cannot be saved; the message says why, in a sentence."""


@dataclass(frozen=True)
class KeptUpload:
    token: str
    name: str
    parsed: ParsedFile


@dataclass(frozen=True)
class ImportDone:
    created: int
    skipped: int  # duplicates of examples or of earlier rows
    refused: int
    intents_created: list[str]


def _cache_key(token: str) -> str:
    return f"intents:import:{token}"


def upload_keep(*, user_id: int, name: str, parsed: ParsedFile) -> str:
    """Keeps an uploaded file's rows for the report and the confirmation; returns their token."""
    token = secrets.token_urlsafe(24)
    cache.set(
        _cache_key(token),
        {
            "user_id": user_id,
            "name": name,
            "rows": [[row.row, row.text, row.intent, row.labelled_by] for row in parsed.rows],
            "problems": [
                [problem.row, problem.reason, problem.unit] for problem in parsed.problems
            ],
        },
        UPLOAD_KEPT_SECONDS,
    )
    return token


def upload_kept(*, token: str, user_id: int) -> KeptUpload | None:
    """The upload kept under `token` for this person, or None once it is gone (imported,
    cancelled or expired) or when it is someone else's."""
    kept = cache.get(_cache_key(token)) if token else None
    if not kept or kept["user_id"] != user_id:
        return None
    rows = [
        LabelledRow(text=text, intent=intent, row=row, labelled_by=labelled_by)
        for row, text, intent, labelled_by in kept["rows"]
    ]
    problems = [RowProblem(row, reason, unit) for row, reason, unit in kept["problems"]]
    return KeptUpload(token=token, name=kept["name"], parsed=ParsedFile(rows, problems))


def upload_discard(*, token: str) -> None:
    cache.delete(_cache_key(token))


def upload_report(*, upload: KeptUpload, create_intents: bool) -> ImportReport:
    """What importing the upload would do against the dataset as it is now."""
    fingerprints = list({text_fingerprint(row.text) for row in upload.parsed.rows})
    existing: dict[str, str] = {}
    for start in range(0, len(fingerprints), _FINGERPRINTS_PER_QUERY):
        existing.update(
            LabeledExample.objects.filter(
                text_sha256__in=fingerprints[start : start + _FINGERPRINTS_PER_QUERY]
            ).values_list("text_sha256", "intent__name")
        )
    intents = dict(Intent.objects.values_list("name", "active"))
    return import_report(
        upload.parsed, existing=existing, intents=intents, create_intents=create_intents
    )


def examples_import_upload(
    *, user, upload: KeptUpload, create_intents: bool, expected_new: int
) -> ImportDone:
    """Saves the upload's new rows as trusted examples from an import, in one transaction:
    labelled by the file's `labelled_by` where it has one, else by `user`; the intents it
    names that are missing are created (and recorded as created by `user`) when
    `create_intents`. The upload is then forgotten.

    Raises `ImportRefused` when the report now differs from the one the person confirmed
    (`expected_new` rows to import): someone changed the dataset in between.
    """
    try:
        with transaction.atomic():
            report = upload_report(upload=upload, create_intents=create_intents)
            if len(report.new) != expected_new:
                raise ImportRefused(
                    f"The dataset changed since the file was checked: {len(report.new)} "
                    f"examples would now be imported, not {expected_new}. Check the report "
                    "again before importing."
                )
            for name in report.intents_to_create:
                intent = Intent.objects.create(name=name)
                IntentChange.objects.create(
                    action=IntentChange.Action.CREATE,
                    intent=intent,
                    detail=f"Created by importing {upload.name}.",
                    performed_by=user,
                )
            by_labeller: dict[str, list[LabelledRow]] = {}
            for row in report.new:
                by_labeller.setdefault(row.labelled_by or user.get_username(), []).append(row)
            created = sum(
                services.examples_import(
                    rows=rows,
                    source=LabeledExample.Source.IMPORT,
                    status=LabeledExample.Status.TRUSTED,
                    labelled_by=labelled_by,
                ).created
                for labelled_by, rows in by_labeller.items()
            )
    except IntegrityError:
        # Another import or label added one of these texts (or intents) after the report
        # was computed: nothing was saved.
        raise ImportRefused(
            "Someone added some of these examples while the file was being imported, so "
            "nothing was saved. Check the report again and import."
        ) from None
    upload_discard(token=upload.token)
    logger.info(
        "import of %s by user %s: %d examples, %d intents created",
        upload.name,
        user.pk,
        created,
        len(report.intents_to_create),
    )
    return ImportDone(
        created=created,
        skipped=report.duplicates_of_examples + report.duplicates_in_file,
        refused=report.errors,
        intents_created=report.intents_to_create,
    )
