"""Spreadsheet cells that cannot run: every CSV and Excel file the product writes goes through here.

Crawled text is written by the people we investigate. A title such as `=HYPERLINK("http://x","y")`
or `+cmd|' /C calc'!A0` becomes a live formula when a CSV is opened in Excel or WPS, or when openpyxl
writes it (openpyxl turns every string starting with "=" into a formula cell). Following OWASP's
CSV-injection guidance, a *text* cell whose first character is one of `= + - @`, a tab, a carriage
return or NUL gets a single quote in front (`'=1+1`), and so does one where those characters follow
leading blanks (a spreadsheet may trim them), their full-width forms `＝ ＋ － ＠` (WPS and an
Excel with a Chinese input method may read them as the ASCII ones). Numbers, dates and booleans are
written as typed values and never quoted. `#` is not a trigger: `#REF!` in a CSV shows as an error
value but runs nothing, and Weibo-style topics (`#周末游#`) are common titles.

The quote is visible in the cell: a phone number reads `'+86 138 0013 8000`. That is the point: a
bare `+86 138 0013 8000` is a formula to Excel (and `+8613800138000` the number 8.6E+12), and
the quote keeps the same text readable and inert, also after the file is saved again as CSV (a
quote-prefix *style* would be lost there). CSV text cells are all quoted (QUOTE_NONNUMERIC), so a
separator inside crawled text cannot start a new cell for a reader that splits on `;` or a tab.
In .xlsx every text cell is written as a string (never a formula or error cell), with control
characters Excel cannot store replaced by U+FFFD instead of failing the export.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

# First characters that make a spreadsheet read a text cell as a formula (or an error value).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0", "＝", "＋", "－", "＠")
# Leading characters a spreadsheet may skip before it looks for a trigger.
_BLANKS = " \u00a0\u3000\n\f\v"
# Characters an .xlsx cell cannot hold (openpyxl refuses them): C0 controls but tab, LF and CR.
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_TYPED = (bool, int, float, decimal.Decimal, dt.date, dt.datetime, dt.time)


def safe_text(text: str) -> str:
    """`text`, with a single quote in front when a spreadsheet would read it as a formula."""
    if text.startswith(FORMULA_TRIGGERS) or text.lstrip(_BLANKS).startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def safe_cell(value: Any) -> Any:
    """A value ready for a CSV or Excel cell: numbers, dates and booleans as they are, None as an
    empty cell, anything else as neutralised text."""
    if value is None:
        return ""
    if isinstance(value, _TYPED):
        return value
    return safe_text(value if isinstance(value, str) else str(value))


def csv_text(rows: Iterable[Sequence[Any]], bom: bool = False) -> str:
    """CSV text of `rows` (the first is usually the header), every cell through safe_cell; text
    cells quoted, numbers bare. `bom` puts the UTF-8 byte order mark first, so Excel reads Chinese."""
    buf = io.StringIO()
    if bom:
        buf.write("\ufeff")
    writer = csv.writer(buf, quoting=csv.QUOTE_NONNUMERIC)
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
    return buf.getvalue()


def _csv_value(value: Any) -> Any:
    value = safe_cell(value)
    if isinstance(value, bool) or isinstance(value, (dt.date, dt.time)):
        return str(value)  # quoted text: CSV has no types, and True must not become the number 1
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def xlsx_bytes(sheet_title: str, rows: Iterable[Sequence[Any]]) -> bytes:
    """An .xlsx workbook of one sheet holding `rows`, every cell through safe_cell and every text
    cell a plain string (openpyxl would make "=…" a formula and "#REF!" an error)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_title)
    for row in rows:
        cells = []
        for value in row:
            value = safe_cell(value)
            if isinstance(value, dt.datetime) and value.tzinfo is not None:
                value = value.isoformat()  # Excel has no time zones; keep the offset as text
            if isinstance(value, str):
                value = _XLSX_ILLEGAL.sub("\ufffd", value)
                cell = WriteOnlyCell(ws, value=None)
                cell.value = value
                if value:
                    cell.data_type = "s"  # never "f" (formula) nor "e" (error value)
            else:
                cell = WriteOnlyCell(ws, value=value)
            cells.append(cell)
        ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
