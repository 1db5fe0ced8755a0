"""Reading labelled examples (or bare messages) from files: CSV with a header, or JSON Lines.

The management commands read a path and stop at the first problem (`read_labelled_file`); the
training UI reads an upload and reports every problem at once (`parse_labelled_text`). Both go
through the same row checks, so a file the command accepts the page accepts too.
"""

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from copilot.text import has_unstorable

# What an intent's name (a slug) may hold, so a file cannot create an intent the UI cannot link to.
INTENT_NAME = re.compile(r"^[-a-zA-Z0-9_]{1,100}$")
LABELLED_BY_COLUMN = "labelled_by"
LABELLED_BY_MAX_LENGTH = 255  # LabeledExample.labelled_by
# A spreadsheet runs a cell that starts with one of these as a formula; exports put an
# apostrophe in front (see `spreadsheet_cell`), and reading a CSV takes it off again.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ImportFileError(ValueError):
    """A file that cannot be read as labelled examples; the message names the file and row."""


@dataclass(frozen=True)
class LabelledRow:
    text: str
    intent: str
    row: int  # 1-based data row (the header is row 0) or JSONL line number
    labelled_by: str = ""  # from the file's optional `labelled_by` column


@dataclass(frozen=True)
class RowProblem:
    """A row that could not be read; `reason` is a sentence starting in lower case."""

    row: int
    reason: str
    unit: str = "row"  # "line" for a JSON Lines line that is not a JSON object

    def __str__(self) -> str:
        return f"{self.unit} {self.row}: {self.reason}"


@dataclass(frozen=True)
class ParsedFile:
    rows: list[LabelledRow]
    problems: list[RowProblem]  # in file order

    @property
    def total(self) -> int:
        return len(self.rows) + len(self.problems)


class _RowError(ValueError):
    pass


def read_labelled_file(
    path: str | Path, *, text_column: str = "text", label_column: str | None = "intent"
) -> list[LabelledRow]:
    """Reads `text,intent` rows from a `.csv` or `.jsonl` file (by extension). With
    ``label_column=None`` only the texts are read (messages to classify); their intent is "".

    Every problem names the file and the row, so a person can fix the file and run it again.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file.")
    try:
        content = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(f"{path}: the file is not UTF-8 text ({error.reason}).") from None
    try:
        parsed = parse_labelled_text(
            content,
            jsonl=is_jsonl_name(path.name),
            text_column=text_column,
            label_column=label_column,
        )
    except ImportFileError as error:
        raise ImportFileError(f"{path}{_separator(str(error))}{error}") from None
    if parsed.problems:
        raise ImportFileError(f"{path}, {parsed.problems[0]}")
    return parsed.rows


def _separator(message: str) -> str:
    # A file-wide problem reads "<path>: ..."; one found at a row reads "<path>, row 3: ...".
    return ", " if message.startswith(("row ", "line ")) else ": "


def is_jsonl_name(name: str) -> bool:
    return Path(name).suffix.lower() in {".jsonl", ".ndjson"}


def parse_labelled_text(
    content: str,
    *,
    jsonl: bool,
    text_column: str = "text",
    label_column: str | None = "intent",
) -> ParsedFile:
    """Every row of a CSV (with a header) or JSON Lines text, read or refused with its reason.

    Raises `ImportFileError` only for what spoils the whole file (a header without the
    columns, unreadable CSV, no row at all), with a message that names no path.
    """
    content = content.removeprefix("\ufeff")
    reader = _jsonl_records if jsonl else _csv_records
    rows: list[LabelledRow] = []
    problems: list[RowProblem] = []
    for number, record in reader(content, text_column, label_column):
        if isinstance(record, RowProblem):
            problems.append(record)
            continue
        try:
            rows.append(_clean_row(number, record, text_column, label_column))
        except _RowError as error:
            problems.append(RowProblem(number, str(error)))
    if not rows and not problems:
        raise ImportFileError("the file has no examples.")
    return ParsedFile(rows, problems)


def _clean_row(
    number: int, record: dict, text_column: str, label_column: str | None
) -> LabelledRow:
    text = record.get(text_column)
    if not isinstance(text, str) or not text.strip():
        raise _RowError("the text is empty.")
    _check_storable(text, "text")
    labelled_by = record.get(LABELLED_BY_COLUMN) or ""
    if not isinstance(labelled_by, str):
        raise _RowError("labelled_by must be text.")
    labelled_by = labelled_by.strip()
    _check_storable(labelled_by, "labelled_by value")
    if len(labelled_by) > LABELLED_BY_MAX_LENGTH:
        raise _RowError(f"labelled_by is longer than {LABELLED_BY_MAX_LENGTH} characters.")
    if label_column is None:
        return LabelledRow(text=text.strip(), intent="", row=number, labelled_by=labelled_by)
    intent = record.get(label_column)
    if not isinstance(intent, str) or not intent.strip():
        raise _RowError("the intent is empty.")
    _check_storable(intent, "intent")
    return LabelledRow(
        text=text.strip(), intent=intent.strip(), row=number, labelled_by=labelled_by
    )


def _cell(value: object) -> object:
    """A CSV cell as written before `spreadsheet_cell` protected it."""
    if isinstance(value, str) and value.startswith("'") and value[1:2] in FORMULA_STARTS:
        return value[1:]
    return value


def spreadsheet_cell(value: str) -> str:
    """`value` for a CSV cell that a spreadsheet shows as text instead of running as a formula
    (OWASP's CSV injection advice); `_cell` undoes it when the file is imported again."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _check_storable(value: str, what: str) -> None:
    if has_unstorable(value):
        raise _RowError(
            f"the {what} holds a NUL character or an unpaired surrogate, "
            "which cannot be stored; remove it and import the file again."
        )


def _csv_records(content: str, text_column: str, label_column: str | None):
    reader = csv.DictReader(io.StringIO(content, newline=""))
    header = reader.fieldnames or []
    needed = [text_column] if label_column is None else [text_column, label_column]
    if any(column not in header for column in needed):
        columns = " and ".join(repr(column) for column in needed)
        raise ImportFileError(
            f"the header must name the column{'s' * (len(needed) > 1)} {columns}; "
            f"it has {', '.join(repr(name) for name in header) or 'no columns'}."
        )
    try:
        for number, record in enumerate(reader, start=1):
            yield number, {column: _cell(value) for column, value in record.items()}
    except csv.Error as error:
        raise ImportFileError(f"row {reader.line_num}: {error}.") from None


def _jsonl_records(content: str, text_column: str, label_column: str | None):
    # Split on "\n" only: str.splitlines() would also split inside a JSON string holding U+2028.
    for number, line in enumerate(content.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            yield number, RowProblem(number, f"not valid JSON ({error.msg}).", unit="line")
            continue
        if not isinstance(record, dict):
            yield number, RowProblem(number, "expected a JSON object.", unit="line")
            continue
        yield number, record
