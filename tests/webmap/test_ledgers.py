"""台账 (#15): the venue ledger and the inspection ledger — search, filters, sorting, pages with totals,
exports, zone confinement — and inspections whose subject is a named party instead of a venue."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import threading
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import select

from core import db
from core.models import AuditLog, Clue, Grid, Inspection
from tests.helpers import make_clue, make_hit, make_inspection, make_venue
from tests.webmap.conftest import PASSWORD, csrf_from, login

TODAY = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


@pytest.fixture
def ledger_world(cfg, users_world):
    """users_world plus, in the own grid, 41 more venues (one with a formula-like name, expired,
    expiring and undated licences, an ungraded one) and inspections of venues and of a named party."""
    w = users_world
    with db.session_scope(cfg) as s:
        own, other = s.get(Grid, w.grid_own), s.get(Grid, w.grid_other)
        for n in range(38):
            make_venue(s, grid=own, name=f"批量场所{n:02d}", category="游艺", risk_grade="B", risk_score=40.0 + n)
        make_venue(
            s,
            grid=own,
            name='=HYPERLINK("http://x","点我")',
            licence_no="L-JS-CJ00777",
            licence_expiry=TODAY - dt.timedelta(days=3),
            address="姑苏区干将路9号",
            risk_grade="C",
        )
        make_venue(
            s,
            grid=own,
            name="将到期书店",
            category="书店与出版物零售",
            licence_expiry=TODAY + dt.timedelta(days=10),
            risk_grade="A",
        )
        make_venue(s, grid=own, name="无期限泳池", category="泳池", licence_expiry=None, risk_grade=None)
        make_venue(s, grid=other, name="他区过期网吧", licence_expiry=TODAY - dt.timedelta(days=1))
        make_inspection(s, w.venue_own, dt.date(2026, 5, 2), result="立案查处", inspectors="赵执法", penalty_yuan=5000)
        make_inspection(
            s,
            None,
            dt.date(2026, 5, 3),
            result="责令整改",
            inspectors="钱执法",
            grid_id=w.grid_own,
            party_name="某某旅游工作室",
            party_account="微信：zzly2026",
        )
        make_inspection(
            s,
            None,
            dt.date(2026, 5, 4),
            result="立案查处",
            inspectors="孙执法",
            grid_id=w.grid_other,
            party_name="他区网店",
        )
    return w


def _rows(html: str) -> list[str]:
    """The ledger table's rows as text, tags removed."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", "<tr" + r)).strip() for r in body.split("<tr")[1:]]


def _total(html: str) -> int:
    return int(re.search(r'id="ledger-total">共 <b>(\d+)</b>', html).group(1))


def _as(client, user):
    assert login(client, user).status_code == 302
    return client


# ---------------------------------------------------------------- venue ledger


def test_venue_ledger_searches_filters_sorts_and_pages_within_the_zone(client, ledger_world):
    w = ledger_world
    _as(client, "gm_own")
    page = client.get("/ledgers/venues")
    assert page.status_code == 200 and _total(page.text) == 42  # 1 + 38 + 3, never the other zone's
    assert "他区过期网吧" not in page.text and "沧浪书店" not in page.text
    assert 'href="/ledgers/venues"' in page.text  # the 台账 entry of the navigation

    # Search by name, address and licence number (any spelling of it).
    assert _rows(client.get("/ledgers/venues?q=将到期").text)[0].startswith("将到期书店")
    assert _total(client.get("/ledgers/venues?q=干将路9号").text) == 1
    assert _total(client.get("/ledgers/venues?q=l－js－cj 00777").text) == 1
    assert _total(client.get("/ledgers/venues?q=100%").text) == 0  # LIKE wildcards are text

    # Filters: category, grade (and 未评级), grid, licence expiry.
    assert _total(client.get("/ledgers/venues?category=游艺").text) == 38
    assert _total(client.get("/ledgers/venues?grade=D").text) == 1
    assert [r.split()[0] for r in _rows(client.get("/ledgers/venues?grade=none").text)] == ["无期限泳池"]
    assert _total(client.get(f"/ledgers/venues?grid={w.grid_own}").text) == 42
    assert _total(client.get(f"/ledgers/venues?grid={w.street_own}").text) == 42
    expired = client.get("/ledgers/venues?expiry=expired").text
    assert _total(expired) == 1 and "已过期" in _rows(expired)[0]
    assert _total(client.get("/ledgers/venues?expiry=expiring&days=30").text) == 1
    assert _total(client.get("/ledgers/venues?expiry=expiring&days=5").text) == 0
    assert _total(client.get("/ledgers/venues?expiry=none").text) == 1

    # Sort and page: 42 rows, 20 a page → 3 pages, the last holds 2; every row links to its 一户一档.
    first = client.get("/ledgers/venues?sort=score&order=desc&per_page=20").text
    assert '第 <b id="ledger-page">1</b> / 3 页' in first
    assert _rows(first)[0].startswith("平江网吧")  # score 80, the highest
    assert _rows(first)[1].startswith("批量场所37")
    last = client.get("/ledgers/venues?sort=score&order=desc&per_page=20&page=3").text
    assert len(_rows(last)) == 2
    assert _rows(client.get("/ledgers/venues?sort=score&order=desc&per_page=20&page=99").text) == _rows(last)
    by_name = _rows(client.get("/ledgers/venues?category=游艺&sort=name&per_page=20&page=2").text)
    assert by_name[0].startswith("批量场所20") and by_name[-1].startswith("批量场所37")
    assert f'href="/venues/{w.venue_own}"' in first
    assert client.get(f"/venues/{w.venue_own}").status_code == 200


def test_venue_ledger_refuses_another_zone_and_bad_filters(client, cfg, ledger_world):
    w = ledger_world
    _as(client, "gm_own")
    assert client.get(f"/ledgers/venues?grid={w.grid_other}").status_code == 403
    assert client.get(f"/ledgers/venues.csv?grid={w.street_other}").status_code == 403
    with db.session_scope(cfg) as s:
        denied = s.scalars(select(AuditLog).where(AuditLog.action == "denied", AuditLog.object_type == "grid")).all()
        assert {d.object_id for d in denied} == {str(w.grid_other), str(w.street_other)}
    for query, words in (
        ("category=赌场", "不认识的类别：赌场"),
        ("grade=E", "不认识的风险等级"),
        ("sort=password", "不能按"),
        ("per_page=7", "每页条数"),
        ("page=0", "页码"),
        ("expiry=soon", "有效期筛选"),
        ("days=-1", "到期天数"),
        ("order=sideways", "排序方向"),
        ("grid=abc", "网格必须是编号"),
    ):
        r = client.get(f"/ledgers/venues?{query}")
        assert r.status_code == 400 and words in r.text, query
        assert "Traceback" not in r.text
    _as(client, "admin")
    assert _total(client.get("/ledgers/venues").text) == 44  # admin: the whole district


def test_venue_ledger_exports_what_it_shows_with_inert_cells(client, cfg, ledger_world):
    _as(client, "gm_own")
    r = client.get("/ledgers/venues.csv?expiry=expired")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "名称", "类别"] and len(rows) == 2
    assert rows[1][1] == '\'=HYPERLINK("http://x","点我")'  # a formula stays text
    r = client.get("/ledgers/venues.xlsx?category=游艺")
    sheet = openpyxl.load_workbook(io.BytesIO(r.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 39 and all(v[2] == "游艺" for v in values[1:])
    assert not any(isinstance(c, str) and c.startswith("=") for row in values for c in row)
    everything = list(csv.reader(io.StringIO(client.get("/ledgers/venues.csv").data.decode("utf-8-sig"))))
    assert len(everything) == 43 and "他区过期网吧" not in {row[1] for row in everything}
    with db.session_scope(cfg) as s:
        exports = s.scalars(select(AuditLog).where(AuditLog.action == "export", AuditLog.object_type == "venues")).all()
        assert [e.detail["count"] for e in exports] == [1, 38, 42]


# ---------------------------------------------------------------- inspection ledger


def test_inspection_ledger_filters_by_inspector_result_date_and_subject(client, ledger_world):
    _as(client, "gm_own")
    html = client.get("/ledgers/inspections").text
    # Own zone: the fixture's venue inspection, the 立案 one and the named party; never the other zone's.
    assert _total(html) == 3 and "他区网店" not in html and "沧浪书店" not in html
    rows = _rows(html)
    assert rows[0].startswith("2026-05-03 某某旅游工作室")  # newest first
    assert "无登记场所的当事人，微信：zzly2026" in rows[0]
    assert _total(client.get("/ledgers/inspections?inspector=赵执法").text) == 1
    assert _total(client.get("/ledgers/inspections?result=立案查处").text) == 1
    assert _total(client.get("/ledgers/inspections?result=责令整改,立案查处").text) == 3
    assert _total(client.get("/ledgers/inspections?date_from=2026-05-02&date_to=2026-05-02").text) == 1
    assert _total(client.get("/ledgers/inspections?subject=party").text) == 1
    assert _total(client.get("/ledgers/inspections?subject=venue").text) == 2
    assert _total(client.get("/ledgers/inspections?q=zzly2026").text) == 1
    oldest = _rows(client.get("/ledgers/inspections?sort=date&order=asc").text)
    assert oldest[0].startswith("2026-03-01 平江网吧")
    for query in ("date_from=2026-13-01", "result=合格", "subject=robot", "date_from=2026-06-01&date_to=2026-05-01"):
        r = client.get(f"/ledgers/inspections?{query}")
        assert r.status_code == 400 and "Traceback" not in r.text, query
    assert client.get(f"/ledgers/inspections?grid={ledger_world.grid_other}").status_code == 403
    _as(client, "admin")
    assert _total(client.get("/ledgers/inspections").text) == 5


def test_inspection_ledger_export(client, ledger_world):
    _as(client, "gm_own")
    r = client.get("/ledgers/inspections.csv?subject=party")
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["编号", "检查日期", "检查对象类型", "场所/当事人"]
    assert [row[3:5] for row in rows[1:]] == [["某某旅游工作室", "微信：zzly2026"]]
    r = client.get("/ledgers/inspections.xlsx")
    values = list(openpyxl.load_workbook(io.BytesIO(r.data)).active.iter_rows(values_only=True))
    assert len(values) == 4 and "他区网店" not in {v[3] for v in values}


# ---------------------------------------------------------------- named parties through the forms


def test_clue_without_a_venue_is_inspected_as_a_named_party_and_filed_as_a_case(client, cfg, ledger_world):
    w = ledger_world
    with db.session_scope(cfg) as s:
        hit = make_hit(s, s.get(Grid, w.grid_own), None, "低价港澳游，无需资质", 120.612, 31.312)
        clue_id = make_clue(s, hit).id
    _as(client, "gm_own")
    page = client.get(f"/clues/{clue_id}")
    assert 'name="subject" value="party"' in page.text and 'name="party_account"' in page.text
    token = csrf_from(page.text)
    # Neither a venue nor a party: refused with a message, nothing stored.
    r = client.post(
        f"/clues/{clue_id}/inspection", data={"csrf_token": token, "result": "立案查处"}, follow_redirects=True
    )
    assert "请选择被检查的场所，或填写无登记场所的当事人" in r.text
    form = {
        "csrf_token": token,
        "subject": "party",
        "party_name": "某某旅游工作室（港澳游）",
        "party_account": "微信：gangao888",
        "party_contact": "138****1234",
        "party_address": "姑苏区某小区",
        "result": "立案查处",
        "violations": "未经许可经营旅行社业务",
    }
    # A party and a venue at once is ambiguous: refused.
    r = client.post(f"/clues/{clue_id}/inspection", data={**form, "venue_id": w.venue_own}, follow_redirects=True)
    assert "不要再选择场所" in r.text
    r = client.post(f"/clues/{clue_id}/inspection", data=form, follow_redirects=True)
    assert "检查记录已保存" in r.text and 'id="inspection-party"' in r.text and "微信：gangao888" in r.text
    r = client.post(
        f"/clues/{clue_id}/close",
        data={"csrf_token": token, "outcome": "case", "case_no": "姑文旅罚〔2026〕15号"},
        follow_redirects=True,
    )
    assert "线索已办结" in r.text
    with db.session_scope(cfg) as s:
        inspection = s.scalars(select(Inspection).where(Inspection.clue_id == clue_id)).one()
        assert (inspection.venue_id, inspection.grid_id) == (None, w.grid_own)
        assert s.get(Clue, clue_id).case_no == "姑文旅罚〔2026〕15号"
        inspection_id = inspection.id
    row = _rows(client.get("/ledgers/inspections?q=gangao888").text)
    assert len(row) == 1 and "某某旅游工作室（港澳游）" in row[0] and "立案号 姑文旅罚〔2026〕15号" in row[0]
    assert _total(client.get("/ledgers/inspections?q=姑文旅罚").text) == 1
    assert "某某旅游工作室（港澳游）（微信：gangao888）（当事人）" in client.get("/clues?status=all").text

    # The other zone's grid manager sees neither the clue nor the inspection, nor can name it.
    other = client.application.test_client()
    _as(other, "gm_other")
    assert other.get(f"/clues/{clue_id}").status_code == 403
    assert "gangao888" not in other.get("/ledgers/inspections").text
    own_clue_page = other.get(f"/clues/{w.clue_other}").text
    r = other.post(
        f"/clues/{w.clue_other}/inspection",
        data={"csrf_token": csrf_from(own_clue_page), "result": "未发现问题", "inspection_id": inspection_id},
    )
    assert r.status_code == 403


def test_venue_page_records_a_named_party_in_the_venues_grid(client, cfg, ledger_world):
    w = ledger_world
    _as(client, "gm_own")
    page = client.get(f"/venues/{w.venue_own}")
    assert "无登记场所的当事人" in page.text
    form = {
        "csrf_token": csrf_from(page.text),
        "subject": "party",
        "party_name": "网上书摊",
        "party_account": "闲鱼：书摊123",
        "date": "2026-05-05",
        "inspectors": "王执法",
        "result": "责令整改",
    }
    r = client.post(f"/venues/{w.venue_own}/inspections", data={**form, "party_name": " "}, follow_redirects=True)
    assert "请填写当事人名称" in r.text
    r = client.post(f"/venues/{w.venue_own}/inspections", data=form, follow_redirects=True)
    assert "检查记录已保存" in r.text
    with db.session_scope(cfg) as s:
        i = s.scalars(select(Inspection).where(Inspection.party_name == "网上书摊")).one()
        assert (i.venue_id, i.grid_id, i.party_account) == (None, w.grid_own, "闲鱼：书摊123")
        party_inspection = i.id
    # A request naming the party's inspection is zone-checked by the inspection's own grid: granted here,
    # refused to the other zone's grid manager.
    r = client.post(f"/venues/{w.venue_own}/inspections", data={**form, "inspection_id": party_inspection})
    assert r.status_code == 302
    other = client.application.test_client()
    _as(other, "gm_other")
    other_page = other.get(f"/venues/{w.venue_other}").text
    r = other.post(
        f"/venues/{w.venue_other}/inspections",
        data={**form, "csrf_token": csrf_from(other_page), "inspection_id": party_inspection},
    )
    assert r.status_code == 403
    assert "网上书摊" not in client.get(f"/venues/{w.venue_own}").text.split("录入检查")[0]  # not the venue's
    assert _total(client.get("/ledgers/inspections?q=书摊").text) == 2  # the second from the granted request


# ---------------------------------------------------------------- in a browser


@pytest.fixture
def server(cfg, ledger_world):
    from werkzeug.serving import make_server

    from webmap import create_app

    app = create_app({"webmap.tile_provider": "none"}, config=cfg)
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join()


@pytest.mark.browser
def test_ledger_in_a_browser_search_filter_page_and_open_a_venue(server, ledger_world):
    sync_api = pytest.importorskip("playwright.sync_api")
    from core.chromium import BROWSER_ARGS
    from tests.conftest import CHROMIUM

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=list(BROWSER_ARGS))
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{server}/login")
        page.fill("input[name=username]", "gm_own")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url, timeout=30_000)
        page.goto(f"{server}/")
        with page.expect_navigation():
            page.get_by_role("link", name="台账").click()
        assert page.locator("#ledger-total").inner_text() == "共 42 条"

        page.fill("#venue-filters input[name=q]", "批量场所")
        page.select_option("#venue-filters select[name=per_page]", "20")
        with page.expect_navigation():
            page.click("#venue-filters button[type=submit]")
        assert page.locator("#ledger-total").inner_text() == "共 38 条"
        assert page.locator("#ledger tbody tr").count() == 20
        with page.expect_navigation():
            page.locator(".pager a[rel=next]").click()
        assert page.locator("#ledger-page").inner_text() == "2"
        assert page.locator("#ledger tbody tr").count() == 18
        assert page.locator("#venue-filters input[name=q]").input_value() == "批量场所"  # filters kept

        page.select_option("#venue-filters select[name=expiry]", "expired")
        page.fill("#venue-filters input[name=q]", "")
        with page.expect_navigation():
            page.click("#venue-filters button[type=submit]")
        assert page.locator("#ledger-total").inner_text() == "共 1 条"
        assert "已过期" in page.locator("#ledger tbody tr").first.inner_text()

        page.goto(f"{server}/ledgers/venues?q=平江网吧")
        with page.expect_navigation():
            page.locator("#ledger a.venue-link", has_text="平江网吧").click()
        assert page.url.endswith(f"/venues/{ledger_world.venue_own}")
        assert "一户一档" in page.content()

        response = page.goto(f"{server}/ledgers/venues?grid={ledger_world.grid_other}")
        assert response.status == 403
        assert errors == []
        browser.close()
