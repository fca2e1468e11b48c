"""Search pages: highlighted results, zone scoping, JSON API, exports, saved searches, hit page."""

from __future__ import annotations

import datetime as dt
import html
import io
import os
import subprocess
import sys

from openpyxl import load_workbook
from sqlalchemy import select

from core import db
from core.models import AuditLog, Hit
from search import outbox
from tests.conftest import PROJECT_ROOT
from tests.helpers import make_hit
from tests.search.conftest import login
from tests.webmap.conftest import csrf_from


def _ready(cfg):
    outbox.drain(cfg)


def test_search_page_highlights_and_links(cfg, client, users_world):
    with db.session_scope(cfg) as s:
        s.get(Hit, users_world.hit_other).detected_at = dt.datetime(2026, 3, 1, 17, 30)  # UTC: the 2nd, locally
    _ready(cfg)
    login(client, "patrol")
    r = client.get("/search?q=盗版")
    assert r.status_code == 200
    assert "沧浪<mark>盗版</mark>教辅" in r.text
    assert "发现于 2026-03-02 01:30（本地时间）" in r.text  # [core] timezone, labelled
    assert f"/hits/{users_world.hit_other}" in r.text
    assert "/search/export.csv?q=" in r.text
    with db.session_scope(cfg) as s:
        assert s.scalars(select(AuditLog).where(AuditLog.action == "search")).first() is not None


def test_grid_managers_see_only_their_zone(cfg, client, users_world):
    _ready(cfg)
    login(client, "gm_own")
    assert "沧浪" not in client.get("/search?q=盗版").text
    assert client.get(f"/hits/{users_world.hit_other}").status_code == 403
    assert client.get(f"/hits/{users_world.hit_own}").status_code == 200
    data = client.get("/api/search?q=label:旅行社,出版物").get_json()
    assert [h["id"] for h in data["hits"]] == [users_world.hit_own]


def test_api_bad_input_and_injection_never_error_pages(cfg, client, users_world):
    _ready(cfg)
    login(client, "patrol")
    data = client.get("/api/search?q=一日游").get_json()
    assert data["total"] == 1 and data["hits"][0]["snippets"][0]["spans"]
    assert client.get("/api/search?q=" + "盗" * 10240).status_code == 400
    r = client.get("/search?q=" + "盗" * 10240)
    assert r.status_code == 200 and "查询过长" in r.text
    for attack in ['"', "NEAR(a b)", "' OR 1=1 --", "<script>alert(1)</script>"]:
        r = client.get("/search", query_string={"q": attack})
        assert r.status_code == 200 and "<script>alert(1)</script>" not in r.text


def test_exports_csv_and_excel_are_audited(cfg, client, users_world):
    _ready(cfg)
    login(client, "patrol")
    r = client.get("/search/export.csv?q=盗版 OR 一日游")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    text = r.data.decode("utf-8-sig")
    assert "沧浪盗版教辅" in text and "平江路低价一日游" in text
    r = client.get("/search/export.xlsx?q=盗版")
    ws = load_workbook(io.BytesIO(r.data)).active
    assert any("沧浪盗版教辅" in str(c.value) for row in ws.iter_rows() for c in row)
    with db.session_scope(cfg) as s:
        rows = s.scalars(select(AuditLog).where(AuditLog.action == "export", AuditLog.object_type == "search")).all()
        assert {r.detail["format"] for r in rows} == {"csv", "xlsx"}


def test_saved_searches_and_alerts_pages(cfg, client, users_world):
    from search.alerts import check_alerts

    _ready(cfg)
    login(client, "patrol")
    page = client.get("/saved-searches?q=盗版")
    r = client.post("/saved-searches", data={"name": "盗版监控", "query": "盗版", "csrf_token": csrf_from(page.text)})
    assert r.status_code == 302
    with db.session_scope(cfg) as s:
        make_hit(
            s,
            title="新到盗版光盘",
            text="盗版",
            label="illegal_publication",
            platform="shop",
            score=0.8,
            detected_at=dt.datetime(2026, 3, 1, 2, 0),  # UTC
        )
    assert check_alerts(cfg) == 1
    listed = client.get("/alerts").text
    assert "新到盗版光盘" in listed and "2026-03-01 10:00" in listed  # shown in [core] timezone (Asia/Shanghai)
    assert check_alerts(cfg) == 0
    listing = client.get("/saved-searches").text
    assert "盗版监控" in listing and "尚未检查" not in listing  # checked twice: the time it last ran is shown
    bad = client.post(
        "/saved-searches", data={"name": "x", "query": "的", "csrf_token": csrf_from(page.text)}, follow_redirects=True
    )
    assert "常用字" in bad.text


def test_hit_page_marks_reason_spans_and_handles_missing_evidence(cfg, client, users_world):
    with db.session_scope(cfg) as s:
        h = s.get(Hit, users_world.hit_own)
        h.reasons = [
            {"label": "unlicensed_travel", "code": "kw", "text": "关键词命中", "field": "text", "spans": [[3, 6]]}
        ]
    login(client, "patrol")
    r = client.get(f"/hits/{users_world.hit_own}")
    assert r.status_code == 200 and "平江路<mark>低价一</mark>日游" in r.text
    assert "下载证据包" in r.text
    z = client.get(f"/hits/{users_world.hit_own}/evidence.zip")
    assert z.status_code in (200, 302)  # no evidence recorded in this fixture: a message, not a 500


def test_an_empty_query_lists_the_newest_hits_in_the_zone_with_pages(cfg, client, users_world):
    _ready(cfg)
    login(client, "patrol")
    r = client.get("/search")
    assert r.status_code == 200
    assert "沧浪盗版教辅" in r.text and "平江路低价一日游" in r.text
    assert r.text.index("沧浪盗版教辅") < r.text.index("平江路低价一日游")  # newest first
    second = client.get("/search?per_page=1&page=2").text
    assert "平江路低价一日游" in second and "沧浪盗版教辅" not in second
    data = client.get("/api/search?q=").get_json()
    assert [h["id"] for h in data["hits"]] == [users_world.hit_other, users_world.hit_own]
    login(client, "gm_own")
    mine = client.get("/search").text
    assert "平江路低价一日游" in mine and "沧浪" not in mine.split("</form>", 1)[1]


def test_a_reason_found_in_title_and_text_is_listed_once(cfg, client, users_world):
    """The same reason from the title and from the text: once on both hit pages and in the results."""
    reason = {"label": "unlicensed_travel", "code": "tour_product", "text": "招揽组团旅游：「一日游」"}
    with db.session_scope(cfg) as s:
        h = s.get(Hit, users_world.hit_own)
        h.reasons = [{**reason, "field": "title", "spans": [[5, 8]]}, {**reason, "field": "text", "spans": [[5, 8]]}]
    outbox.drain(cfg)
    login(client, "patrol")
    for url in (f"/hits/{users_world.hit_own}", f"/hits/{users_world.hit_own}"):
        page = client.get(url).text
        assert page.count("招揽组团旅游：「一日游」") == 1, url
    results = client.get("/search?q=组团").text
    assert results.count("招揽<mark>组团</mark>旅游") == 1  # found through the reason's name, listed once


MALFORMED = [  # (query, the characters the error points at, what it says)
    ('"港澳 跟团', '"', "没有配对的结束引号"),
    ("港澳 跟团 OR", "OR", "OR 后面要有关键词"),
    ("(代购 OR 包机", "(", "没有配对的「)」"),
    ("代购 OR 包机)", ")", "前面没有配对的「(」"),
    ("盗版 -", "-", "减号后面没有要排除的词"),
    ("-platform:shop", "-platform:shop", "不能用减号排除"),
    ('盗版 ""', '""', "引号里没有内容"),
    ("港澳”", "”", "前面没有配对的开始引号"),
]


def test_a_malformed_query_says_what_and_where_on_the_page_and_in_the_api(cfg, client, users_world):
    _ready(cfg)
    login(client, "patrol")
    for text, at, message in MALFORMED:
        page = client.get("/search", query_string={"q": text})
        assert page.status_code == 200 and message in page.text and "查询有误" in page.text, text
        assert f'<mark class="bad">{html.escape(at).replace("&quot;", "&#34;")}</mark>' in page.text, text
        assert "没有找到匹配的线索" not in page.text  # never a silent empty result
        api = client.get("/api/search", query_string={"q": text})
        assert api.status_code == 400, text
        body = api.get_json()
        assert message in body["error"] and text[body["position"] - 1 : body["position"] - 1 + body["length"]] == at


def test_the_cli_points_at_a_malformed_query_in_one_error_line(cfg, users_world):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANGXUN_")}
    env["WANGXUN_CORE__DATA_DIR"] = str(cfg.data_dir)
    env["WANGXUN_CORE__DATABASE_URL"] = cfg.database_url  # this test's engine (SQLite or PostgreSQL)
    env["WANGXUN_SEARCH__BACKEND"] = cfg.search.backend
    proc = subprocess.run(
        [sys.executable, "-m", "core.cli", "search", "港澳", "(代购", "OR", "包机"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0 and "Traceback" not in proc.stderr and proc.stdout == ""
    query, caret, error = proc.stderr.rstrip("\n").splitlines()
    assert query == "港澳 (代购 OR 包机" and caret == "     ^"  # 港澳 is four columns wide, then a space
    assert error.startswith("错误 error: 查询有误（第 4 个字符）") and "没有配对的「)」" in error


def test_the_navigation_shows_alerts_with_the_unread_count(cfg, client, users_world):
    from search.alerts import check_alerts

    _ready(cfg)
    login(client, "patrol")
    nav = client.get("/search").text.split("</nav>", 1)[0]
    assert 'href="/alerts"' in nav and "提醒" in nav and 'class="badge"' not in nav  # nothing unread
    page = client.get("/saved-searches")
    client.post("/saved-searches", data={"name": "光盘", "query": "光盘", "csrf_token": csrf_from(page.text)})
    with db.session_scope(cfg) as s:
        for n in range(2):
            make_hit(s, title=f"新到盗版光盘{n}", text="光盘", label="illegal_publication", score=0.8)
    assert check_alerts(cfg) == 2
    nav = client.get("/").text.split("</nav>", 1)[0]
    assert '<span class="badge" title="未读提醒 2 条">2</span>' in nav
    client.post("/alerts/seen", data={"csrf_token": csrf_from(client.get("/alerts").text)})
    assert 'class="badge"' not in client.get("/search").text.split("</nav>", 1)[0]
