"""Read CSV and Excel registers the way users really have them: UTF-8 or GBK, English or Chinese
headers, numbers stored as text, dates as Excel dates or strings. Rows are checked against a column
spec and every problem is reported by row number (as the spreadsheet shows it) and column name."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ImportRejected, UserError


@dataclass(frozen=True)
class Column:
    name: str  # field name in our model
    aliases: tuple[str, ...]  # headers accepted in files (Chinese and English), compared loosely
    parse: Callable[[str], Any] = str
    required: bool = False


@dataclass
class Table:
    source: str
    rows: list[dict[str, Any]]  # parsed values by Column.name, plus "_row" (spreadsheet row number)
    headers: dict[str, str] = field(default_factory=dict)  # Column.name -> header as written in the file
    problems: list[str] = field(default_factory=list)

    def problem(self, row: int, column: str, message: str) -> None:
        header = self.headers.get(column, column)
        self.problems.append(f"row {row}, column {header}: {message}")

    def raise_if_problems(self) -> None:
        if self.problems:
            raise ImportRejected(self.source, self.problems)


def read_table(path: str | Path, columns: list[Column]) -> Table:
    """Read and parse every row; problems are collected, not raised, so a user sees all of them at once."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"file not found: {path}")
    raw_headers, raw_rows = _read_raw(path)
    table = Table(source=path.name, rows=[])
    index = _match_headers(path.name, raw_headers, columns, table)
    for offset, raw in enumerate(raw_rows):
        row_no = offset + 2  # header is row 1
        if not any(str(v).strip() for v in raw if v is not None):
            continue
        table.rows.append(_parse_row(table, row_no, raw, index, columns))
    if not table.rows and not table.problems:
        raise UserError(f"{path.name}: no data rows")
    return table


# ---------------------------------------------------------------- value parsers used by column specs


def text(value: str) -> str | None:
    value = str(value).strip()
    return value or None


def number(value: str) -> float | None:
    value = str(value).strip().replace("，", ",").replace(",", "")
    if not value:
        return None
    return float(value)


def date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    value = str(value).strip()
    if not value:
        return None
    value = re.sub(r"[年月/.]", "-", value).replace("日", "").strip("-")
    return dt.date.fromisoformat("-".join(p.zfill(2) for p in value.split("-")))


def _normalise(header: str) -> str:
    return re.sub(r"[\s_\-（）()：:*]", "", str(header or "")).lower()


def _match_headers(source, raw_headers, columns, table) -> dict[str, int]:
    """Map each column to its position in the file; a missing required column rejects the file."""
    positions = {_normalise(h): i for i, h in enumerate(raw_headers) if h}
    index: dict[str, int] = {}
    missing = []
    for col in columns:
        for alias in (col.name, *col.aliases):
            pos = positions.get(_normalise(alias))
            if pos is not None:
                index[col.name] = pos
                table.headers[col.name] = str(raw_headers[pos])
                break
        else:
            if col.required:
                missing.append(f"{col.name} ({'/'.join(col.aliases[:3])})")
    if missing:
        found = ", ".join(str(h) for h in raw_headers if h)
        raise ImportRejected(source, [f"missing column {m}; the file has: {found}" for m in missing])
    return index


def _parse_row(table: Table, row_no: int, raw: list, index: dict[str, int], columns: list[Column]) -> dict:
    out: dict[str, Any] = {"_row": row_no}
    for col in columns:
        pos = index.get(col.name)
        value = raw[pos] if pos is not None and pos < len(raw) else ""
        value = "" if value is None else value
        try:
            parsed = col.parse(value)
        except (ValueError, TypeError):
            table.problem(row_no, col.name, f"cannot read {str(value)[:40]!r}")
            continue
        if col.required and (parsed is None or parsed == ""):
            table.problem(row_no, col.name, "empty")
        out[col.name] = parsed
    return out


def _read_raw(path: Path) -> tuple[list[str], list[list]]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if suffix in (".csv", ".txt", ".tsv"):
        return _read_csv(path)
    raise UserError(f"{path.name}: unsupported file type {suffix or '(none)'}; use .csv or .xlsx")


def _read_csv(path: Path) -> tuple[list[str], list[list]]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            content = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UserError(f"{path.name}: not UTF-8 or GBK text")
    dialect = csv.excel_tab if path.suffix.lower() == ".tsv" else csv.excel
    rows = list(csv.reader(io.StringIO(content), dialect))
    if not rows:
        raise UserError(f"{path.name}: the file is empty")
    return rows[0], rows[1:]


def _read_xlsx(path: Path) -> tuple[list[str], list[list]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise UserError(f"{path.name}: not a readable .xlsx workbook ({exc.__class__.__name__})") from None
    rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    wb.close()
    if not rows:
        raise UserError(f"{path.name}: the first sheet is empty")
    headers = [str(h).strip() if h is not None else "" for h in rows[0]]
    return headers, [[_cell(v) for v in r] for r in rows[1:]]


def _cell(value: Any) -> Any:
    """Excel gives floats for integer-looking codes (a licence 320508000001.0); keep them as text."""
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1e6:
        return str(int(value))
    if isinstance(value, (dt.date, dt.datetime)):
        return value
    return "" if value is None else str(value)
