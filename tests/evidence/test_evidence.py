"""Evidence recording and the hash chain: record, verify clean, and detect each kind of tampering."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import multiprocessing
import struct
import threading
import zlib

import pytest
from sqlalchemy import delete, select, update

from core import db
from core.models import Evidence, Hit, PageVersion
from evidence import FetchRecord, chain, record_fetch, store, verify
from tests.conftest import make_config
from tests.helpers import make_hit, make_page_version

FETCHED = dt.datetime(2026, 5, 4, 2, 30, 15, 123456, tzinfo=dt.timezone.utc)


# ---------------------------------------------------------------- builders (used by the other evidence tests)


def tiny_png(rgb=(200, 30, 30)) -> bytes:
    """A valid 2x2 PNG, built by hand so tests need no imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes(rgb) * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def make_fetch(n: int = 1, with_screenshot: bool = False, **kw) -> FetchRecord:
    body = f"<html><head><title>出境游{n}</title></head><body>港澳台团队游报名 {n}</body></html>".encode()
    values = dict(
        url=f"http://example.test/post/{n}",
        final_url=f"https://example.test/p/{n}",
        status=200,
        request_headers={"User-Agent": "Mozilla/5.0 (wangxun test)", "Accept": "text/html"},
        response_headers={
            "Content-Type": "text/html; charset=utf-8",
            "Content-Encoding": "gzip",
            "Content-Length": "17",
            "Set-Cookie": ["a=1; Path=/", "b=2; Path=/"],
        },
        body=body,
        text=f"出境游{n}\n港澳台团队游报名 {n}",
        fetched_at_utc=FETCHED + dt.timedelta(minutes=n),
        screenshot=tiny_png() if with_screenshot else None,
        crawler="scrapy 2.19 (test)",
    )
    values.update(kw)
    return FetchRecord(**values)


# The travel-agency finding every evidence test's hit carries (the export's summary quotes it).
TRAVEL_REASONS = [
    {
        "label": "unlicensed_travel",
        "code": "TRAVEL_NO_LICENCE",
        "text": "招揽出境团队游，页面无旅行社业务经营许可证编号",
        "spans": [[0, 3]],
    }
]


def make_page_hit(session, pv: PageVersion, **kw) -> Hit:
    """The hit detected on page version `pv`, written through tests.helpers.make_hit (hits.lifecycle)."""
    values = dict(platform="web", score=0.92, reasons=TRAVEL_REASONS)
    values.update(kw)
    return make_hit(session, page_version=pv, **values)


def record_chain(cfg, count: int = 3, screenshot: bool = False) -> list[Evidence]:
    """`count` page versions, each with one evidence record, committed."""
    with db.session_scope(cfg) as session:
        return [
            record_fetch(session, cfg, make_page_version(session, n).id, make_fetch(n, with_screenshot=screenshot))
            for n in range(1, count + 1)
        ]


def stored_path(cfg, ev: Evidence, role: str):
    return store.evidence_dir(cfg) / ev.files[role]["path"]


# ---------------------------------------------------------------- recording


def test_record_fetch_stores_compressed_files_and_links_the_chain(cfg):
    records = record_chain(cfg, 3, screenshot=True)
    assert [ev.seq for ev in records] == [1, 2, 3]
    assert records[0].prev_hash == chain.GENESIS_HASH
    assert [ev.prev_hash for ev in records[1:]] == [ev.record_hash for ev in records[:2]]
    first = records[0]
    assert set(first.files) == {"body", "headers", "text", "screenshot"}
    body = make_fetch(1).body
    assert first.files["body"]["sha256"] == hashlib.sha256(body).hexdigest()
    assert gzip.decompress(stored_path(cfg, first, "body").read_bytes()) == body
    assert first.url == "http://example.test/post/1" and first.final_url == "https://example.test/p/1"
    assert first.fetched_at_utc == dt.datetime(2026, 5, 4, 2, 31, 15, 123456)
    assert first.fetched_at_local == "2026-05-04T10:31:15.123456+08:00"
    assert first.record_hash == chain.record_hash(first)


def test_identical_bytes_are_stored_once(cfg):
    with db.session_scope(cfg) as session:
        pv = make_page_version(session)
        a = record_fetch(session, cfg, pv.id, make_fetch(1))
        b = record_fetch(session, cfg, pv.id, make_fetch(1))
    assert a.files["body"] == b.files["body"]
    assert a.record_hash != b.record_hash  # seq and prev_hash differ, so the records do
    assert len(list(store.evidence_dir(cfg).rglob("*.gz"))) == 3
    assert not list(store.evidence_dir(cfg).rglob("*.tmp"))


def test_parts_stored_together_are_deduplicated_and_each_readable(cfg):
    refs = store.put_many(cfg, [(b"same bytes", "text/plain"), (b"other", "text/plain"), (b"same bytes", "text/plain")])
    assert refs[0] == refs[2] and refs[0]["path"] != refs[1]["path"]
    assert [store.read_verified(cfg, r) for r in refs] == [b"same bytes", b"other", b"same bytes"]
    assert len(list(store.evidence_dir(cfg).rglob("*.gz"))) == 2


def test_a_failed_flush_leaves_neither_files_nor_temporaries(cfg, monkeypatch):
    def broken_fsync(fd):
        raise OSError("I/O error")

    monkeypatch.setattr(store.os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        store.put_many(cfg, [(b"body", "text/html"), (b"headers", "application/json")])
    assert not [p for p in store.evidence_dir(cfg).rglob("*") if p.is_file()]


def test_rolled_back_transaction_leaves_no_record(cfg):
    with pytest.raises(RuntimeError):
        with db.session_scope(cfg) as session:
            record_fetch(session, cfg, make_page_version(session).id, make_fetch(1))
            raise RuntimeError("crawl crashed before commit")
    report = verify(cfg, progress=False)
    assert report.ok and report.checked == 0
    assert record_chain(cfg, 1)[0].seq == 1


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(fetched_at_utc=dt.datetime(2026, 5, 4, 2, 30)), "timezone-aware"),
        (dict(screenshot=b"GIF89a not a png"), "not a PNG"),
        (dict(status=0), "not an HTTP status"),
        (dict(final_url=""), "must not be empty"),
    ],
)
def test_bad_fetch_records_are_rejected_with_a_clear_error(change, message):
    with pytest.raises(ValueError, match=message):
        make_fetch(1, **change)


@pytest.mark.parametrize(
    "change",
    [
        dict(request_headers={"User-Agent": b"scrapy"}),
        dict(response_headers={"Set-Cookie": [b"a=1"]}),
        dict(body="<html>not bytes</html>"),
    ],
)
def test_undecoded_headers_and_text_bodies_are_rejected(change):
    with pytest.raises(TypeError):
        make_fetch(1, **change)


# ---------------------------------------------------------------- verification and tampering


def test_verify_passes_on_a_clean_store(cfg):
    records = record_chain(cfg, 4, screenshot=True)
    report = verify(cfg, progress=False)
    assert report.ok, report.problems
    assert report.checked == 4 and report.files_checked == 16
    assert (report.head_seq, report.head_hash) == (4, records[-1].record_hash)


def test_one_flipped_byte_in_a_stored_file_fails_naming_the_record(cfg):
    records = record_chain(cfg, 3)
    path = stored_path(cfg, records[1], "body")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    report = verify(cfg, progress=False)
    assert not report.ok
    assert [(p.seq, p.evidence_id, p.what) for p in report.problems] == [(2, records[1].id, "file body")]
    assert "record seq 2" in str(report.problems[0])


def test_recompressed_altered_file_fails_on_its_sha256(cfg):
    # A careful forger rewrites valid gzip, so only the SHA-256 of the content can notice.
    records = record_chain(cfg, 3)
    path = stored_path(cfg, records[2], "text")
    altered = gzip.decompress(path.read_bytes()).replace("报名".encode(), "咨询".encode())
    path.write_bytes(gzip.compress(altered))
    problems = verify(cfg, progress=False).problems
    assert [(p.seq, p.what) for p in problems] == [(3, "file text")]
    assert "SHA-256 mismatch" in problems[0].detail


def test_missing_stored_file_fails_naming_the_record(cfg):
    records = record_chain(cfg, 2)
    stored_path(cfg, records[0], "headers").unlink()
    problems = verify(cfg, progress=False).problems
    assert [(p.seq, p.what) for p in problems] == [(1, "file headers")]


def test_edited_database_field_fails_naming_the_record(cfg):
    record_chain(cfg, 3)
    with db.session_scope(cfg) as session:  # tampering, on purpose past the evidence API
        session.execute(update(Evidence).where(Evidence.seq == 2).values(final_url="https://innocent.test/"))
    problems = verify(cfg, progress=False).problems
    assert [(p.seq, p.what) for p in problems] == [(2, "record_hash")]


def test_edited_field_with_recomputed_hash_breaks_the_next_link(cfg):
    record_chain(cfg, 3)
    with db.session_scope(cfg) as session:
        ev = session.scalars(select(Evidence).where(Evidence.seq == 2)).one()
        ev.status = 404
        ev.record_hash = chain.record_hash(ev)
    problems = verify(cfg, progress=False).problems
    assert [(p.seq, p.what) for p in problems] == [(3, "prev_hash")]


def test_deleted_middle_record_fails_naming_where(cfg):
    records = record_chain(cfg, 4)
    with db.session_scope(cfg) as session:  # tampering, on purpose past the evidence API
        session.execute(delete(Evidence).where(Evidence.seq == 2))
    problems = verify(cfg, progress=False).problems
    assert {(p.seq, p.evidence_id, p.what) for p in problems} == {
        (3, records[2].id, "seq"),
        (3, records[2].id, "prev_hash"),
    }
    assert "record seq 2 is missing" in str(problems[0])


def test_a_hit_whose_evidence_was_deleted_is_reported(cfg):
    """Deleting the newest record leaves the chain unbroken, but its hit has lost its evidence."""
    with db.session_scope(cfg) as session:
        versions = [make_page_version(session, n) for n in (1, 2)]
        for n, pv in enumerate(versions, start=1):
            record_fetch(session, cfg, pv.id, make_fetch(n))
        hits = [make_page_hit(session, pv).id for pv in versions]
    assert verify(cfg, progress=False).ok
    with db.session_scope(cfg) as session:  # tampering, on purpose past the evidence API
        session.execute(delete(Evidence).where(Evidence.seq == 2))
    problems = verify(cfg, progress=False).problems
    assert [(p.hit_id, p.what) for p in problems] == [(hits[1], "evidence")]
    assert str(problems[0]).startswith(f"hit {hits[1]}: evidence: no evidence record")


def test_file_reference_pointing_outside_the_store_is_a_problem_not_a_read(cfg):
    record_chain(cfg, 1)
    with db.session_scope(cfg) as session:
        ev = session.scalars(select(Evidence)).one()
        ev.files = {**ev.files, "body": {**ev.files["body"], "path": "../../../../etc/passwd"}}
    problems = verify(cfg, progress=False).problems
    assert ("file body", 1) in {(p.what, p.seq) for p in problems}
    assert any("outside the evidence store" in p.detail for p in problems)


# ---------------------------------------------------------------- concurrent appends


def _append_many(cfg, pv_ids: list[int], start: threading.Barrier | None = None) -> None:
    if start is not None:
        start.wait()
    for n, pv_id in enumerate(pv_ids):
        with db.session_scope(cfg) as session:
            record_fetch(session, cfg, pv_id, make_fetch(pv_id * 100 + n))


def _page_versions(cfg, count: int) -> list[int]:
    with db.session_scope(cfg) as session:
        return [make_page_version(session, n).id for n in range(count)]


def _assert_one_unbroken_chain(cfg, expected: int) -> None:
    report = verify(cfg, progress=False)
    assert report.ok, report.problems
    with db.session_scope(cfg) as session:
        assert session.scalars(select(Evidence.seq).order_by(Evidence.seq)).all() == list(range(1, expected + 1))


def test_two_threads_appending_at_once_do_not_fork_the_chain(cfg):
    ids = _page_versions(cfg, 16)
    start = threading.Barrier(2)
    threads = [threading.Thread(target=_append_many, args=(cfg, part, start)) for part in (ids[:8], ids[8:])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _assert_one_unbroken_chain(cfg, 16)


def _process_worker(data_dir: str, database_url: str, pv_ids: list[int]) -> None:
    from pathlib import Path

    cfg = make_config(Path(data_dir).parent, **{"core.database_url": database_url})
    _append_many(cfg, pv_ids)


def test_two_processes_appending_at_once_do_not_fork_the_chain(cfg):
    ids = _page_versions(cfg, 12)
    db.dispose(cfg)  # no pooled connection may cross into the children
    ctx = multiprocessing.get_context("spawn")
    args = (str(cfg.data_dir), cfg.core.database_url)
    workers = [ctx.Process(target=_process_worker, args=(*args, part)) for part in (ids[:6], ids[6:])]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert [w.exitcode for w in workers] == [0, 0]
    _assert_one_unbroken_chain(cfg, 12)
    db.dispose(cfg)


# ---------------------------------------------------------------- PostgreSQL


def test_postgresql_concurrent_appends_export_and_tamper_detection(pg_cfg, tmp_path):
    """PostgreSQL only, on purpose: the advisory lock, then an export and a tamper check on the same
    database (the tests above run on both engines too)."""
    from evidence import export_hit

    ids = _page_versions(pg_cfg, 16)
    start = threading.Barrier(2)
    threads = [threading.Thread(target=_append_many, args=(pg_cfg, part, start)) for part in (ids[:8], ids[8:])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _assert_one_unbroken_chain(pg_cfg, 16)
    with db.session_scope(pg_cfg) as session:
        hit_id = make_page_hit(session, session.get(PageVersion, ids[3])).id
        newest = session.scalars(select(Evidence).where(Evidence.page_version_id == ids[3])).one()
    folder = export_hit(pg_cfg, hit_id, tmp_path / "out", officer="王执法")
    assert newest.record_hash in (folder / "manifest.json").read_text(encoding="utf-8")
    with db.session_scope(pg_cfg) as session:  # tampering, on purpose past the evidence API
        session.execute(update(Evidence).where(Evidence.seq == 5).values(status=302))
    assert [(p.seq, p.what) for p in verify(pg_cfg, progress=False).problems] == [(5, "record_hash")]


# ---------------------------------------------------------------- anchoring across machines


def test_anchoring_waits_for_the_lock_that_machines_sharing_data_dir_share(cfg):
    """Crawl machines sharing data_dir append to one anchors file, and a file lock is not guaranteed
    across hosts. On PostgreSQL (what several machines share) the database's advisory lock orders
    the appends; on SQLite (one machine) the flock on the file does. Held by someone else, either
    makes anchor_head wait; released, the anchor is written and the file stays one valid chain."""
    import fcntl
    import os

    from sqlalchemy import text

    from evidence import anchor

    anchor.generate_key(cfg)
    record_chain(cfg, 3)
    anchor.anchor_head(cfg, "first")
    _append_many(cfg, _page_versions(cfg, 2))
    done = threading.Event()
    results: list[dict] = []

    def run():
        results.append(anchor.anchor_head(cfg, "second"))
        done.set()

    if cfg.database_url.startswith("postgresql"):
        engine = db.get_engine(cfg)
        holder = engine.connect()
        holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": anchor.ANCHOR_LOCK_KEY})
        release = lambda: holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": anchor.ANCHOR_LOCK_KEY})  # noqa: E731
        close = holder.close
    else:
        fd = os.open(anchor.anchors_path(cfg), os.O_RDWR)
        fcntl.flock(fd, fcntl.LOCK_EX)
        release = lambda: fcntl.flock(fd, fcntl.LOCK_UN)  # noqa: E731
        close = lambda: os.close(fd)  # noqa: E731
    try:
        worker = threading.Thread(target=run)
        worker.start()
        # Not a timing assertion: while the lock is held nothing can have been written, however long we look.
        assert not done.wait(2.0)
        assert len(anchor.anchors_path(cfg).read_text().splitlines()) == 1
        release()
        assert done.wait(60)
        worker.join(60)
    finally:
        close()
    assert results[0]["new"] and results[0]["n"] == 2
    assert verify(cfg, progress=False).ok
