"""The frontier journal: a killed run resumes with exactly its unfinished requests; an ended run
makes the next one start over (a re-crawl for changes)."""

from crawlers.frontier import Frontier


def _spec(url):
    return {"url": url, "kind": "wechat_article", "depth": 1}


def test_resume_after_kill_keeps_only_unfinished_requests(tmp_path):
    f = Frontier(tmp_path).open()
    for i in range(4):
        assert f.enqueued(f"fp{i}", _spec(f"http://a.example/{i}"))
    assert not f.enqueued("fp0", _spec("http://a.example/0"))
    f.done("fp0", "http://a.example/0")
    f.done("fp2", "http://a.example/2")
    run = f.run_id
    # No close(), no end(): what a SIGKILL leaves behind (lines are flushed as written).
    g = Frontier(tmp_path).open()
    assert g.resumed and g.run_id == run
    assert set(g.pending) == {"fp1", "fp3"}
    assert g.pending["fp1"]["url"] == "http://a.example/1"
    assert not g.enqueued("fp0", _spec("http://a.example/0"))  # finished before the kill
    assert g.done_count == 2 and g.done_by_domain == {"a.example": 2}


def test_a_torn_last_line_is_ignored(tmp_path):
    f = Frontier(tmp_path).open()
    f.enqueued("fp1", _spec("http://a.example/1"))
    f.close()
    with (tmp_path / "journal.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"op":"done","fp":"fp1"')  # killed mid-write
    g = Frontier(tmp_path).open()
    assert set(g.pending) == {"fp1"}


def test_an_ended_run_is_followed_by_a_fresh_one(tmp_path):
    f = Frontier(tmp_path).open()
    f.enqueued("fp1", _spec("http://a.example/1"))
    f.done("fp1", "http://a.example/1")
    f.end("finished")
    g = Frontier(tmp_path).open()
    assert not g.resumed and g.run_id != f.run_id
    assert g.enqueued("fp1", _spec("http://a.example/1"))  # re-visited to look for changes


def test_fresh_discards_an_unfinished_run(tmp_path):
    f = Frontier(tmp_path).open()
    f.enqueued("fp1", _spec("http://a.example/1"))
    f.close()
    g = Frontier(tmp_path).open(fresh=True)
    assert not g.resumed and g.pending == {}


def test_done_lines_from_a_page_worker_count_on_resume(tmp_path):
    from crawlers.frontier import append_done

    f = Frontier(tmp_path).open()
    f.enqueued("fp1", _spec("http://a.example/1"))
    f.enqueued("fp2", _spec("http://a.example/2"))
    append_done(f.path, "fp1", "http://a.example/1")  # as a worker does after its commit
    f.forget("fp1", "http://a.example/1")
    assert set(f.pending) == {"fp2"}
    g = Frontier(tmp_path).open()
    assert g.resumed and set(g.pending) == {"fp2"}


def test_the_journal_dupefilter_schedules_once_and_counts_what_it_filters(tmp_path):
    from types import SimpleNamespace

    from scrapy import Request
    from scrapy.utils.test import get_crawler

    from crawlers.middlewares import JournalDupeFilter

    crawler = get_crawler()
    crawler.spider = SimpleNamespace(frontier=Frontier(tmp_path / "j").open())
    crawler.stats.open_spider()
    dupefilter = JournalDupeFilter.from_crawler(crawler)
    first, again = (
        Request("http://127.0.0.1/a", meta={"crawl_spec": _spec("http://127.0.0.1/a")}),
        Request("http://127.0.0.1/a"),
    )
    assert dupefilter.request_seen(first) is False and first.meta["journal_fp"]
    assert dupefilter.request_seen(again) is True
    dupefilter.log(again, crawler.spider)  # what Scrapy's scheduler calls for a filtered request
    assert crawler.stats.get_value("dupefilter/filtered") == 1
    assert first.meta["journal_fp"] in crawler.spider.frontier.pending


def test_a_full_disk_stops_the_crawl_once_and_loses_only_the_line(tmp_path, monkeypatch):
    import errno
    import os

    f = Frontier(tmp_path).open()
    f.enqueued("fp1", _spec("http://a.example/1"))
    calls = []
    f.on_disk_full = lambda: calls.append(1)
    real_write = os.write

    def full(fd, data):
        if fd == f._fd:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full)
    f.enqueued("fp2", _spec("http://a.example/2"))
    f.done("fp1", "http://a.example/1")
    monkeypatch.setattr(os, "write", real_write)
    f.close()  # nothing buffered: closing does not fail again
    assert calls == [1] and f.disk_full
    g = Frontier(tmp_path).open()  # the journal as the OS has it: fp1 still open, fp2 never written
    assert set(g.pending) == {"fp1"}


def test_a_redirect_target_is_followed_by_one_request_of_the_run(tmp_path):
    """Two search results leading to one article fetch it once; the request that claimed it may follow
    it again (a retry), and a URL scheduled as a request of its own is never a redirect target."""
    f = Frontier(tmp_path).open()
    f.enqueued("own", _spec("http://a.example/own"))
    assert f.claim_redirect("target", "link1") is True
    assert f.claim_redirect("target", "link2") is False
    assert f.claim_redirect("target", "link1") is True
    assert f.claim_redirect("own", "link3") is False
