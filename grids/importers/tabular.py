"""Read CSV and Excel registers the way users really have them: UTF-8 or GBK, English or Chinese
headers, numbers stored as text, dates as Excel dates or strings. Rows are checked against a column
spec and every problem is reported by row number (as the spreadsheet shows it) and column name.

Files are streamed: `TableFile.chunks()` yields a few thousand parsed rows at a time and can be
called again to read the file from its start, so an importer checks the whole file in one pass and
writes it in a second without ever holding it (a 584,000-row register is 3 GB as Python objects).
Anything wrong with the file itself (not text, a damaged workbook, mixed encodings) is a UserError
naming the file and, where there is one, the line; problems in rows are collected, not raised, so a
user sees all of them at once."""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import math
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from core.errors import ImportRejected, UserError

CHUNK_ROWS = 5000  # rows parsed and written at a time: memory is a few MB per chunk, whatever the file's size
MAX_PROBLEMS_KEPT = 1000  # a file that is wrong on every row is counted to the end but not kept whole
HEADER_SEARCH_ROWS = 10  # a title row or two above the header (常见于导出的台账) is skipped
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")  # .xls, and any Office file saved with a password
_DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


@dataclass(frozen=True)
class Column:
    name: str  # field name in our model
    aliases: tuple[str, ...]  # headers accepted in files (Chinese and English), compared loosely
    parse: Callable[[str], Any] = str
    required: bool = False
    max_len: int | None = None  # the database column's length: PostgreSQL refuses longer text mid-import


@dataclass
class Problems:
    """Row problems in the order found: the first MAX_PROBLEMS_KEPT kept, all of them counted."""

    source: str
    kept: list[str] = field(default_factory=list)
    total: int = 0

    def add(self, message: str) -> None:
        self.total += 1
        if len(self.kept) < MAX_PROBLEMS_KEPT:
            self.kept.append(message)

    def __bool__(self) -> bool:
        return self.total > 0

    def raise_if_any(self) -> None:
        if self.total:
            raise Rejected(self.source, self.kept, self.total)


class Rejected(ImportRejected):
    """ImportRejected whose count includes the problems not kept."""

    def __init__(self, source: str, problems: list[str], total: int):
        super().__init__(source, problems)
        self.total = total
        if total > len(problems):
            shown = "; ".join(problems[:5])
            self.args = (
                f"{source}: import rejected, nothing was written ({total} problem(s)): {shown}; … and {total - 5} more",
            )


class TableFile:
    """An open register: headers matched on opening, rows streamed by `chunks()`.

    Use as a context manager; the file stays open between passes, so a second pass reads the same
    file even if an editor saves a new one under the same name meanwhile."""

    def __init__(self, path: str | Path, columns: list[Column], chunk_rows: int = CHUNK_ROWS):
        self.path = Path(path)
        self.source = self.path.name
        self.columns = columns
        self.chunk_rows = chunk_rows
        self.headers: dict[str, str] = {}  # Column.name -> header as written in the file
        self.problems = Problems(self.source)
        self._index: dict[str, int] = {}
        self._width = 0
        self._header_row = 1
        self._encoding: str | None = None
        self._handle: IO[bytes] | None = None
        self._kind = _kind(self.path)

    def __enter__(self) -> TableFile:
        if not self.path.exists():
            raise UserError(f"file not found: {self.path}")
        if self.path.is_dir():
            raise UserError(f"{self.path}: is a folder, not a file")
        self._handle = self.path.open("rb")
        try:
            self._check_magic()
            self._read_header()
        except BaseException:
            self._handle.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self._handle is not None:
            self._handle.close()

    @property
    def columns_present(self) -> set[str]:
        return set(self._index)

    def problem(self, row: int, column: str, message: str) -> None:
        header = self.headers.get(column, column)
        self.problems.add(f"row {row}, column {header}: {message}")

    def raise_if_problems(self) -> None:
        self.problems.raise_if_any()

    def chunks(self) -> Iterator[list[dict[str, Any]]]:
        """Parsed rows, CHUNK_ROWS at a time, from the first row after the header. Each row is a dict
        by Column.name plus "_row" (the spreadsheet's row number). Blank rows are skipped."""
        chunk: list[dict[str, Any]] = []
        data_rows = 0
        for row_no, raw in self._raw_rows():
            if row_no <= self._header_row or not any(str(v).strip() for v in raw if v is not None):
                continue
            data_rows += 1
            chunk.append(self._parse_row(row_no, raw))
            if len(chunk) >= self.chunk_rows:
                yield chunk
                chunk = []
        if chunk:
            yield chunk
        if not data_rows:
            raise UserError(f"{self.source}: no data rows under the header (row {self._header_row})")

    # ------------------------------------------------------------ opening

    def _check_magic(self) -> None:
        head = self._handle.read(8)
        self._handle.seek(0)
        if not head:
            raise UserError(f"{self.source}: the file is empty")
        if self._kind == "xlsx":
            if head.startswith(_OLE_MAGIC):
                raise UserError(
                    f"{self.source}: a password-protected workbook or an old .xls file; "
                    "save it in Excel as .xlsx without a password"
                )
            if not head.startswith(_ZIP_MAGIC):
                raise UserError(f"{self.source}: not an .xlsx workbook (is it CSV text renamed to .xlsx?)")
        elif head.startswith(_ZIP_MAGIC):
            raise UserError(f"{self.source}: an .xlsx workbook or zip archive, not CSV text; name it .xlsx")
        elif head.startswith(_OLE_MAGIC):
            raise UserError(f"{self.source}: an Excel .xls workbook, not CSV text; save it as .xlsx or CSV UTF-8")

    def _read_header(self) -> None:
        with contextlib.closing(self._raw_rows()) as rows:
            first = self._find_header(rows)
        if first is None:
            raise UserError(f"{self.source}: the file has no header row (it is blank)")
        self._header_row, raw = first
        headers = ["" if h is None else str(h).strip() for h in raw]
        missing = self._missing(headers)
        if missing and self._kind == "csv" and (separator := _other_separator(headers)):
            raise UserError(
                f"{self.source}: the header is separated by {separator}, not commas; save the file as CSV "
                "(comma-separated) or .xlsx"
            )
        if missing:
            found = ", ".join(h for h in headers if h)
            raise ImportRejected(self.source, [f"missing column {m}; the file has: {found}" for m in missing])
        self._width = max((i + 1 for i, h in enumerate(headers) if h), default=0)
        self._match(headers)

    def _find_header(self, rows: Iterator[tuple[int, list]]) -> tuple[int, list] | None:
        """The first of the first rows that has every required column, else the first non-blank row."""
        first = None
        for row_no, raw in rows:
            if row_no > HEADER_SEARCH_ROWS:
                break
            if not any(str(v).strip() for v in raw if v is not None):
                continue
            if not self._missing(raw):
                return row_no, raw
            first = first or (row_no, raw)
        return first

    def _missing(self, headers: list) -> list[str]:
        names = {_normalise(h) for h in headers if h is not None}
        return [
            f"{c.name} ({'/'.join(c.aliases[:3])})"
            for c in self.columns
            if c.required and not any(_normalise(a) in names for a in (c.name, *c.aliases))
        ]

    def _match(self, headers: list[str]) -> None:
        """Map each column to its position; two file columns that both name one field are refused
        rather than one of them silently ignored."""
        for col in self.columns:
            aliases = {_normalise(a) for a in (col.name, *col.aliases)}
            found = [i for i, h in enumerate(headers) if h and _normalise(h) in aliases]
            if len(found) > 1:
                names = " and ".join(f"{headers[i]!r} (column {i + 1})" for i in found)
                raise UserError(f"{self.source}: {names} both give {col.name}; keep one of them")
            if found:
                self._index[col.name] = found[0]
                self.headers[col.name] = headers[found[0]]

    # ------------------------------------------------------------ rows

    def _raw_rows(self) -> Iterator[tuple[int, list]]:
        self._handle.seek(0)
        if self._kind == "xlsx":
            yield from enumerate(_xlsx_rows(self._handle, self.source), start=1)
        else:
            yield from self._csv_rows()

    def _csv_rows(self) -> Iterator[tuple[int, list]]:
        dialect = csv.excel_tab if self.path.suffix.lower() == ".tsv" else csv.excel
        reader = csv.reader(self._decoded_lines(), dialect)
        row_no = 0
        while True:
            try:
                raw = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise UserError(
                    f"{self.source}: line {reader.line_num}: {exc} (an unclosed quote, or not a CSV file?)"
                ) from None
            row_no += 1
            yield row_no, raw

    def _decoded_lines(self) -> Iterator[str]:
        """Lines decoded one by one in the file's encoding, UTF-8 or GBK (GB18030), decided at the first
        line that is not ASCII. A later line in the other encoding is a file pasted together from two
        sources; decoding it anyway would store mojibake, so it is refused with its line number.
        Splitting bytes at newlines is safe in both: no multi-byte character contains the byte 0x0A."""
        for line_no, line in enumerate(self._handle, start=1):
            if line_no == 1:
                if line.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                    raise UserError(f"{self.source}: UTF-16 text; save it as CSV UTF-8 (or .xlsx)")
                if line.startswith(codecs.BOM_UTF8):
                    line = line[len(codecs.BOM_UTF8) :]
                    self._encoding = self._encoding or "utf-8"
            if b"\x00" in line:  # the csv module reads NUL as a character; no register has one
                raise UserError(
                    f"{self.source}: line {line_no} holds NUL bytes: a binary file, or UTF-16 text without its BOM"
                )
            if line.isascii():
                yield line.decode("ascii")
                continue
            if self._encoding is None:
                self._encoding = _guess_encoding(line)
                if self._encoding is None:
                    raise UserError(f"{self.source}: line {line_no} is neither UTF-8 nor GBK text")
            try:
                if self._encoding != "utf-8" and _guess_encoding(line) == "utf-8":
                    # GB18030 decodes most UTF-8 bytes too, as mojibake; Chinese GBK text is almost
                    # never valid UTF-8, so a line that is must be UTF-8 pasted into a GBK file.
                    raise UnicodeDecodeError(self._encoding, line, 0, len(line), "a UTF-8 line")
                yield line.decode(self._encoding)
            except UnicodeDecodeError:
                name = "UTF-8" if self._encoding == "utf-8" else "GBK"
                raise UserError(
                    f"{self.source}: line {line_no} is not {name} like the lines before it; the file mixes "
                    "text encodings: save it again as CSV UTF-8"
                ) from None

    def _parse_row(self, row_no: int, raw: list) -> dict[str, Any]:
        out: dict[str, Any] = {"_row": row_no}
        extra = [i for i in range(self._width, len(raw)) if raw[i] is not None and str(raw[i]).strip()]
        if extra:
            self.problems.add(
                f"row {row_no}: {len(raw)} values but the header has {self._width} columns "
                f"(a comma inside an address without quotes?)"
            )
        for col in self.columns:
            pos = self._index.get(col.name)
            value = raw[pos] if pos is not None and pos < len(raw) else ""
            value = "" if value is None else value
            try:
                parsed = col.parse(value)
            except (ValueError, TypeError, OverflowError):
                self.problem(row_no, col.name, f"cannot read {str(value)[:40]!r}")
                continue
            if col.required and (parsed is None or parsed == ""):
                self.problem(row_no, col.name, "empty")
            elif col.max_len and isinstance(parsed, str) and len(parsed) > col.max_len:
                self.problem(row_no, col.name, f"longer than {col.max_len} characters ({len(parsed)})")
            out[col.name] = parsed
        return out


# ---------------------------------------------------------------- value parsers used by column specs


def text(value: str) -> str | None:
    value = str(value).strip()
    return value or None


def number(value: str) -> float | None:
    """A finite number; "nan", "inf" and 1e400 (which float() accepts) are not values anyone meant."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        result = float(value)
    else:
        value = str(value).strip().replace("，", ",").replace(",", "")
        if not value:
            return None
        result = float(value)
    if not math.isfinite(result):
        raise ValueError(value)
    return result


def date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    value = str(value).strip()
    if not value:
        return None
    value = re.split(r"[\sT]", value, maxsplit=1)[0]  # "2026-01-05 09:30:00": the day is what is kept
    value = re.sub(r"[年月/.]", "-", value).replace("日", "").strip("-")
    return dt.date.fromisoformat("-".join(p.zfill(2) for p in value.split("-")))


def _normalise(header: str) -> str:
    return re.sub(r"[\s_\-（）()：:*\ufeff]", "", str(header or "")).lower()


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    if suffix == ".xls":
        raise UserError(f"{path.name}: old .xls workbooks are not read; save it as .xlsx or CSV UTF-8")
    raise UserError(f"{path.name}: unsupported file type {suffix or '(none)'}; use .csv or .xlsx")


def _guess_encoding(line: bytes) -> str | None:
    for encoding in ("utf-8", "gb18030"):
        try:
            line.decode(encoding)
            return encoding
        except UnicodeDecodeError:
            continue
    return None


def _other_separator(headers: list[str]) -> str | None:
    """The name of the separator a header read as one column is split by (a semicolon CSV from a
    European-locale Excel, a tab-separated export named .csv), or None."""
    if len([h for h in headers if h]) != 1:
        return None
    for sep, name in _DELIMITERS.items():
        if headers[0].count(sep) >= 1:
            return name
    return None


def _xlsx_rows(handle: IO[bytes], source: str) -> Iterator[list]:
    """The first sheet's rows, streamed (openpyxl's read-only mode holds no rows in memory).

    Whatever openpyxl raises while it reads is a damaged file (a truncated or CRC-broken zip, broken
    XML, an XML bomb that defusedxml refuses, a missing part), so every exception here becomes one
    line naming the file; the block holds nothing but openpyxl's reading."""
    from openpyxl import load_workbook

    row_no = 0
    workbook = None
    try:
        with warnings.catch_warnings():
            # "no default style", "data validation extension not supported": formatting we never read.
            warnings.simplefilter("ignore", UserWarning)
            workbook = load_workbook(handle, read_only=True, data_only=True)
            if not workbook.worksheets:
                raise UserError(f"{source}: the workbook has no worksheets")
            sheet = workbook.worksheets[0]
            for row in sheet.iter_rows(values_only=True):
                row_no += 1
                yield [_cell(v) for v in row]
        if row_no == 0:
            others = [ws.title for ws in workbook.worksheets[1:]]
            more = f" (the workbook's other sheets: {', '.join(others)})" if others else ""
            raise UserError(f"{source}: the first sheet ({sheet.title}) is empty{more}")
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 (see the docstring)
        where = f" after row {row_no}" if row_no else ""
        detail = str(exc).splitlines()[0][:100] if str(exc) else ""
        raise UserError(
            f"{source}: a damaged .xlsx workbook{where} ({type(exc).__name__}{': ' + detail if detail else ''}); "
            "open it in Excel and save it again"
        ) from None
    finally:
        if workbook is not None:
            workbook.close()


def _cell(value: Any) -> Any:
    """Excel gives floats for integer-looking codes (a licence 320508000001.0); keep them as text."""
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1e6:
        return str(int(value))
    if isinstance(value, (dt.date, dt.datetime)):
        return value
    return "" if value is None else str(value)
