"""End to end: the sample site on a free port, `python -m crawlers SOURCE` in a subprocess, and the
store checked afterwards — pages, versions, evidence, hits; re-crawls; a kill and a resume.

`crawled` is the fixture to extend: it yields the Config of a database that one full crawl filled
(search API and map assertions can be added on top of it).
"""

from __future__ import annotations

import signal
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from core import db
from core.models import Evidence, Hit, Page, PageVersion, SearchOutbox
from samplesite.server import start
from tests.conftest import ENGINES
from tests.e2e.crawl_helpers import (
    assert_closed_exactly_once,
    crawl_env,
    e2e_config,
    journal_path,
    read_journal,
    run_crawl,
    start_crawl,
)
from tests.faults.killpoints import kill_point

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600), pytest.mark.both_engines]
KEYWORDS = ("跟团", "盗版")
RESULTS_PER_KEYWORD = 20  # two Sogou pages of ten (max_list_pages = 2)
GONE = {"deleted", "violation", "expired", "unavailable"}
# A sample-site latency no crawl outlasts: set while a crawl runs, every response from then on is held.
HELD_MS = 900_000


def expected_articles(site) -> dict[str, dict]:
    """URL → post of every article the wechat_e2e crawl must reach."""
    posts = {}
    for kw in KEYWORDS:
        for post in site.state.store.search("wechat", kw)[:RESULTS_PER_KEYWORD]:
            posts[site.url + f"/s/{post['key']}"] = post
    return posts


@pytest.fixture(scope="module")
def site():
    with start() as s:
        yield s


@pytest.fixture
def db_url(db_engine, database_url):
    """ "" (the data_dir's SQLite file, which the crawl creates) or a fresh PostgreSQL database: every
    test here that takes it runs on both (tests/conftest.py)."""
    return "" if db_engine == "sqlite" else database_url()


@pytest.fixture(scope="module", params=ENGINES)
def crawled(request, site, tmp_path_factory):
    """(cfg, env, summary) after one complete crawl of wechat_e2e, into SQLite and into PostgreSQL."""
    tmp = tmp_path_factory.mktemp("crawled")
    databases = request.getfixturevalue("pg_databases") if request.param == "postgresql" else None
    url = databases.create() if databases else ""
    env = crawl_env(tmp, site.url, url)
    code, summary, err = run_crawl("wechat_e2e", env)
    assert code == 0, err[-3000:]
    assert_closed_exactly_once(journal_path(tmp, "wechat_e2e"))
    cfg = e2e_config(tmp, site.url, url)
    yield cfg, env, summary
    db.dispose(cfg)
    if databases:
        databases.drop(url)


def test_crawl_stores_expected_pages_versions_evidence_and_hits(crawled, site):
    cfg, _env, summary = crawled
    expected = expected_articles(site)
    assert summary["state"] == "finished" and summary["errors"] == 0
    with db.session_scope(cfg) as s:
        pages = {p.url: p for p in s.scalars(select(Page).where(Page.source == "wechat_e2e"))}
        assert set(expected) <= set(pages)
        for url, post in expected.items():
            versions = s.scalars(select(PageVersion).where(PageVersion.page_id == pages[url].id)).all()
            if post.get("status", "ok") in GONE:
                assert versions == [] and pages[url].state != "ok", url  # gone pages are state, not content
            else:
                assert len(versions) == 1 and versions[0].title == post["title"], url
                assert pages[url].latest_version_id == versions[0].id
        hits = s.scalars(select(Hit).where(Hit.source == "wechat_e2e")).all()
        assert hits and len(hits) == summary["hits"]
        for hit in hits:
            evidence = s.scalars(select(Evidence).where(Evidence.page_version_id == hit.page_version_id)).all()
            assert len(evidence) == 1 and {"body", "headers", "text"} <= set(evidence[0].files)
            assert hit.labels and hit.url in expected
        flagged = {
            u for u, p in expected.items() if {"unlicensed_travel", "illegal_publication"} & set(p["expected_labels"])
        }
        assert len(flagged & {h.url for h in hits}) >= len(flagged) * 0.6  # detector recall on this set
        assert s.scalar(select(func.count(SearchOutbox.id))) <= len(hits)  # queued, or already indexed


def test_recrawl_touches_unchanged_pages_and_versions_changed_ones(crawled, site):
    cfg, env, first = crawled
    code, again, err = run_crawl("wechat_e2e", env)
    assert code == 0, err[-3000:]
    assert again["new_versions"] == 0 and again["unchanged"] == first["new_versions"]
    url, post = next((u, p) for u, p in expected_articles(site).items() if p.get("status", "ok") == "ok")
    site.edit(post["id"], text=post["text"] + "\n新增：报名请加微信，包车跟团一价全含。")
    try:
        code, third, err = run_crawl("wechat_e2e", env)
    finally:
        site.edit(post["id"], text=post["text"])
    assert code == 0, err[-3000:]
    assert third["new_versions"] == 1
    with db.session_scope(cfg) as s:
        page = s.scalar(select(Page).where(Page.url == url))
        versions = s.scalars(select(PageVersion).where(PageVersion.page_id == page.id).order_by(PageVersion.id)).all()
        assert len(versions) == 2 and "包车跟团" in versions[1].text
        assert page.latest_version_id == versions[1].id and page.last_seen >= versions[1].fetched_at


def test_listing_api_items_are_stored_as_pages(site, tmp_path, db_url):
    env = crawl_env(tmp_path, site.url, db_url)
    code, summary, err = run_crawl("kongfz_e2e", env)
    assert code == 0, err[-3000:]
    cfg = e2e_config(tmp_path, site.url, db_url)
    expected = site.state.store.search("kongfz", "影印")[:40]
    with db.session_scope(cfg) as s:
        urls = set(s.scalars(select(Page.url).where(Page.source == "kongfz_e2e")))
    assert summary["pages"] == len(expected) == len(urls)
    assert all(f"/kongfz/book/{p['account']['id']}/{p['key']}" in " ".join(urls) for p in expected)
    assert_closed_exactly_once(journal_path(tmp_path, "kongfz_e2e"))  # each listing once, after its items
    db.dispose(cfg)


def test_killed_crawl_resumes_and_stores_every_page_exactly_once(tmp_path, db_url):
    # Slow responses, so the crawl is still early on when the test sees its first stored articles.
    with start(latency_ms=60) as site:
        env = crawl_env(tmp_path, site.url, db_url)
        cfg = e2e_config(tmp_path, site.url, db_url)
        journal = journal_path(tmp_path, "wechat_e2e")
        expected = expected_articles(site)
        proc = start_crawl("wechat_e2e", env)
        # A random point between the first few articles and half of them (the seed replays it).
        at_least, note = kill_point("crawl_articles", 8, max(8, len(expected) // 2))
        _wait_for_stored_articles(journal, proc, at_least=at_least)
        # From here on the site holds every response, so the crawl cannot get further than the pages
        # already on their way, however fast or slow this machine is: the kill lands midway.
        site.state.latency_ms = HELD_MS
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        site.state.latency_ms = 0
        killed = read_journal(journal)
        stored = killed.done_of_kind("wechat_article")
        assert at_least <= len(stored) < len(expected) and killed.open, "the kill must land midway; " + note
        with db.session_scope(cfg) as s:
            committed = set(s.scalars(select(Page.url)))
        code, summary, err = run_crawl("wechat_e2e", env)
        assert code == 0, note + "\n" + err[-3000:]
        assert summary["resumed"] is True and summary["state"] == "finished", note
        fetched = Counter({path: n for path, n in site.stats()["paths"].items() if path.startswith("/s/")})
    # Across the kill, every request the run scheduled was closed once: nothing done twice, nothing lost.
    resumed = assert_closed_exactly_once(journal)
    assert stored <= resumed.done_of_kind("wechat_article")
    with db.session_scope(cfg) as s:
        pages = Counter(s.scalars(select(Page.url).where(Page.source == "wechat_e2e")))
        per_page = Counter(s.scalars(select(Page.url).join(PageVersion, PageVersion.page_id == Page.id)))
    assert set(expected) <= set(pages) and max(pages.values()) == 1
    assert max(per_page.values()) == 1  # exactly one version per page across the kill
    assert len(fetched) == len(expected)
    # Pages not committed at the kill must be fetched again; a committed page is fetched again only
    # if the kill fell between its commit and its journal line (at most one per page worker).
    needless = {path for path, n in fetched.items() if n > 1 and site.url + path in committed}
    assert len(needless) <= 2, needless
    db.dispose(cfg)


def _wait_for_stored_articles(journal, proc, at_least: int) -> None:
    """Poll the running crawl's journal until `at_least` articles are stored and closed (bounded)."""
    for _ in range(2400):
        if proc.poll() is not None:
            raise AssertionError("crawl ended before it could be killed: " + proc.stderr.read()[-2000:])
        if len(read_journal(journal).done_of_kind("wechat_article")) >= at_least:
            return
        time.sleep(0.05)
    raise AssertionError(f"the crawl closed fewer than {at_least} articles in its journal")


@pytest.mark.browser
def test_rendered_pages_keep_a_full_page_screenshot(site, tmp_path, db_url):
    env = crawl_env(tmp_path, site.url, db_url)
    code, summary, err = run_crawl("goofish_e2e", env)
    assert code == 0, err[-3000:]
    cfg = e2e_config(tmp_path, site.url, db_url)
    with db.session_scope(cfg) as s:
        versions = s.scalars(select(PageVersion).join(Page).where(Page.source == "goofish_e2e")).all()
        assert len(versions) == summary["new_versions"] >= 10
        assert all(v.title and v.text for v in versions)  # content exists only after JavaScript ran
        evidence = s.scalars(select(Evidence)).all()
        assert evidence and len(evidence) == summary["hits"]
        assert all("screenshot" in e.files for e in evidence)
    db.dispose(cfg)


def test_rate_limited_site_is_waited_for_not_given_up(tmp_path, db_url):
    # 5 requests/s per client with Retry-After: 1; the crawl asks for 4 at a time without delay.
    with start(rate_limit=5) as site:
        env = crawl_env(tmp_path, site.url, db_url)
        code, summary, err = run_crawl("wechat_e2e", env)
        statuses = site.stats()["statuses"]
    assert code == 0, err[-3000:]
    assert summary["state"] == "finished" and summary["errors"] == 0
    assert statuses.get("429", 0) > 0  # the limit was hit …
    cfg = e2e_config(tmp_path, site.url, db_url)
    with db.session_scope(cfg) as s:  # … and every page still arrived
        assert set(expected_articles(site)) <= set(s.scalars(select(Page.url))), summary
    db.dispose(cfg)


def test_captcha_wall_stops_the_source_and_is_never_stored(tmp_path, db_url):
    # The Sogou look-alike sends every client to its antispider page after 6 searches/link clicks.
    with start(captcha_after=6, captcha_window_s=600) as site:
        env = crawl_env(tmp_path, site.url, db_url)
        code, summary, err = run_crawl("wechat_e2e", env)
    assert code == 3 and summary["state"] == "captcha", err[-3000:]
    assert summary["captcha"] >= 3
    cfg = e2e_config(tmp_path, site.url, db_url)
    with db.session_scope(cfg) as s:
        urls = s.scalars(select(Page.url)).all()
        assert not any("antispider" in u for u in urls)
        assert s.scalar(select(func.count(PageVersion.id)).where(PageVersion.title.contains("验证"))) == 0
    # The stopped run is resumed next time, not started over.
    assert (tmp_path / "var" / "crawl" / "wechat_e2e" / "journal.jsonl").read_text().count('"op":"end"') == 0
    db.dispose(cfg)
