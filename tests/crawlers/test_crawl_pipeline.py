"""The store pipeline: versions, unchanged pages, gone pages, hits with evidence and outbox rows, and
all-or-nothing transactions."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from core import db
from core.models import Evidence, Hit, Page, PageVersion, SearchOutbox
from crawlers import pipelines
from crawlers.items import PageItem
from crawlers.parsers import ParsedPage
from detection import Detector
from evidence import FetchRecord

TRAVEL = "苏州周边纯玩跟团游，298元/人包车包门票，无需旅行社资质，报名加微信 zhoubian888，拼团满20人发车。"
PLAIN = "平江路的秋天很美，周末去喝了一杯咖啡，推荐大家去走走。"


def item(text=PLAIN, title="周末随笔", state="ok", url="https://mp.example/s/abc"):
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
    return PageItem(url=url, source="src", platform="wechat", kind="wechat_article", parsed=parsed, fetch=fetch)


@pytest.fixture
def detector(cfg):
    return Detector.from_config(cfg)


def count(cfg, model):
    with db.session_scope(cfg) as s:
        return s.scalar(select(func.count(model.id)))


def test_same_content_only_moves_last_seen(cfg, detector):
    assert pipelines.store_page(cfg, detector, item()) == "new_version"
    with db.session_scope(cfg) as s:
        first_seen = s.scalar(select(Page.last_seen))
    assert pipelines.store_page(cfg, detector, item()) == "unchanged"
    with db.session_scope(cfg) as s:
        page = s.scalar(select(Page))
        assert page.last_seen >= first_seen and page.first_seen <= first_seen
    assert count(cfg, PageVersion) == 1 and count(cfg, Page) == 1


def test_changed_content_makes_a_new_version_and_runs_detection_again(cfg, detector):
    assert pipelines.store_page(cfg, detector, item(PLAIN)) == "new_version"
    assert pipelines.store_page(cfg, detector, item(TRAVEL, title="纯玩跟团游报名")) == "hits"
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
    pipelines.store_page(cfg, detector, item(TRAVEL, title="纯玩跟团游报名"))
    assert pipelines.store_page(cfg, detector, item(state="deleted")) == "gone"
    with db.session_scope(cfg) as s:
        assert s.scalar(select(Page.state)) == "deleted"
    assert count(cfg, PageVersion) == 1 and count(cfg, Hit) == 1  # the earlier version stays
    assert pipelines.store_page(cfg, detector, item(state="expired", url="https://mp.example/s/new")) == "gone"
    assert count(cfg, PageVersion) == 1 and count(cfg, Page) == 2


def test_a_failure_mid_page_leaves_no_half_record(cfg, detector, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pipelines, "append_record", broken)  # after the page, version and hit rows
    with pytest.raises(OSError):
        pipelines.store_page(cfg, detector, item(TRAVEL, title="纯玩跟团游报名"))
    for model in (Page, PageVersion, Hit, Evidence, SearchOutbox):
        assert count(cfg, model) == 0, model.__name__
    monkeypatch.undo()
    assert pipelines.store_page(cfg, detector, item(TRAVEL, title="纯玩跟团游报名")) == "hits"


def test_classification_done_in_the_spider_is_used(cfg, detector):
    it = item(PLAIN)
    it.detection = {
        "labels": ["illegal_publication"],
        "scores": {"illegal_publication": 0.9},
        "reasons": [],
        "location": {},
    }
    assert pipelines.store_page(cfg, detector, it) == "hits"
    with db.session_scope(cfg) as s:
        assert s.scalar(select(Hit.labels)) == ["illegal_publication"]
