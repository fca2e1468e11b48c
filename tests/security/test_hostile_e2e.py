"""#12 attack suite: the hostile-content crawl, end to end.

The sample site's /hostile/ shop (samplesite/views_hostile.py) carries XSS, template-literal, Jinja,
spreadsheet-formula and `javascript:` payloads in every field a crawl keeps: title, description,
seller, location and the item URLs. The real crawler (`python -m crawlers`, a subprocess, through the
egress policy with the loopback sample site named in the source) crawls it, the detector makes each
item a located hit in 平江路's grid, and then, in headless Chromium against the real web app:

- every page that shows those hits (map and its popups, the hit page with its map tooltip, the
  disposal and triage pages, search results, the clue made from one, alerts, saved searches, jobs)
  opens no dialog, runs no injected script (`window.__pwned` stays unset), logs no Content-Security-
  Policy refusal (which would mean markup got in, even if CSP then stopped it), shows no template
  output and links nothing but http(s) and this site;
- every export that shows hits (hit CSV/xlsx, search CSV/xlsx, the evidence package's tables and its
  提取笔录 opened from disk) holds no formula cell and no text cell starting with = + - @ tab or CR
  (or their full-width forms) unless neutralised with a leading quote;
- a grid manager of another zone finds none of it, on pages, APIs or exports.

Traffic goes to 127.0.0.1 only: the sample site, the web app, and a refused tile port.
"""

from __future__ import annotations

import csv
import io
import re
import threading
import zipfile

import pytest
from sqlalchemy import select

from core import config, db, users
from core.chromium import BROWSER_ARGS
from core.models import Grid, Hit, SavedSearch
from grids import tree
from grids.sample.load import load_sample
from samplesite import views_hostile
from samplesite.server import start
from tests.conftest import CHROMIUM, TESTS_DIR
from tests.e2e.crawl_helpers import crawl_env, e2e_config, run_crawl
from webmap import create_app

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]

SOURCES = TESTS_DIR / "security" / "hostile_sources.toml"
PASSWORD = "secret-pass"
# What a template engine would print had it run views_hostile.JINJA.
TEMPLATE_RAN = views_hostile.SSTI_MARK + "jinja-ran"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0", "＝", "＋", "－", "＠")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The crawled hostile shop, users of every role (a grid manager inside the hits' grid and one
    outside), a saved search whose alerts list the hits, and the web app on a loopback port."""
    from werkzeug.serving import make_server

    tmp = tmp_path_factory.mktemp("hostile")
    with start() as site:
        cfg = config.with_overrides(e2e_config(tmp, site.url), {"crawl.sources_file": str(SOURCES)})
        db.upgrade(cfg)
        load_sample(cfg)  # registry and gazetteer for the detector
        with db.session_scope(cfg) as s:
            admin = users.create_user(s, "admin", PASSWORD, "admin")
            s.flush()
            s.add(SavedSearch(user_id=admin.id, name="跟团监控", query="跟团", last_hit_id=0))
        code, summary, err = run_crawl(
            "hostile_e2e", crawl_env(tmp, site.url, WANGXUN_CRAWL__SOURCES_FILE=str(SOURCES)), timeout=600
        )
        assert code == 0 and summary is not None, err[-3000:]
    from search import alerts

    alerts.check_alerts(cfg)
    with db.session_scope(cfg) as s:
        hits = s.scalars(select(Hit).order_by(Hit.id)).all()
        grid_ids = {h.grid_id for h in hits}
        assert len(grid_ids) == 1 and None not in grid_ids, grid_ids
        own = s.get(Grid, grid_ids.pop())
        other = s.scalar(select(Grid).where(Grid.level == "grid", Grid.id != own.id).order_by(Grid.id))
        users.create_user(s, "patrol", PASSWORD, "patrol")
        users.create_user(s, "gm_own", PASSWORD, "grid_manager", grid_ids=tree.leaves(s, [own.id]))
        users.create_user(s, "gm_other", PASSWORD, "grid_manager", grid_ids=tree.leaves(s, [other.id]))
        hit_ids = [h.id for h in hits]
        venue_ids = sorted({h.venue_id for h in hits if h.venue_id})
    app = create_app(
        {"webmap.tile_provider": "custom", "webmap.tile_url": "http://127.0.0.1:9/{z}/{x}/{y}.png"}, config=cfg
    )
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield {
        "cfg": cfg,
        "summary": summary,
        "url": f"http://127.0.0.1:{srv.server_port}",
        "hits": hit_ids,
        "venues": venue_ids,
        "tmp": tmp,
    }
    srv.shutdown()
    thread.join()
    db.dispose(cfg)


@pytest.fixture(scope="module")
def chromium():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=list(BROWSER_ARGS))
        yield browser
        browser.close()


class Watcher:
    """One logged-in browser tab that records dialogs, script errors and CSP refusals."""

    def __init__(self, browser, base: str, username: str):
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("console", self._console)
        self.page.goto(f"{base}/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        with self.page.expect_navigation():
            self.page.click("button[type=submit]")
        assert "/login" not in self.page.url, f"{username} could not log in"

    def _console(self, msg):
        text = msg.text
        # A refused inline handler or script means markup from crawled text reached the page.
        if msg.type == "error" and ("Content Security Policy" in text or "Refused to" in text):
            self.errors.append(f"console: {text}")

    def open(self, path: str):
        return self.page.goto(self.base + path)

    def assert_clean(self, where: str):
        assert self.dialogs == [], (where, self.dialogs)
        assert self.page.evaluate("window.__pwned === undefined"), f"{where}: injected script ran"
        assert self.errors == [], (where, self.errors)
        assert TEMPLATE_RAN not in self.page.content(), f"{where}: a template engine ran crawled text"
        links = self.page.evaluate("Array.from(document.links).map(a => [a.protocol, a.host])")
        for protocol, _host in links:
            assert protocol in ("http:", "https:"), (where, protocol)

    def get(self, path: str) -> bytes:
        response = self.context.request.get(self.base + path)
        assert response.ok, (path, response.status)
        return response.body()

    def close(self):
        self.context.close()


# ------------------------------------------------------------------------------------------ the crawl


def test_the_hostile_crawl_makes_located_hits(world):
    summary = world["summary"]
    assert summary["state"] == "finished" and summary["hits"] == len(views_hostile.ITEMS), summary
    with db.session_scope(world["cfg"]) as s:
        titles = [h.title for h in s.scalars(select(Hit))]
    assert any(t.startswith("=HYPERLINK(") for t in titles) and any("${" in t for t in titles)


# ------------------------------------------------------------------------------------------ the pages


def _open_map_popups(w: Watcher):
    """On the map, open every hit's popup (the hits share a point: open the cluster, then each marker)."""
    page = w.page
    clusters = ".wx-hcluster, .wx-vcluster"  # the map's own cluster icons (webmap/static/js/map.js)
    marker = page.locator(f".wx-hit, {clusters}").first
    marker.wait_for(timeout=30_000)
    opened = 0
    for _ in range(10):  # bounded: zoom into the cluster until the markers stand apart (spiderfied)
        if page.locator(".wx-hit").count() >= 1 and page.locator(".wx-hcluster").count() == 0:
            break
        cluster = page.locator(".wx-hcluster").first
        if cluster.count() == 0:
            break
        cluster.click()
        page.wait_for_timeout(400)  # the zoom/spiderfy animation; state is checked again, not timed
    for i in range(page.locator(".wx-hit").count()):
        page.locator(".wx-hit").nth(i).click(force=True)
        page.locator(".leaflet-popup-content").get_by_text("线索详情").last.wait_for(timeout=10_000)
        opened += 1
        # Closed by the map itself (as Esc does): a layer refresh may already have closed it, and then
        # its close button is gone from the page.
        page.evaluate("() => window.wangxunLayers.map.closePopup()")
        page.locator(".leaflet-popup").first.wait_for(state="detached", timeout=10_000)
    return opened


def test_no_script_runs_on_any_page_that_shows_the_hits(world, chromium):
    w = Watcher(chromium, world["url"], "admin")
    try:
        w.open("/")
        opened = _open_map_popups(w)
        assert opened >= 1, "no hit popup could be opened on the map"
        w.assert_clean("map")
        for hit_id in world["hits"]:
            w.open(f"/hits/{hit_id}")
            marker = w.page.locator(".leaflet-marker-icon").first
            marker.wait_for(timeout=30_000)
            marker.hover()
            w.page.locator(".leaflet-tooltip").wait_for(timeout=10_000)
            w.assert_clean(f"evidence page of hit {hit_id}")
            for path in (f"/hits/{hit_id}", f"/hits/{hit_id}/triage"):
                assert w.open(path).status == 200, path
                w.assert_clean(path)
        # A hostile hit becomes a clue (with a hostile note): the clue pages show it.
        first = world["hits"][0]
        w.open(f"/hits/{first}/triage")
        w.page.fill("#confirm-form textarea[name=note]", views_hostile.SCRIPT + views_hostile.TEMPLATE)
        with w.page.expect_navigation():
            w.page.click("#confirm-form [type=submit]")
        assert "/clues/" in w.page.url, w.page.url
        w.assert_clean("clue page")
        pages = ["/search?q=跟团", "/search?q=平江路", "/search?q=", "/clues", "/alerts", "/saved-searches"]
        pages += ["/admin/jobs", "/grading"] + [f"/venues/{v}" for v in world["venues"]]
        for path in pages:
            response = w.open(path)
            assert response.status == 200, path
            w.assert_clean(path)
        w.open("/alerts")
        assert w.page.locator("text=平江路").count() >= 1, "the alerts page should list the hostile hits"
        w.assert_clean("/alerts")
    finally:
        w.close()


# ------------------------------------------------------------------------------------------ the exports


def _formula_cells(name: str, data: bytes) -> list[str]:
    """Cells of a CSV or xlsx file a spreadsheet would run: formula cells, and text cells starting with a
    formula character that are not numbers and not neutralised (a leading ')."""
    bad = []
    if name.endswith(".xlsx"):
        import openpyxl

        wb = openpyxl.load_workbook(io.BytesIO(data))  # formulas stay formulas (data_type "f")
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if cell.data_type == "f":
                        bad.append(f"{name}!{ws.title}!{cell.coordinate}: formula {cell.value!r}")
                    elif isinstance(cell.value, str) and _runs(cell.value):
                        bad.append(f"{name}!{ws.title}!{cell.coordinate}: text {cell.value[:40]!r}")
    else:
        text = data.decode("utf-8-sig")
        for r, row in enumerate(csv.reader(io.StringIO(text, newline=""))):
            for c, value in enumerate(row):
                if _runs(value):
                    bad.append(f"{name}: row {r + 1} column {c + 1}: {value[:40]!r}")
    return bad


def _runs(value: str) -> bool:
    stripped = value.lstrip(" \u00a0\u3000\n\f\v")
    return stripped.startswith(FORMULA_START) and not NUMBER.fullmatch(value.strip())


def _exports(w: Watcher, hit_ids: list[int]) -> dict[str, bytes]:
    files = {
        "hits.csv": w.get("/export/hits.csv"),
        "hits.xlsx": w.get("/export/hits.xlsx"),
        "search.csv": w.get("/search/export.csv?q=跟团"),
        "search.xlsx": w.get("/search/export.xlsx?q=跟团"),
    }
    for hit_id in hit_ids:
        files[f"evidence-{hit_id}.zip"] = w.get(f"/hits/{hit_id}/evidence.zip")
    return files


def test_no_export_holds_a_formula(world, chromium):
    w = Watcher(chromium, world["url"], "admin")
    try:
        files = _exports(w, world["hits"])
    finally:
        w.close()
    bad: list[str] = []
    tables = 0
    for name, data in files.items():
        if name.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for member in z.namelist():
                    if member.endswith((".csv", ".xlsx")):
                        tables += 1
                        bad += _formula_cells(f"{name}:{member}", z.read(member))
        else:
            tables += 1
            assert b"__pwned" in data or name.endswith(".xlsx"), f"{name} should list the hostile hits"
            bad += _formula_cells(name, data)
    assert tables >= 4
    assert bad == [], "cells a spreadsheet would run:\n" + "\n".join(bad[:40])


def test_the_evidence_packages_record_runs_nothing_when_opened(world, chromium, tmp_path):
    """The 提取笔录 (summary.html) is meant to be opened by people: from disk, nothing in it may run."""
    w = Watcher(chromium, world["url"], "admin")
    try:
        data = w.get(f"/hits/{world['hits'][0]}/evidence.zip")
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            summaries = [m for m in z.namelist() if m.endswith("summary.html")]
            assert summaries, z.namelist()
            z.extractall(tmp_path)
        for member in summaries:
            w.page.goto((tmp_path / member).as_uri())
            assert w.dialogs == [] and w.page.evaluate("window.__pwned === undefined"), member
    finally:
        w.close()


# ------------------------------------------------------------------------------------------ the zones


def test_a_grid_manager_of_another_zone_sees_none_of_it(world, chromium):
    hostile = set(world["hits"])
    w = Watcher(chromium, world["url"], "gm_other")
    try:
        for path in ("/", "/search?q=跟团", "/search?q=", "/clues", "/alerts"):
            assert w.open(path).status == 200, path
            content = w.page.content()
            assert "__pwned" not in content and "平江路跟团" not in content, path
            w.assert_clean(path)
        for hit_id in hostile:
            for path in (f"/hits/{hit_id}", f"/hits/{hit_id}", f"/api/hits/{hit_id}"):
                assert w.open(path).status in (403, 404), path
        found = w.context.request.get(f"{world['url']}/api/search?q=&per_page=100").json()
        assert not hostile & {h["id"] for h in found["hits"]}
        rows = w.context.request.get(f"{world['url']}/api/hits").json()["rows"]
        assert not hostile & {r[0] for r in rows}
        for name, path in (("hits.csv", "/export/hits.csv"), ("search.csv", "/search/export.csv?q=")):
            assert b"__pwned" not in w.get(path), name
        for path in ("/export/hits.xlsx", "/search/export.xlsx?q="):
            import openpyxl

            wb = openpyxl.load_workbook(io.BytesIO(w.get(path)))
            text = " ".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row)
            assert "__pwned" not in text, path
    finally:
        w.close()
    own = Watcher(chromium, world["url"], "gm_own")
    try:
        found = own.context.request.get(f"{world['url']}/api/search?q=&per_page=100").json()
        assert hostile <= {h["id"] for h in found["hits"]}  # the zone that holds them does see them
    finally:
        own.close()
