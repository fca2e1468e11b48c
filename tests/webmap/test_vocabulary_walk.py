"""One vocabulary (#15 item 8): every page, as every role, in both languages, shows names and never codes.

The walk logs in as each of the four roles, picks the language with the navigation's switch (POST
/settings/locale), and opens every GET route of the app's url_map with every id the world holds (hits
on both platforms from real crawl sources, a clue with its whole history, a dismissed and a transferred
hit, grades with their factors, a draw, job runs, an audit log with entries, saved searches and
alerts), plus the pages' interesting query strings (search with results, triage, filtered ledgers).

Visible text is the HTML's text outside <script>/<style>, plus the title, placeholder and aria-label
attributes. Data (crawled titles and text, account, venue, grid and user names, addresses, notes) is
marked translate="no" in the templates: it is shown as it was written, so it is not checked for
language, but it is still checked for raw codes. Literal syntax shown in <code translate="no"> (query
examples, commands) is not checked at all.

It fails on
  (a) a raw code of core/vocabulary.py or a crawl source id appearing as a word (in Chinese pages any
      such word; in English pages a code with an underscore anywhere, or a text that is exactly a code);
  (b) zh_CN: any ASCII word of two or more letters outside data, except ALLOWED (PDF, ISBN, …), URLs,
      e-mail addresses, ids and hashes;
  (c) en: any Chinese character outside data.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterator, Mapping
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import url_for
from sqlalchemy import select

from core import db, vocabulary
from core.models import Base, Clue, Grid, Hit, SavedSearch, SpotCheckDraw, User, Venue
from grids import draws, grading
from search import outbox
from tests.helpers import make_hit, make_inspection, make_inspector, make_job_run, make_saved_search, make_venue
from tests.webmap.conftest import PASSWORD, csrf_from, login
from webmap import create_app

ROLES = ("admin", "patrol", "gm_own", "gm_other")
LOCALES = ("zh_CN", "en")
SOURCES_FILE = Path(__file__).resolve().parents[2] / "crawlers" / "sources.toml"

# Terms users expect as they are, in any language.
ALLOWED = {
    "PDF", "ISBN", "WARC", "SHA", "CSV", "Excel", "GeoJSON", "JSON", "URL", "HTTP", "HTTPS", "ZIP", "UTC",
    "WGS", "GCJ", "Webhook", "IP", "ID", "OR", "QQ", "MB",
    "English",  # a language is named in its own language (core.vocabulary.LANGUAGE, the switch)
}  # fmt: skip
# Routes that answer files or JSON, not pages.
NOT_PAGES = {"static"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
URLISH = re.compile(r"\S+://\S+|www\.\S+|\S+@\S+\.\S+|/\S*")


def _codes() -> tuple[set[str], set[str]]:
    """Every stored code a user must never read: vocabulary keys, and (checked in data too, where a
    plain word such as a user called "admin" may be a code by chance) crawl source ids and codes with
    an underscore."""
    codes: set[str] = set()
    for value in vars(vocabulary).values():
        if isinstance(value, Mapping):
            codes.update(k for k in value if isinstance(k, str) and len(k) > 1 and k.isascii())
    codes -= {"UTC"}  # ZONE_NAME's key is also the zone's name
    with SOURCES_FILE.open("rb") as f:
        sources = {src["name"] for src in tomllib.load(f).get("sources", [])}
    return codes | sources, sources | {c for c in codes if "_" in c}


CODES, CODES_IN_DATA = _codes()


class Visible(HTMLParser):
    """Text runs of a page with what they are: (text, is_data, where); data = inside translate="no"."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool, bool]] = []  # (tag, data, skip)
        self.runs: list[tuple[str, bool, str]] = []
        self.broken: list[str] = []  # attributes cut short by a quote in a translation

    def _state(self) -> tuple[bool, bool]:
        return (self.stack[-1][1], self.stack[-1][2]) if self.stack else (False, False)

    def handle_starttag(self, tag, attrs):
        self.broken += [f"<{tag} {name}>" for name, _value in attrs if '"' in name or "'" in name]
        attrs = dict(attrs)
        data, skip = self._state()
        data = data or attrs.get("translate") == "no"
        skip = skip or tag in ("script", "style") or (tag == "code" and attrs.get("translate") == "no")
        if not skip:
            for name in ("title", "placeholder", "aria-label"):
                if attrs.get(name):
                    self.runs.append((attrs[name], data, f"<{tag} {name}>"))
        if tag not in VOID:
            self.stack.append((tag, data, skip))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, text):
        data, skip = self._state()
        if not skip and text.strip():
            where = self.stack[-1][0] if self.stack else "document"
            self.runs.append((text, data, f"<{where}>"))


def problems(html: str, locale: str, known_data: tuple[str, ...] = ()) -> list[str]:
    """What is wrong with a page's visible text; `known_data` are strings the database holds (crawled text,
    names, notes), which may also stand unmarked in a sentence (已排除：<reason>): an English page
    may show them in Chinese."""
    parser = Visible()
    parser.feed(html)
    found = [f"attribute broken by a quote in its text: {b}" for b in parser.broken]
    for text, data, where in parser.runs:
        plain = URLISH.sub(" ", text)
        tokens = re.findall(r"[A-Za-z0-9_][A-Za-z0-9_.:+-]*", plain)
        words = [t for t in tokens if not any(c.isdigit() for c in t)]
        # (a) raw codes
        codes = CODES_IN_DATA if data else CODES
        if locale == "zh_CN":
            for w in words:
                for part in re.split(r"[.:+-]", w):
                    if part in codes:
                        found.append(f"raw code {part!r} in {where}: {text.strip()[:80]!r}")
        else:
            for w in words:
                if "_" in w and w in codes:
                    found.append(f"raw code {w!r} in {where}: {text.strip()[:80]!r}")
            if text.strip() in codes:
                found.append(f"raw code {text.strip()!r} as the whole of {where}")
        if re.search(r"%\(\w+\)[sdr]", text):  # a message whose parameters were never filled in
            found.append(f"unformatted message in {where}: {text.strip()[:80]!r}")
        if data:
            continue
        # (b) untranslated English in Chinese pages
        if locale == "zh_CN":
            for w in words:
                for part in re.findall(r"[A-Za-z]{2,}", w):
                    if part not in ALLOWED and part.upper() not in ALLOWED:
                        found.append(f"English word {part!r} in {where}: {text.strip()[:80]!r}")
        # (c) Chinese left in English pages
        else:
            rest = text
            for value in known_data:
                if value in rest:
                    rest = rest.replace(value, " ")
            if HAN.search(rest):
                found.append(f"Chinese text in {where}: {text.strip()[:80]!r}")
    return found


# ---------------------------------------------------------------- the world


def _post(client, url: str, data: dict):
    page = client.get("/clues")  # any page carries the CSRF token
    r = client.post(url, data={**data, "csrf_token": csrf_from(page.text)})
    assert r.status_code in (200, 302), f"POST {url}: {r.status_code}"
    return r


@pytest.fixture
def walk_world(cfg, users_world):
    """users_world plus what a district's first weeks leave: hits of both platforms from real sources,
    triage outcomes of every kind, a clue worked to its end, grades, a draw, job runs and alerts."""
    reasons_travel = [
        {"label": "unlicensed_travel", "code": "tour_product", "text": "招揽组团旅游：「一日游」", "spans": [],
         "field": "text"},
        {"label": "unlicensed_travel", "code": "no_licence", "text": "无旅行社业务经营许可证", "spans": [],
         "field": "text"},
    ]  # fmt: skip
    reasons_book = [
        {"label": "illegal_publication", "code": "piracy_terms", "text": "盗版、高仿、翻印：「高仿」", "spans": [],
         "field": "text"},
    ]  # fmt: skip
    with db.session_scope(cfg) as s:
        g1, g2 = s.get(Grid, users_world.grid_own), s.get(Grid, users_world.grid_other)
        v1, v2 = s.get(Venue, users_world.venue_own), s.get(Venue, users_world.venue_other)
        v1.licence_expiry = dt.date(2026, 11, 2)  # expired: a grade factor says so
        v3 = make_venue(s, grid=g1, name="平江旅行社门市", category="旅行社", lon=120.612, lat=31.312)
        make_inspection(s, v3, dt.date(2026, 5, 1), result="立案查处", violations="超范围经营", penalty_yuan=5000)
        hits = {}
        for key, grid, venue, title, platform, source, label, reasons in (
            ("shop", g1, v1, "平江路低价一日游 跟团报名", "shop", "shop_search", "unlicensed_travel", reasons_travel),
            ("wechat", g2, None, "教辅资料高仿版 包邮", "wechat", "wechat_search", "illegal_publication", reasons_book),
            ("dismiss", g1, None, "周末亲子游攻略", "note", "wechat_accounts", "unlicensed_travel", reasons_travel),
            ("transfer", None, None, "杭州西湖一日游 散客拼团", "shop", "goofish_render", "unlicensed_travel",
             reasons_travel),
            ("confirm", g1, v1, "苏州园林两日游 私人导游", "wechat", "wechat_search", "unlicensed_travel",
             reasons_travel),
            ("open", g2, v2, "复印本教材 低价成套", "shop", "kongfz_api", "illegal_publication", reasons_book),
        ):  # fmt: skip
            lon, lat = (120.611, 31.311) if grid is g1 else (120.631, 31.311) if grid is g2 else (120.15, 30.25)
            hits[key] = make_hit(
                s, grid, venue, title, lon, lat, label=label, platform=platform, source=source, reasons=reasons,
                account="苏州某某旅行", location_name="平江路" if grid is g1 else "杭州西湖",
                text=f"{title}。请加微信报名，价格优惠。",
            ).id  # fmt: skip
        params = grading.GradingParams.from_dict(cfg.grading.to_dict())
        grading.grade_all(s, params, dt.date(2026, 12, 1))
        inspector1, inspector2 = make_inspector(s), make_inspector(s)
        assert inspector1 and inspector2
        first = draws.draw(
            s, draws.DrawParams(rates={"A": 1, "B": 1, "C": 1, "D": 1}), seed="walk", as_of=dt.date(2026, 12, 1)
        )
        first.published = True
        make_job_run(s, "grading", status="ok", task="grade_venues", ended_at=dt.datetime(2026, 12, 1, 18, 31))
        make_job_run(s, "crawl:wechat_search", status="failed", task="crawl", error="TimeoutError: 连接超时",
                     ended_at=dt.datetime(2026, 12, 2, 0, 5), detail={"args": {"source": "wechat_search"}})  # fmt: skip
        make_job_run(s, "alerts", status="skipped", task="check_alerts", ended_at=dt.datetime(2026, 12, 2, 1, 0))
        admin = s.scalars(select(User).where(User.username == "admin")).one()
        make_saved_search(s, admin, "盗版 OR 高仿", name="盗版监控", last_hit_id=0)
        for user in s.scalars(select(User).where(User.username.in_(("gm_own", "gm_other", "patrol")))):
            make_saved_search(s, user, "一日游", name="一日游监控", last_hit_id=0)
    outbox.drain(cfg)

    app = create_app({"TESTING": True}, config=cfg)
    client = app.test_client()
    login(client, "admin")
    # The day's work through the real forms, so the history, the audit log and the alerts are real.
    _post(client, f"/hits/{hits['dismiss']}/dismiss", {"reason": "旅游攻略，不是招揽"})
    _post(
        client,
        f"/hits/{hits['transfer']}/transfer",
        {"authority": "杭州市文化市场综合行政执法队", "note": "卖家在杭州"},
    )
    _post(client, f"/hits/{hits['confirm']}/confirm", {"grid_id": str(users_world.grid_own), "note": "请核查"})
    _post(client, f"/hits/{hits['shop']}/assign", {"grid_id": str(users_world.grid_own)})
    with db.session_scope(cfg) as s:
        clue = s.scalars(select(Clue).where(Clue.hit_id == hits["confirm"])).one().id
    for step, data in (
        ("start", {"note": "请现场核实"}),
        ("inspection", {"result": "立案查处", "venue_id": str(users_world.venue_own), "penalty": "20000",
                        "violations": "未经许可经营旅行社业务", "notes": "现场检查"}),
        ("close", {"outcome": "case", "case_no": "苏文执罚〔2026〕18号", "note": "当场立案处罚"}),
    ):  # fmt: skip
        with app.test_request_context():
            url = url_for("clues.work", clue_id=clue, step=step)
        _post(client, url, data)
    client.get("/export/hits.csv")
    client.get("/search?q=盗版")
    from jobs import tasks

    tasks.check_alerts(cfg)  # the saved searches find the hits: alerts to list
    from jobs import scheduler

    sched, _ = scheduler.start(cfg)  # stores the configured jobs (config.toml), as `wangxun jobs` would
    sched.shutdown(wait=True)
    return app


# ---------------------------------------------------------------- the walk


def _names() -> set[str]:
    """Every name and message id of the vocabulary: never data, whatever column stores it."""
    out: set[str] = set()
    for value in vars(vocabulary).values():
        if isinstance(value, Mapping):
            out.update(v for v in value.values() if isinstance(v, str))
        elif isinstance(value, tuple):
            out.update(v for v in value if isinstance(v, str))
    return out


def _data(cfg) -> tuple[str, ...]:
    """The strings users and crawls put in the database (every text column and JSON value of every
    table), longest first, without the vocabulary's names (stored as words, shown translated)."""
    found: set[str] = set()

    def walk(value):
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)

    with db.session_scope(cfg) as s:
        for table in Base.metadata.sorted_tables:
            for row in s.execute(table.select()):
                for value in row:
                    walk(value)
    with SOURCES_FILE.open("rb") as f:  # a crawl source by its description: configuration, shown as written
        found.update(src.get("description", "") for src in tomllib.load(f).get("sources", []))
    # A language is named in its own language (core.vocabulary.LANGUAGE): 中文 on an English page too.
    found.update(getattr(vocabulary, "LANGUAGE", {}).values())
    names = _names() - set(getattr(vocabulary, "LANGUAGE", {}).values())
    return tuple(sorted((v for v in found if len(v) > 1 and v not in names and HAN.search(v)), key=len, reverse=True))


def _ids(cfg) -> dict[str, list[int]]:
    with db.session_scope(cfg) as s:
        return {
            "hit_id": list(s.scalars(select(Hit.id))),
            "clue_id": list(s.scalars(select(Clue.id))),
            "venue_id": list(s.scalars(select(Venue.id))),
            "grid_id": list(s.scalars(select(Grid.id))),
            "draw_id": list(s.scalars(select(SpotCheckDraw.id))),
            "ss_id": list(s.scalars(select(SavedSearch.id))),
        }


# Pages with query strings the url_map does not show (results, filters, mistakes).
EXTRA = [
    "/search?q=盗版",
    "/search?q=",
    "/search?q=label:旅行社 platform:shop",
    '/search?q="未闭合',
    "/triage?group=0",
    "/triage?sort=date&order=asc",
    "/clues?status=all",
    "/clues?status=closed",
    "/ledgers/venues?expiry=expired",
    "/ledgers/venues?grade=D&sort=expiry",
    "/ledgers/inspections?subject=venue",
    "/admin/?action=login",
    "/ledgers/venues?page=x",
    "/nowhere",
]


def _urls(app, ids: dict[str, list[int]]) -> Iterator[str]:
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
                continue
            args = set(rule.arguments)
            if args - set(ids) or "." in rule.rule.rsplit("/", 1)[-1]:
                continue  # a file (name, format, .zip) or a step: not a page
            combos = [{}]
            for arg in sorted(args):
                combos = [dict(c, **{arg: v}) for c in combos for v in ids[arg]]
            for values in combos:
                yield url_for(rule.endpoint, **values)
    yield from EXTRA


def _walk(app, username: str, locale: str, ids, data) -> tuple[list[str], int]:
    client = app.test_client()
    assert login(client, username, PASSWORD).status_code == 302
    home = client.get("/clues")
    r = client.post("/settings/locale", data={"locale": locale, "next": "/clues", "csrf_token": csrf_from(home.text)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/clues")
    found, pages = [], 0
    for url in _urls(app, ids):
        r = client.get(url)
        if r.status_code in (301, 302) or not r.mimetype == "text/html":
            continue
        pages += 1
        assert f'lang="{"zh-CN" if locale == "zh_CN" else "en"}"' in r.text[:200], url
        found += [f"{username} {locale} {url} [{r.status_code}]: {p}" for p in problems(r.text, locale, data)]
    if username in ("admin", "patrol"):  # a page a POST answers: the bulk action's confirmation
        token = csrf_from(client.get("/triage").text)
        for action in ("confirm", "dismiss", "transfer"):
            body = {"action": action, "hit_ids": ids["hit_id"], "reason": "批量测试", "authority": "杭州市执法队"}
            r = client.post("/triage/bulk", data={**body, "csrf_token": token})
            assert r.status_code == 200 and 'id="bulk-confirm"' in r.text, (action, r.status_code)
            pages += 1
            found += [f"{username} {locale} POST /triage/bulk {action}: {p}" for p in problems(r.text, locale, data)]
    return found, pages


@pytest.mark.parametrize("locale", LOCALES)
def test_every_page_as_every_role_shows_names_not_codes(cfg, walk_world, locale):
    ids, data = _ids(cfg), _data(cfg)
    found, walked = [], 0
    for username in ROLES:
        f, pages = _walk(walk_world, username, locale, ids, data)
        found += f
        walked += pages
    anon = walk_world.test_client()
    if locale == "zh_CN":  # anonymous pages are Chinese
        for url in ("/login", f"/public/draws/{ids['draw_id'][0]}"):
            r = anon.get(url)
            found += [f"anonymous {url}: {p}" for p in problems(r.text, "zh_CN")]
    assert walked > 60
    unique = sorted(set(found))
    # One line per problem, with the first page it was seen on, then the count of pages.
    first: dict[str, str] = {}
    for line in unique:
        where, problem = line.split(": ", 1)
        first.setdefault(problem, where)
    report = [f"{p}  (e.g. {w})" for p, w in sorted(first.items())]
    assert report == [], f"{len(report)} problems on {walked} pages:\n" + "\n".join(report[:200])


def test_the_walker_sees_codes_english_and_chinese():
    """The checks themselves: each kind of problem is found, data and literal syntax are not."""
    assert problems("<td>shop</td>", "zh_CN") and problems("<td>shop</td>", "en")
    assert problems("<p>状态：illegal_publication</p>", "en")
    assert problems("<p>Status: new hit</p>", "zh_CN")
    assert problems('<input placeholder="关键词">', "en")
    assert problems("<p>研判台</p>", "en")
    assert not problems('<span translate="no">平江网吧</span>', "en")
    assert not problems('<code translate="no">platform:shop status:new</code>', "zh_CN")
    assert not problems("<p>下载 PDF、CSV、Excel，SHA-256 3fa9b2c1，https://example.test/shop/item</p>", "zh_CN")
    assert not problems("<script>var x = '中文 new';</script><p>Triage</p>", "en")
    assert not problems("<p>Dismissed: 旅游攻略</p>", "en", known_data=("旅游攻略",))
    assert problems("<p>已排除：旅游攻略</p>", "en", known_data=("旅游攻略",))
    assert problems('<span translate="no">wechat_search</span>', "en")  # codes are checked in data too
    assert problems("<p>%(n)s hits</p>", "en")
    assert problems('<input placeholder="Keywords; see "Query syntax" below">', "en")
