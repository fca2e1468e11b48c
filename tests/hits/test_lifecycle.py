"""A hit's whole life, from the crawl's page store to deletion: after every step the search index
(fed only through the outbox) agrees with the database on status, grid and labels.

Runs on SQLite with the embedded backend; the scale-out issue runs it on PostgreSQL too."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

import search
from core import db
from core.errors import UserError
from core.models import Hit, SearchOutbox, User
from core.vocabulary import HIT_LABELS, HIT_STATUSES
from crawlers import store
from crawlers.items import PageItem
from crawlers.parsers import ParsedPage
from detection import Detector
from evidence import FetchRecord
from hits import clues
from hits.lifecycle import change_hit, delete_hit
from search import outbox
from tests.helpers import make_grid, make_hit, make_user

OFFER = "苏州周边纯玩跟团游，298元/人包车包门票，无需旅行社资质，报名加微信 zhoubian888，拼团满20人发车。"


def _crawled(cfg, n: int) -> int:
    """A hit stored the way a crawl stores it (the page store's own transaction)."""
    url = f"https://mp.example/s/{n}"
    parsed = ParsedPage(
        kind="wechat_article", url=url, state="ok", title=f"跟团游{n}", account="苏州周边游", text=OFFER
    )
    fetch = FetchRecord(
        url=url,
        final_url=url,
        status=200,
        body=OFFER.encode(),
        text=OFFER,
        fetched_at_utc=dt.datetime.now(dt.timezone.utc),
    )
    item = PageItem(url=url, source="src", platform="wechat", kind="wechat_article", parsed=parsed, fetch=fetch)
    assert store.store_page(cfg, Detector.from_config(cfg), item) is store.Outcome.HIT
    with db.session_scope(cfg) as s:
        return s.scalar(select(Hit.id).where(Hit.url == url))


def _agree(cfg) -> None:
    """Drain the outbox, then ask the index what the database says, field by field."""
    outbox.drain(cfg)
    assert outbox.pending(cfg) == 0
    with db.session_scope(cfg) as s:
        hits = {h.id: (h.status, h.grid_id, tuple(sorted(h.labels))) for h in s.scalars(select(Hit))}
    assert search.get_backend(cfg).count() == len(hits)
    for status in HIT_STATUSES:
        want = sorted(i for i, (st, _, _) in hits.items() if st == status)
        assert _ids(cfg, f"status:{status}") == want, status
    for label in HIT_LABELS:
        want = sorted(i for i, (_, _, labels) in hits.items() if label in labels)
        assert _ids(cfg, f"label:{label}") == want, label
    for grid_id in {g for _, g, _ in hits.values() if g is not None}:
        want = sorted(i for i, (_, g, _) in hits.items() if g == grid_id)
        assert _ids(cfg, "", grid_ids={grid_id}) == want, grid_id


def _ids(cfg, query: str, grid_ids=None) -> list[int]:
    result = search.search(cfg, query or "status:new,clue,dismissed", grid_ids=grid_ids)
    return sorted(h.id for h in result.hits)


def test_every_change_reaches_the_index(cfg):
    with db.session_scope(cfg) as s:
        west = make_grid(s, bounds=(120.60, 31.30, 120.61, 31.31)).id
        east = make_grid(s, bounds=(120.61, 31.30, 120.62, 31.31)).id
        patrol = make_user(s, role="patrol").id
    first, second, third = (_crawled(cfg, n) for n in range(3))
    _agree(cfg)

    with db.session_scope(cfg) as s:  # triage: confirm routes to a grid, dismiss needs a reason
        clues.confirm_hit(s, first, s.get(User, patrol), grid_id=west)
        clues.dismiss_hit(s, second, s.get(User, patrol), "正规旅行社转载")
    _agree(cfg)

    with db.session_scope(cfg) as s:  # reassigned to another grid, and relabelled
        change_hit(s, s.get(Hit, first), grid_id=east)
        change_hit(s, s.get(Hit, third), labels=["unlicensed_travel", "illegal_publication"], grid_id=west)
    _agree(cfg)

    with db.session_scope(cfg) as s:
        delete_hit(s, s.get(Hit, second))
    _agree(cfg)


def test_a_rolled_back_change_queues_nothing(cfg):
    hit_id = _crawled(cfg, 1)
    with db.session_scope(cfg) as s:  # the crawl queued the new hit, in its own transaction
        queued = s.scalars(select(SearchOutbox.id)).all()
    assert len(queued) == 1
    with pytest.raises(UserError), db.session_scope(cfg) as s:
        change_hit(s, s.get(Hit, hit_id), status="dismissed", dismiss_reason="误报")
        raise UserError("the caller's transaction fails after the change")
    with db.session_scope(cfg) as s:
        assert s.get(Hit, hit_id).status == "new"
        assert s.scalars(select(SearchOutbox.id)).all() == queued


def test_changes_are_checked_and_an_unchanged_value_queues_nothing(session):
    grid = make_grid(session)
    hit = make_hit(session, grid)
    queued = len(session.scalars(select(SearchOutbox)).all())
    assert change_hit(session, hit, grid_id=grid.id) == {}
    assert len(session.scalars(select(SearchOutbox)).all()) == queued
    with pytest.raises(UserError):
        change_hit(session, hit, status="maybe")
    with pytest.raises(UserError):
        change_hit(session, hit, labels=["spam"])
    with pytest.raises(UserError):
        change_hit(session, hit, grid_id=999_999)
    with pytest.raises(ValueError):
        change_hit(session, hit, text="fixed at detection")
    assert change_hit(session, hit, status="dismissed", dismiss_reason="误报") == {
        "status": ("new", "dismissed"),
        "dismiss_reason": (None, "误报"),
    }
