"""The dataset's files in the training UI, without the database: reading an upload, deciding
what importing it would do, and writing examples out as CSV or JSON Lines.

Reading reuses `intents.importing` (the `intents_import` command's reader), so a file is
judged the same way on the command line and on the page.
"""

import csv
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from .importing import (
    INTENT_NAME,
    ImportFileError,
    LabelledRow,
    ParsedFile,
    is_jsonl_name,
    parse_labelled_text,
    spreadsheet_cell,
)
from .models import text_fingerprint

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
EXPORT_COLUMNS = ("text", "intent", "source", "status", "labelled_by", "labelled_at")
VERSION_EXPORT_COLUMNS = ("text", "intent")
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/jsonl; charset=utf-8",
}


def _megabytes(size: int) -> str:
    # Rounded up, so that a file just over the limit never reads as the limit itself.
    tenths = math.ceil(size * 10 / (1024 * 1024))
    return f"{tenths / 10:.1f}".removesuffix(".0") + " MB"


MAX_UPLOAD_SIZE = _megabytes(MAX_UPLOAD_BYTES)


def too_big(size: int) -> str:
    return (
        f"The file is {_megabytes(size)}; files up to {MAX_UPLOAD_SIZE} can be imported. "
        "Split it and import the parts one after the other."
    )


def upload_parse(*, name: str, content: bytes) -> ParsedFile:
    """The rows of an uploaded `.csv` or `.jsonl` file; `ImportFileError` with a sentence a
    person can act on when the file as a whole cannot be read."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise ImportFileError(too_big(len(content)))
    lower = name.lower()
    if not (lower.endswith(".csv") or is_jsonl_name(lower)):
        raise ImportFileError("Choose a .csv or a .jsonl file.")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"The file is not UTF-8 text ({error.reason} at byte {error.start}); "
            "save it as UTF-8 and upload it again."
        ) from None
    try:
        return parse_labelled_text(text, jsonl=is_jsonl_name(lower))
    except ImportFileError as error:
        message = str(error)
        raise ImportFileError(message[:1].upper() + message[1:]) from None


# --- What an import would do -------------------------------------------------------------------


@dataclass(frozen=True)
class ReportLine:
    """A row that will not be imported, and why (a sentence starting in lower case)."""

    row: int
    reason: str
    refused: bool  # True: an error to fix; False: skipped, since the dataset has it already


@dataclass(frozen=True)
class ImportReport:
    total: int  # rows in the file, read or not
    new: list[LabelledRow]  # the rows that will become examples
    duplicates_of_examples: int
    duplicates_in_file: int
    errors: int
    unknown_intents: list[str]  # named by the file, not in the dataset, in file order
    intents_to_create: list[str]  # those of them that will be created
    lines: list[ReportLine]  # by row

    @property
    def unknown_intents_refused(self) -> bool:
        return bool(self.unknown_intents) and not self.intents_to_create


def import_report(
    parsed: ParsedFile,
    *,
    existing: Mapping[str, str],
    intents: Mapping[str, bool],
    create_intents: bool,
) -> ImportReport:
    """What importing `parsed` would do, row by row.

    `existing` maps the fingerprints of the dataset's texts to their intent, `intents` every
    intent's name to whether it is active. A row is refused (an error), skipped (its text is
    an example already, or an earlier row of the file has it) or new. A row naming an intent
    that does not exist is new only with `create_intents`; a retired intent is refused, since
    its examples would never be trained on.
    """
    lines = [ReportLine(problem.row, problem.reason, refused=True) for problem in parsed.problems]
    new: list[LabelledRow] = []
    first_row: dict[str, LabelledRow] = {}
    duplicates_of_examples = duplicates_in_file = 0
    unknown: dict[str, None] = {}
    for row in parsed.rows:
        known = intents.get(row.intent)
        if known is None and not INTENT_NAME.match(row.intent):
            lines.append(
                ReportLine(
                    row.row,
                    f"the intent {row.intent!r} is not a valid name: use letters, digits, "
                    "'_' and '-' only, up to 100 characters.",
                    refused=True,
                )
            )
            continue
        if known is False:
            lines.append(
                ReportLine(
                    row.row,
                    f"the intent {row.intent!r} is retired; relabel the row with an active one.",
                    refused=True,
                )
            )
            continue
        if known is None:
            unknown[row.intent] = None
            if not create_intents:
                lines.append(
                    ReportLine(
                        row.row,
                        f"there is no intent {row.intent!r}; choose to create the missing "
                        "intents, or relabel the row.",
                        refused=True,
                    )
                )
                continue
        fingerprint = text_fingerprint(row.text)
        if fingerprint in existing:
            duplicates_of_examples += 1
            labelled = existing[fingerprint]
            reason = (
                "the dataset has this text already, with the same intent."
                if labelled == row.intent
                else f"the dataset has this text already, labelled {labelled!r}, which it keeps."
            )
            lines.append(ReportLine(row.row, reason, refused=False))
            continue
        first = first_row.get(fingerprint)
        if first is not None:
            duplicates_in_file += 1
            reason = (
                f"row {first.row} has the same text."
                if first.intent == row.intent
                else f"row {first.row} has the same text, labelled {first.intent!r}, "
                "and the first row wins."
            )
            lines.append(ReportLine(row.row, reason, refused=False))
            continue
        first_row[fingerprint] = row
        new.append(row)
    lines.sort(key=lambda line: line.row)
    return ImportReport(
        total=parsed.total,
        new=new,
        duplicates_of_examples=duplicates_of_examples,
        duplicates_in_file=duplicates_in_file,
        errors=sum(line.refused for line in lines),
        unknown_intents=list(unknown),
        intents_to_create=list(unknown) if create_intents else [],
        lines=lines,
    )


# --- Writing examples out ----------------------------------------------------------------------


class _Line:
    """A file-like object that hands back what `csv.writer` writes, one row at a time."""

    def write(self, value: str) -> str:
        return value


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def csv_lines(columns: tuple[str, ...], rows: Iterable[tuple]) -> Iterator[str]:
    """The header, then one CSV line per row; cells a spreadsheet would run as a formula
    start with an apostrophe, which importing the file takes off again."""
    writer = csv.writer(_Line())
    yield writer.writerow(columns)
    for row in rows:
        yield writer.writerow([spreadsheet_cell(_text(value)) for value in row])


def jsonl_lines(columns: tuple[str, ...], rows: Iterable[tuple]) -> Iterator[str]:
    """One JSON object per row and line, the texts exactly as stored."""
    for row in rows:
        record = {
            column: value.isoformat() if isinstance(value, datetime) else value
            for column, value in zip(columns, row, strict=True)
        }
        yield json.dumps(record, ensure_ascii=False) + "\n"


def file_lines(file_format: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> Iterator[str]:
    return (csv_lines if file_format == "csv" else jsonl_lines)(columns, rows)
