"""Finding 2 of #12: crawled text that starts like a formula must never become a live formula in an
export. Every CSV and Excel export the product writes is opened here the way a spreadsheet reader
would read it (openpyxl for .xlsx, the csv module for CSV) and no cell may be a formula or start
like one; numbers stay numbers and a +86 phone number stays readable."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from core import db
from core.cells import FORMULA_TRIGGERS, csv_text, safe_cell, xlsx_bytes
from search import outbox
from tests.helpers import make_draw, make_grid, make_hit, make_inspector, make_user, make_venue
from tests.webmap.conftest import PASSWORD, login
from webmap import create_app

PAYLOADS = [
    '=HYPERLINK("http://x","y")',
    "=1+1",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "＝1+1",
    "＋1+1",
    "－1+1",
    "＠SUM(A1)",
    " =1+1",  # a leading blank before the trigger
    "\u3000=1+1",  # an ideographic space
]
PHONE = "+86 138 0013 8000"
LEADS = tuple(FORMULA_TRIGGERS)


def _dangerous(text: str) -> bool:
    """Would a spreadsheet treat this text cell as a formula (or an error value)?"""
    stripped = text.lstrip(" \u00a0\u3000\n")
    return stripped.startswith(LEADS) or text.startswith(("\t", "\r"))


def _check_csv(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8-sig")
    # QUOTE_NONNUMERIC: every unquoted cell must be a number (the reader fails on anything else).
    rows = list(csv.reader(io.StringIO(text), quoting=csv.QUOTE_NONNUMERIC))
    for row in rows:
        for cell in row:
            assert isinstance(cell, float) or not _dangerous(cell), f"CSV cell {cell!r} starts like a formula"
    # Every text cell is quoted, so a separator inside it cannot start a new cell for a reader that
    # splits on another character (a semicolon locale).
    for payload in ("=1+1", "@SUM(A1)"):
        assert f'"{payload}' not in text and f",{payload}" not in text and f"\n{payload}" not in text
    return rows


def _check_xlsx(data: bytes) -> list[list]:
    wb = load_workbook(io.BytesIO(data))
    rows = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"formula cell {cell.coordinate}: {cell.value!r}"
                assert cell.data_type != "e", f"error cell {cell.coordinate}: {cell.value!r}"
                if isinstance(cell.value, str):
                    assert not _dangerous(cell.value), f"cell {cell.coordinate} {cell.value!r} starts like a formula"
            rows.append([c.value for c in row])
    return rows


# ---------------------------------------------------------------- the helper itself


@pytest.mark.parametrize("payload", PAYLOADS)
def test_text_starting_like_a_formula_gets_a_quote(payload):
    out = safe_cell(payload)
    assert out.startswith("'") and out[1:] == payload


@pytest.mark.parametrize("value", [0, 7, -2, -2.5, 120.61, 1e-9, True, dt.date(2026, 1, 2)])
def test_numbers_and_dates_stay_as_they_are(value):
    assert safe_cell(value) == value


def test_ordinary_text_and_none():
    assert safe_cell("平江路低价一日游") == "平江路低价一日游"
    assert safe_cell("a=b-c") == "a=b-c"
    assert safe_cell(None) == ""
    assert safe_cell(PHONE) == "'" + PHONE  # readable, and never a formula or the number 8.6E+12


def test_helper_writers_round_trip():
    header = ["编号", "标题", "评分", "日期"]
    rows = [[n, p, -2.5, dt.date(2026, 1, 2)] for n, p in enumerate(PAYLOADS + [PHONE], 1)]
    csv_rows = _check_csv(csv_text([header, *rows]).encode("utf-8"))
    assert [r[1] for r in csv_rows[1:]] == ["'" + p for p in PAYLOADS + [PHONE]]
    assert csv_rows[1][0] == 1 and csv_rows[1][2] == -2.5 and csv_rows[1][3] == "2026-01-02"
    xrows = _check_xlsx(xlsx_bytes("数据", [header, *rows]))
    assert [r[1] for r in xrows[1:]] == ["'" + p for p in PAYLOADS + [PHONE]]
    assert xrows[1][0] == 1 and xrows[1][2] == -2.5 and xrows[1][3] == dt.datetime(2026, 1, 2)


def test_xlsx_control_characters_and_error_codes_stay_text():
    rows = _check_xlsx(xlsx_bytes("数据", [["标题"], ["a\x01b\x0bc"], ["=\x02"], ["#REF!"], ["#周末游#"]]))
    assert [r[0] for r in rows[1:]] == ["a\ufffdb\ufffdc", "'=\ufffd", "#REF!", "#周末游#"]


# ---------------------------------------------------------------- every export of the web app


@pytest.fixture
def client(cfg):
    return create_app({"TESTING": True}, config=cfg).test_client()


@pytest.fixture
def hostile_world(cfg):
    box = (120.60, 31.30, 120.62, 31.32)
    with db.session_scope(cfg) as s:
        street = make_grid(s, code="320508001", name="平江街道", level="street", bounds=box)
        grid = make_grid(s, code="320508001001", name="平江一网格", parent=street, bounds=box)
        venues = []
        for n, payload in enumerate(PAYLOADS):
            kw = {"name": payload, "address": payload, "licence_no": f"{payload}{n}"}
            venues.append(make_venue(s, grid=grid, lon=120.61, lat=31.31, **kw))
            make_hit(
                s,
                grid,
                None,
                payload,
                120.611,
                31.311,
                text=f"{payload} 旅游团报名",
                account=payload,
                location_name=payload,
            )
        make_hit(s, grid, None, "旅游团报名热线", 120.611, 31.311, text="旅游团报名", account=PHONE)
        inspector = make_inspector(s, name="=1+1")
        make_draw(s, venues, inspectors=(inspector, make_inspector(s, name="@SUM(A1)")), published=True)
        make_user(s, "admin", role="admin", password=PASSWORD)
    outbox.drain(cfg)


@pytest.mark.parametrize(
    "url",
    [
        "/export/hits.csv",
        "/export/hits.xlsx",
        "/export/venues.csv",
        "/export/venues.xlsx",
        "/search/export.csv?q=旅游团",
        "/search/export.xlsx?q=旅游团",
        "/draws/1.csv",  # /public/draws/1.csv writes the same file (grids.draws.public_csv)
    ],
)
def test_no_export_holds_a_formula(client, hostile_world, url):
    login(client, "admin")
    r = client.get(url)
    assert r.status_code == 200, url
    rows = _check_xlsx(r.data) if ".xlsx" in url else _check_csv(r.data)
    cells = [c for row in rows[1:] for c in row]
    assert len(rows) > len(PAYLOADS)  # the hostile rows are there, neutralised, not dropped
    assert "'=1+1" in cells
    if "hits" in url or "search" in url:
        assert "'" + PHONE in cells
        ids = [row[0] for row in rows[1:]]
        assert all(isinstance(i, int) for i in ids) if ".xlsx" in url else all(float(i).is_integer() for i in ids)
