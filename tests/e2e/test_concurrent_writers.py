"""Two crawls and the web app writing to one database at once, on SQLite and on PostgreSQL.

The two crawls are two sources with the same searches, so they reach the same articles at the same
time and race to store each one (the page, its version, its hit, its evidence record), the way two
crawl machines without a shared frontier would. Meanwhile two officers in the web app confirm every
hit that appears, both at once. Afterwards no row is lost or duplicated: every article is one page
with one version, one hit per hit version, one evidence record per hit in one unbroken chain, one
clue per hit, and the two crawls' counts add up to what is stored.

On PostgreSQL the crawls' page store takes no file lock (that is SQLite's way to order its writers,
crawlers/store.py WriteTurn): the unique constraints, the chain's advisory lock and the row lock on
a hit being triaged are what keep the rows right, as they must be across machines.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from core import db
from core.models import Clue, Evidence, Hit, Page, PageVersion
from crawlers.summary import parse_summary_line
from evidence import verify
from samplesite.server import start
from tests.e2e.crawl_helpers import E2E_SOURCES, crawl_env, start_crawl
from tests.e2e.test_crawl import expected_articles
from tests.helpers import make_grid, make_user
from webmap import create_app

pytestmark = [pytest.mark.both_engines, pytest.mark.slow, pytest.mark.timeout(600)]
PASSWORD = "secret-pass"
OFFICERS = ("officer_a", "officer_b")


def _sources_file(tmp_path):
    """The e2e sources plus a twin of wechat_e2e: same searches, another name (its own journal and run lock)."""
    text = E2E_SOURCES.read_text(encoding="utf-8")
    start_of = text.index('[[sources]]\nname = "wechat_e2e"')
    end_of = text.index("[[sources]]", start_of + 1)
    twin = text[start_of:end_of].replace('name = "wechat_e2e"', 'name = "wechat_e2e_twin"')
    path = tmp_path / "sources.toml"
    path.write_text(text + "\n" + twin, encoding="utf-8")
    return path


class Officers:
    """Two logged-in officers who confirm each new hit at the same moment, until told to stop."""

    def __init__(self, cfg, grid_id: int):
        self.app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, config=cfg)
        self.cfg, self.grid_id = cfg, grid_id
        self.answers: Counter = Counter()  # HTTP status → how many
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self._run)

    def _client(self, username):
        client = self.app.test_client()
        assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
        return client

    def _confirm_together(self, clients, hit_id: int) -> None:
        together = threading.Barrier(len(clients))

        def one(client):
            together.wait()
            r = client.post(f"/api/hits/{hit_id}/confirm", json={"grid_id": self.grid_id})
            self.answers[r.status_code] += 1
            r.close()

        threads = [threading.Thread(target=one, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)

    def _run(self) -> None:
        try:
            clients = [self._client(u) for u in OFFICERS]
            done: set[int] = set()
            while True:
                last_round = self.stop.is_set()
                with db.session_scope(self.cfg) as s:
                    new = [h for h in s.scalars(select(Hit.id).order_by(Hit.id)) if h not in done]
                for hit_id in new:
                    self._confirm_together(clients, hit_id)
                    done.add(hit_id)
                if last_round:
                    return
                self.stop.wait(0.2)
        except Exception as exc:  # noqa: BLE001 - reported by the test, not lost in a thread
            self.errors.append(repr(exc))


def test_two_crawls_and_the_web_app_writing_at_once_lose_and_double_nothing(cfg, tmp_path):
    with db.session_scope(cfg) as s:
        grid = make_grid(s).id
        for name in OFFICERS:
            make_user(s, username=name, role="patrol", password=PASSWORD)
    sources = _sources_file(tmp_path)
    with start(latency_ms=20) as site:
        env = crawl_env(
            tmp_path,
            site.url,
            database_url=cfg.database_url,
            WANGXUN_CRAWL__SOURCES_FILE=str(sources),
        )
        officers = Officers(cfg, grid)
        officers.thread.start()
        crawls = [start_crawl(source, env) for source in ("wechat_e2e", "wechat_e2e_twin")]
        try:
            outputs = [c.communicate(timeout=400) for c in crawls]
        finally:
            for c in crawls:
                if c.poll() is None:
                    c.kill()
            officers.stop.set()
            officers.thread.join(timeout=300)
        expected = expected_articles(site)
    assert not officers.errors, officers.errors
    for crawl, (_out, err) in zip(crawls, outputs, strict=True):
        assert crawl.returncode == 0, err[-3000:]
    summaries = [parse_summary_line(out) for out, _ in outputs]
    assert all(s["errors"] == 0 for s in summaries), (summaries, [err[-4000:] for _, err in outputs])

    with db.session_scope(cfg) as s:
        pages = Counter(s.scalars(select(Page.url)))
        versions = Counter(s.scalars(select(PageVersion.page_id)))
        hit_versions = Counter(s.scalars(select(Hit.page_version_id)))
        evidence = Counter(s.scalars(select(Evidence.page_version_id)))
        clues_per_hit = Counter(s.scalars(select(Clue.hit_id)))
        hits = s.scalar(select(func.count(Hit.id)))
        statuses = set(s.scalars(select(Hit.status)))
        content_urls = set(s.scalars(select(Page.url).join(PageVersion, PageVersion.page_id == Page.id)))
    # Every article reached, each stored once (the twin found it stored, or lost the race and retried).
    assert set(expected) <= set(pages) and max(pages.values()) == 1
    assert content_urls and max(versions.values()) == 1
    assert sum(s["new_versions"] for s in summaries) == sum(versions.values())  # nothing counted twice or lost
    assert sum(s["hits"] for s in summaries) == hits > 0
    assert max(hit_versions.values()) == 1 and set(evidence) == set(hit_versions) and max(evidence.values()) == 1
    report = verify(cfg, progress=False)
    assert report.ok, report.problems[:5]
    # The officers: each hit became one clue, once; the other officer was told it already was one.
    assert statuses == {"clue"} and set(clues_per_hit.values()) == {1} and len(clues_per_hit) == hits
    assert officers.answers[201] == hits, officers.answers
    assert sum(officers.answers.values()) == 2 * hits, officers.answers
