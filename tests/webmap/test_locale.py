"""The web app's language per user (#15 item 8): zh_CN by default, English chosen in the navigation.

The switch is a form in the navigation (POST /settings/locale, CSRF-protected, audited as `update`);
the choice is stored on the user (users.locale, migration 0012) and follows them to every page and
every later login. Anonymous pages are Chinese.
"""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from core import db
from core.chromium import BROWSER_ARGS
from core.models import AuditLog, User
from tests.conftest import CHROMIUM, make_config
from tests.helpers import serving
from tests.webmap.conftest import PASSWORD, csrf_from, login
from webmap import create_app


def _switch(client, locale: str, next_url: str = "/clues"):
    page = client.get("/clues")
    return client.post(
        "/settings/locale", data={"locale": locale, "next": next_url, "csrf_token": csrf_from(page.text)}
    )


def _locale_of(cfg, username: str) -> str | None:
    with db.session_scope(cfg) as s:
        return s.scalars(select(User.locale).where(User.username == username)).one()


def test_chinese_by_default_and_english_once_chosen_for_that_user_only(cfg, app, users_world):
    patrol, admin = app.test_client(), app.test_client()
    login(patrol, "patrol")
    login(admin, "admin")
    page = patrol.get("/clues").text
    assert '<html lang="zh-CN">' in page and ">研判</a>" in page and 'name="locale"' in page

    r = _switch(patrol, "en")
    assert r.status_code == 302 and r.headers["Location"].endswith("/clues")
    page = patrol.get("/clues").text
    assert '<html lang="en">' in page and ">Triage</a>" in page and ">研判</a>" not in page
    assert "Patrol officer" in page  # the role's name from core.vocabulary, translated
    assert _locale_of(cfg, "patrol") == "en"
    assert '<html lang="zh-CN">' in admin.get("/clues").text  # another user keeps Chinese

    patrol.post("/logout", data={"csrf_token": csrf_from(page)})
    assert '<html lang="zh-CN">' in patrol.get("/login").text  # anonymous: Chinese
    login(patrol, "patrol")
    assert '<html lang="en">' in patrol.get("/triage").text  # the choice outlives the session

    with db.session_scope(cfg) as s:
        row = s.scalars(select(AuditLog).where(AuditLog.action == "update", AuditLog.object_type == "user")).one()
        assert row.username == "patrol" and row.detail == {"field": "locale", "old": "zh_CN", "new": "en"}


def test_flash_messages_and_error_pages_follow_the_user(cfg, app, users_world):
    client = app.test_client()
    login(client, "gm_own")
    _switch(client, "en")
    r = client.get(f"/venues/{users_world.venue_other}")
    assert r.status_code == 403 and "Access denied" in r.text and "无权访问" not in r.text
    assert "Page not found" in client.get("/no-such-page").text
    page = client.get(f"/clues/{users_world.clue_own}").text
    r = client.post(f"/clues/{users_world.clue_own}/start", data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "Inspection started" in r.text


def test_the_switch_refuses_bad_input_and_forged_posts(cfg, app, users_world):
    client = app.test_client()
    token = csrf_from(client.get("/login").text)
    r = client.post("/settings/locale", data={"locale": "en", "csrf_token": token})
    assert r.status_code == 302 and "/login" in r.headers["Location"]  # anonymous
    login(client, "admin")
    assert client.post("/settings/locale", data={"locale": "en"}).status_code == 400  # no CSRF token
    assert _switch(client, "fr").status_code == 400
    assert _switch(client, "").status_code == 400
    assert _locale_of(cfg, "admin") in (None, "zh_CN")
    r = _switch(client, "en", next_url="https://evil.example/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/")  # never off-site
    assert _locale_of(cfg, "admin") == "en"


def test_migration_0012_keeps_users_and_reads_them_as_chinese(tmp_path, database_url):
    cfg = make_config(tmp_path, **{"core.database_url": database_url(migrated=False)})
    try:
        db.upgrade(cfg, "0011")
        with db.get_engine(cfg).begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO users (username, password_hash, display_name, role, active, created_at) "
                    "VALUES ('old', 'x', '老用户', 'patrol', true, CURRENT_TIMESTAMP)"
                )
            )
        db.upgrade(cfg, "0012")
        with db.get_engine(cfg).connect() as conn:
            rows = conn.execute(sa.text("SELECT username, display_name, locale FROM users")).all()
        assert [tuple(r) for r in rows] == [("old", "老用户", "zh_CN")]
        db.upgrade(cfg)
    finally:
        db.dispose(cfg)


@pytest.mark.browser
def test_the_map_speaks_the_users_language(cfg, users_world):
    """map.js (its badge, the side panel's totals) and the Folium legend and layer names in English for
    an English user (headless Chromium)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with db.session_scope(cfg) as s:
        s.scalars(select(User).where(User.username == "admin")).one().locale = "en"
    app = create_app({"webmap.tile_provider": "none"}, config=cfg)
    with serving(app) as base, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=list(BROWSER_ARGS))
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/login?next=/clues")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", PASSWORD)
            with page.expect_navigation():
                page.click("button[type=submit]")
            page.goto(f"{base}/")
            page.wait_for_function("() => window.wangxunState && window.wangxunState.ready", timeout=60_000)
            legend = page.inner_text(".wx-legend")
            assert "Legend" in legend and "Grade D (high risk)" in legend and "Not graded" in legend
            assert "Online hits · clusters" in page.inner_html(".leaflet-control-layers")
            assert "venues" in page.inner_text("#wx-totals") and "online hits" in page.inner_text("#wx-totals")
            assert page.inner_text(".wx-status").startswith("In view:")  # map.js's badge
            assert errors == []
            assert not re.search(r"[\u4e00-\u9fff]", legend)
        finally:
            browser.close()


def test_the_map_page_hands_map_js_its_texts(cfg, app, users_world):
    """map.js's texts arrive as JSON in the page: its tr() ids and the vocabulary's names in the user's
    language, and each crawl source by its description (a popup never shows a source id)."""
    client = app.test_client()
    login(client, "patrol")
    _switch(client, "en")
    page = client.get("/").text
    m = re.search(r'<script type="application/json" id="wx-strings"[^>]*>(.*?)</script>', page, re.S)
    strings = json.loads(m.group(1))
    assert strings["加载中…"] == "Loading…"
    assert strings["非法出版物"] == "Illegal publication"  # a label name, for hit popups
    assert strings["wechat_search"] == "微信公众号文章（搜狗微信搜索，巡查关键词）"  # sources.toml
    assert page.index('id="wx-strings"') < page.index("map.js")  # read by map.js when it loads


def test_exports_speak_the_users_language(cfg, app, users_world):
    """Headers, sheet names and the vocabulary's names in a file follow the user; crawled text stays."""
    client = app.test_client()
    login(client, "admin")
    chinese = client.get("/export/hits.csv").data.decode("utf-8-sig").splitlines()
    assert chinese[0].startswith('"编号","标题","类型"') and "已转线索" in "\n".join(chinese)
    _switch(client, "en")
    english = client.get("/export/hits.csv").data.decode("utf-8-sig").splitlines()
    assert not re.search(r"[\u4e00-\u9fff]", english[0])
    body = "\n".join(english[1:])
    assert "已转线索" not in body and "平江路低价一日游" in body  # the status named in English, the title as crawled
    ledger = client.get("/ledgers/inspections.csv").data.decode("utf-8-sig").splitlines()
    assert not re.search(r"[\u4e00-\u9fff]", ledger[0]), ledger[0]
