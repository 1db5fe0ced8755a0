"""Reading labelled examples (or bare messages) from files: CSV with a header, or JSON Lines."""

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from copilot.text import has_unstorable


class ImportFileError(ValueError):
    """A file that cannot be read as labelled examples; the message names the file and row."""


@dataclass(frozen=True)
class LabelledRow:
    text: str
    intent: str
    row: int  # 1-based data row (the header is row 0) or JSONL line number


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
    reader = _read_jsonl if path.suffix.lower() in {".jsonl", ".ndjson"} else _read_csv
    try:
        rows = reader(path, text_column, label_column)
    except UnicodeDecodeError as error:
        raise ImportFileError(f"{path}: the file is not UTF-8 text ({error.reason}).") from None
    if not rows:
        raise ImportFileError(f"{path}: the file has no examples.")
    return rows


def _clean_row(
    path: Path, number: int, record: dict, text_column: str, label_column: str | None
) -> LabelledRow:
    text = record.get(text_column)
    if not isinstance(text, str) or not text.strip():
        raise ImportFileError(f"{path}, row {number}: the text is empty.")
    _check_storable(path, number, text, "text")
    if label_column is None:
        return LabelledRow(text=text.strip(), intent="", row=number)
    intent = record.get(label_column)
    if not isinstance(intent, str) or not intent.strip():
        raise ImportFileError(f"{path}, row {number}: the intent is empty.")
    _check_storable(path, number, intent, "intent")
    return LabelledRow(text=text.strip(), intent=intent.strip(), row=number)


def _check_storable(path: Path, number: int, value: str, what: str) -> None:
    if has_unstorable(value):
        raise ImportFileError(
            f"{path}, row {number}: the {what} holds a NUL character or an unpaired surrogate, "
            "which cannot be stored; remove it and import the file again."
        )


def _read_csv(path: Path, text_column: str, label_column: str | None) -> list[LabelledRow]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        needed = [text_column] if label_column is None else [text_column, label_column]
        if any(column not in header for column in needed):
            columns = " and ".join(repr(column) for column in needed)
            raise ImportFileError(
                f"{path}: the header must name the column{'s' * (len(needed) > 1)} {columns}; "
                f"it has {', '.join(repr(name) for name in header) or 'no columns'}."
            )
        try:
            return [
                _clean_row(path, number, record, text_column, label_column)
                for number, record in enumerate(reader, start=1)
            ]
        except csv.Error as error:
            raise ImportFileError(f"{path}, row {reader.line_num}: {error}.") from None


def _read_jsonl(path: Path, text_column: str, label_column: str | None) -> list[LabelledRow]:
    rows = []
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ImportFileError(
                    f"{path}, line {number}: not valid JSON ({error.msg})."
                ) from None
            if not isinstance(record, dict):
                raise ImportFileError(f"{path}, line {number}: expected a JSON object.")
            rows.append(_clean_row(path, number, record, text_column, label_column))
    return rows
