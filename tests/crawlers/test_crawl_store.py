"""The page store: versions, unchanged pages, gone pages, hits with evidence and outbox rows,
all-or-nothing transactions, a typed outcome, and each journal entry closed once per stored page."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
from scrapy.utils.test import get_crawler
from sqlalchemy import func, select

from core import db
from core.models import Evidence, Hit, Page, PageVersion, SearchOutbox
from crawlers import store
from crawlers.frontier import Frontier
from crawlers.items import PageItem
from crawlers.parsers import ParsedPage
from crawlers.store import Outcome, PageStore
from crawlers.worker import PageWorker
from detection import Detector
from evidence import FetchRecord

TRAVEL = "苏州周边纯玩跟团游，298元/人包车包门票，无需旅行社资质，报名加微信 zhoubian888，拼团满20人发车。"
PLAIN = "平江路的秋天很美，周末去喝了一杯咖啡，推荐大家去走走。"


def item(text=PLAIN, title="周末随笔", state="ok", url="https://mp.example/s/abc", journal_fp=""):
    parsed = ParsedPage(
        kind="wechat_article",
        url=url,
        state=state,
        title=title if state == "ok" else "",
        account="苏州周边游" if state == "ok" else None,
        text=text if state == "ok" else "",
    )
    fetch = FetchRecord(
        url=url,
        final_url=url,
        status=200,
        body=f"<html>{title}{text}</html>".encode(),
        text=parsed.text,
        fetched_at_utc=dt.datetime.now(dt.timezone.utc),
    )
    return PageItem(
        url=url,
        source="src",
        platform="wechat",
        kind="wechat_article",
        parsed=parsed,
        fetch=fetch,
        journal_fp=journal_fp,
    )


@pytest.fixture
def detector(cfg):
    return Detector.from_config(cfg)


@pytest.fixture
def broken_evidence(monkeypatch):
    """Evidence files that cannot be written: a hit fails after its page, version and hit rows."""

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store, "append_record", broken)
    return monkeypatch


def count(cfg, model):
    with db.session_scope(cfg) as s:
        return s.scalar(select(func.count(model.id)))


def test_same_content_only_moves_last_seen(cfg, detector):
    assert store.store_page(cfg, detector, item()) is Outcome.NEW_VERSION
    with db.session_scope(cfg) as s:
        first_seen = s.scalar(select(Page.last_seen))
    assert store.store_page(cfg, detector, item()) is Outcome.UNCHANGED
    with db.session_scope(cfg) as s:
        page = s.scalar(select(Page))
        assert page.last_seen >= first_seen and page.first_seen <= first_seen
    assert count(cfg, PageVersion) == 1 and count(cfg, Page) == 1


def test_changed_content_makes_a_new_version_and_runs_detection_again(cfg, detector):
    assert store.store_page(cfg, detector, item(PLAIN)) is Outcome.NEW_VERSION
    assert store.store_page(cfg, detector, item(TRAVEL, title="纯玩跟团游报名")) is Outcome.HIT
    with db.session_scope(cfg) as s:
        page = s.scalar(select(Page))
        versions = s.scalars(select(PageVersion).order_by(PageVersion.id)).all()
        hit = s.scalar(select(Hit))
        assert len(versions) == 2 and page.latest_version_id == versions[1].id
        assert hit.page_version_id == versions[1].id and "unlicensed_travel" in hit.labels
        assert hit.score == max(hit.scores.values()) and hit.reasons
        evidence = s.scalar(select(Evidence))
        assert evidence.page_version_id == versions[1].id and evidence.url == page.url
        assert s.scalar(select(SearchOutbox.hit_id)) == hit.id


def test_gone_pages_are_state_not_content_and_never_hits(cfg, detector):
    store.store_page(cfg, detector, item(TRAVEL, title="纯玩跟团游报名"))
    assert store.store_page(cfg, detector, item(state="deleted")) is Outcome.GONE
    with db.session_scope(cfg) as s:
        assert s.scalar(select(Page.state)) == "deleted"
    assert count(cfg, PageVersion) == 1 and count(cfg, Hit) == 1  # the earlier version stays
    assert store.store_page(cfg, detector, item(state="expired", url="https://mp.example/s/new")) is Outcome.GONE
    assert count(cfg, PageVersion) == 1 and count(cfg, Page) == 2


@pytest.mark.parametrize(
    "state, outcome", [("unknown_layout", Outcome.UNKNOWN_LAYOUT), ("needs_render", Outcome.NEEDS_RENDER)]
)
def test_pages_no_layout_reads_are_counted_under_their_own_names_never_content_or_hits(cfg, detector, state, outcome):
    store.store_page(cfg, detector, item(TRAVEL, title="纯玩跟团游报名"))
    page = item(TRAVEL, title="纯玩跟团游报名", state=state)
    page.parsed.extra["reason"] = "a layout no parser knows"
    assert store.store_page(cfg, detector, page) is outcome
    assert outcome.stat == f"wangxun/{state}" and outcome.stored
    with db.session_scope(cfg) as s:
        assert s.scalar(select(Page.state)) == state
    assert count(cfg, PageVersion) == 1 and count(cfg, Hit) == 1  # the earlier version stays; no new hit
    fresh = item(TRAVEL, title="纯玩跟团游报名", state=state, url="https://mp.example/s/other")
    assert store.store_page(cfg, detector, fresh) is outcome
    assert count(cfg, PageVersion) == 1 and count(cfg, Hit) == 1 and count(cfg, Page) == 2


def test_the_account_subject_goes_to_the_detector():
    page = item()
    page.parsed.extra.update({"page_type": "account_info", "subject": "苏州某某国际旅行社有限公司"})
    assert store.post_for(page)["account_subject"] == "苏州某某国际旅行社有限公司"
    assert store.post_for(item())["account_subject"] == ""


def test_a_failure_mid_page_leaves_no_half_record(cfg, detector, broken_evidence):
    with pytest.raises(OSError):
        store.store_page(cfg, detector, item(TRAVEL, title="纯玩跟团游报名"))
    for model in (Page, PageVersion, Hit, Evidence, SearchOutbox):
        assert count(cfg, model) == 0, model.__name__
    broken_evidence.undo()
    assert store.store_page(cfg, detector, item(TRAVEL, title="纯玩跟团游报名")) is Outcome.HIT


def test_classification_done_in_the_spider_is_used(cfg, detector):
    it = item(PLAIN)
    it.detection = {
        "labels": ["illegal_publication"],
        "scores": {"illegal_publication": 0.9},
        "reasons": [],
        "location": {},
    }
    assert store.store_page(cfg, detector, it) is Outcome.HIT
    with db.session_scope(cfg) as s:
        assert s.scalar(select(Hit.labels)) == ["illegal_publication"]


def test_the_outcome_is_typed_and_names_the_summary_counters(cfg, detector, broken_evidence):
    """Every path returns an Outcome member, never a string to check by prefix; a failure is an
    outcome too (store_item does not raise), and each member counts under the stat the summary reads."""
    names = ("new_version", "hits", "unchanged", "gone", "unknown_layout", "needs_render", "errors", "disk_full")
    assert {o.stat for o in Outcome} == {f"wangxun/{k}" for k in names}
    outcomes = [
        store.store_item(cfg, detector, item(PLAIN)),
        store.store_item(cfg, detector, item(PLAIN)),
        store.store_item(cfg, detector, item(state="deleted", url="https://mp.example/s/gone")),
        store.store_item(cfg, detector, item(TRAVEL, title="纯玩跟团游报名", url="https://mp.example/s/hit")),
    ]
    assert outcomes == [Outcome.NEW_VERSION, Outcome.UNCHANGED, Outcome.GONE, Outcome.FAILED]
    assert all(type(o) is Outcome for o in outcomes)
    assert [o.stored for o in outcomes] == [True, True, True, False]


# ---------------------------------------------------------------- journal entries


@pytest.fixture
def pages(cfg, tmp_path):
    """A crawl process's page store: a journal, a thread page worker, Scrapy's stats."""
    crawler = get_crawler()
    crawler.stats.open_spider()
    frontier = Frontier(tmp_path / "journal").open()
    worker = PageWorker(cfg, processes=0)
    yield PageStore(crawler, frontier, worker)
    worker.close()
    frontier.close()


def enqueue(pages: PageStore, *fps: str) -> None:
    for fp in fps:
        assert pages.frontier.enqueued(fp, {"url": f"https://mp.example/s/{fp}", "kind": "wechat_article"})


def done_lines(pages: PageStore) -> list[str]:
    """The fingerprint of every done line in the journal file, in order."""
    lines = [json.loads(line) for line in pages.frontier.path.read_text(encoding="utf-8").splitlines()]
    return [rec["fp"] for rec in lines if rec["op"] == "done"]


def test_each_stored_page_closes_its_journal_entry_exactly_once(pages):
    enqueue(pages, "a", "b", "c")
    stored = [
        item(PLAIN, url="https://mp.example/s/a", journal_fp="a"),
        item(PLAIN, url="https://mp.example/s/a", journal_fp="b"),  # the same page again: unchanged
        item(state="deleted", url="https://mp.example/s/c", journal_fp="c"),
    ]

    async def run():
        return [await pages.store(it) for it in stored]

    assert asyncio.run(run()) == [Outcome.NEW_VERSION, Outcome.UNCHANGED, Outcome.GONE]
    assert sorted(done_lines(pages)) == ["a", "b", "c"]  # written by the page worker, after each commit
    assert pages.frontier.pending == {}  # and dropped from the crawl process's memory, not written again
    pages.close("a", "https://mp.example/s/a")  # a later close of a closed entry writes nothing
    assert sorted(done_lines(pages)) == ["a", "b", "c"]
    stats = pages.stats
    assert stats.get_value("wangxun/pages") == 3 and stats.get_value("wangxun/errors") is None


def test_layout_states_are_counted_for_stored_pages_and_for_listings(pages):
    enqueue(pages, "odd", "shell")
    odd = item(state="unknown_layout", url="https://mp.example/s/odd", journal_fp="odd")
    shell = item(state="needs_render", url="https://mp.example/s/shell", journal_fp="shell")

    async def run():
        return [await pages.store(odd), await pages.store(shell)]

    assert asyncio.run(run()) == [Outcome.UNKNOWN_LAYOUT, Outcome.NEEDS_RENDER]
    pages.count_layout("needs_render")  # a search page that is a shell: a listing, not stored
    pages.count_layout("ok")  # other states are not layout problems
    stats = pages.stats
    assert stats.get_value("wangxun/unknown_layout") == 1 and stats.get_value("wangxun/needs_render") == 2
    assert stats.get_value("wangxun/pages") == 2 and sorted(done_lines(pages)) == ["odd", "shell"]


def test_a_failed_store_closes_no_entry(pages, broken_evidence):
    enqueue(pages, "hit")
    outcome = asyncio.run(pages.store(item(TRAVEL, title="纯玩跟团游报名", journal_fp="hit")))
    assert outcome is Outcome.FAILED
    assert done_lines(pages) == [] and "hit" in pages.frontier.pending  # fetched again on resume
    assert pages.stats.get_value("wangxun/errors") == 1 and pages.stats.get_value("wangxun/pages") is None
    assert Frontier(pages.frontier.directory).open().pending.keys() == {"hit"}


def test_a_listings_pages_close_its_entry_once_after_the_last_commit_and_only_if_all_were_stored(pages, monkeypatch):
    enqueue(pages, "listing", "broken-listing")
    first = [item(PLAIN, url=f"https://mp.example/s/{i}", journal_fp="listing") for i in range(3)]
    asyncio.run(pages.store_all(first, "listing", "https://mp.example/list"))
    assert done_lines(pages) == ["listing"] and pages.stats.get_value("wangxun/pages") == 3

    real = store.store_page

    def fails_on_one(cfg, detector, it):
        if it.url.endswith("/1"):
            raise OSError("disk full")
        return real(cfg, detector, it)

    monkeypatch.setattr(store, "store_page", fails_on_one)
    second = [item(PLAIN, url=f"https://mp.example/s/{i}", journal_fp="broken-listing") for i in range(3)]
    asyncio.run(pages.store_all(second, "broken-listing", "https://mp.example/list2"))
    assert done_lines(pages) == ["listing"] and "broken-listing" in pages.frontier.pending
    assert pages.stats.get_value("wangxun/errors") == 1


def test_an_empty_listing_and_a_request_given_up_are_closed_in_the_crawl_process(pages):
    enqueue(pages, "empty", "failed", "robots")
    asyncio.run(pages.store_all([], "empty", "https://mp.example/empty"))
    pages.give_up("failed", "https://mp.example/failed", skipped=False)
    pages.give_up("robots", "https://mp.example/robots", skipped=True)
    assert done_lines(pages) == ["empty", "failed", "robots"] and pages.frontier.pending == {}
    assert pages.stats.get_value("wangxun/errors") == 1 and pages.stats.get_value("wangxun/skipped") == 1


def test_only_the_page_store_closes_journal_entries():
    """The journal's done lines are written in one module: no other crawler module calls
    Frontier.done/forget, mark_done or append_done (the duplicate filter only opens entries; the shared
    frontier's scheduler only pops)."""
    import ast
    from pathlib import Path

    import crawlers

    package = Path(crawlers.__file__).parent
    callers = set()
    for path in package.rglob("*.py"):
        if path.name in ("store.py", "frontier.py", "frontier_redis.py") or "parsers" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = ast.unparse(func.value) if isinstance(func, ast.Attribute) else ""
            if name in ("append_done", "mark_done", "ack") or (name in ("done", "forget") and "frontier" in owner):
                callers.add(f"{path.relative_to(package)}:{node.lineno}")
    assert not callers, callers


def test_the_crawl_summary_reports_layout_states(pages):
    """The summary line counts pages no layout reads and script shells apart, so a redesign shows the
    day it happens (and the jobs page shows them for crawl runs)."""
    from types import SimpleNamespace

    from crawlers import runner

    for stat in ("wangxun/unknown_layout", "wangxun/unknown_layout", "wangxun/needs_render", "wangxun/gone"):
        pages.stats.inc_value(stat)
    source = SimpleNamespace(name="shop_search", obey_robots=True)
    frontier = SimpleNamespace(resumed=False, run_id="r1")
    summary = runner._summary(source, pages.stats.get_stats(), "finished", frontier)
    assert (summary["unknown_layout"], summary["needs_render"], summary["gone"]) == (2, 1, 1)
    empty = runner._summary(source, {}, "finished", frontier)
    assert empty["unknown_layout"] == 0 and empty["needs_render"] == 0


def test_a_full_disk_is_its_own_outcome_without_a_traceback(cfg, detector, monkeypatch, caplog):
    """ENOSPC (or SQLite's "database or disk is full") stops the crawl once, instead of a traceback per page."""
    import errno

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "append_record", full)
    outcome = store.store_item(cfg, detector, item(TRAVEL, title="纯玩跟团游报名", url="https://mp.example/s/full"))
    assert outcome is Outcome.DISK_FULL and not outcome.stored
    assert "Traceback" not in caplog.text and "could not store" not in caplog.text
    assert count(cfg, Hit) == 0  # all or nothing, as for any failure
