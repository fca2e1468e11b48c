"""The case-officer package: WARC, files, manifest, Chinese summary, PDF, zip and audit row."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from core import db
from core.errors import UserError
from core.models import AuditLog, Evidence
from evidence import export_hit, record_fetch
from tests.conftest import CHROMIUM, make_config
from tests.evidence.test_evidence import make_fetch, make_page_hit, stored_path, tiny_png
from tests.helpers import make_clue, make_page_version


@pytest.fixture
def cfg(tmp_path, database_url):
    """Like the shared cfg (either engine), but without printing PDFs (one test below launches
    Chromium on purpose)."""
    c = make_config(tmp_path, **{"evidence.write_pdf": False, "core.database_url": database_url()})
    yield c
    db.dispose(c)


@pytest.fixture
def hit_id(cfg):
    """A hit whose page version has two evidence records (the export must take the newer one)."""
    with db.session_scope(cfg) as session:
        pv = make_page_version(session, 7)
        record_fetch(session, cfg, pv.id, make_fetch(6))
        record_fetch(session, cfg, pv.id, make_fetch(7, with_screenshot=True))
        hit = make_page_hit(session, pv)
        make_clue(session, hit, case_no="苏姑文执罚〔2026〕12号")
        return hit.id


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_export_writes_every_file_with_matching_hashes_and_a_zip(cfg, hit_id, tmp_path):
    folder = export_hit(cfg, hit_id, tmp_path / "out", officer="王执法")
    names = {p.name for p in folder.iterdir()}
    assert names == {
        "evidence.warc.gz",
        "screenshot.png",
        "text.txt",
        "headers.json",
        "response_body.html.txt",  # the raw body, never opened as a page (#12 finding 17)
        "safe_view.html",
        "summary.html",
        "manifest.json",
    }
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert {f["name"] for f in manifest["files"]} == names - {"manifest.json"}
    for f in manifest["files"]:
        assert (sha256(folder / f["name"]), (folder / f["name"]).stat().st_size) == (f["sha256"], f["size"])
    assert (folder / "screenshot.png").read_bytes() == tiny_png()
    assert (folder / "text.txt").read_text(encoding="utf-8") == make_fetch(7).text
    with zipfile.ZipFile(folder.with_name(folder.name + ".zip")) as zf:
        assert {Path(n).name for n in zf.namelist() if not n.endswith("/")} == names
        assert zf.read(f"{folder.name}/manifest.json") == (folder / "manifest.json").read_bytes()


def test_manifest_carries_the_chain_record_labels_and_reasons(cfg, hit_id, tmp_path):
    folder = export_hit(cfg, hit_id, tmp_path, officer="王执法")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    with db.session_scope(cfg) as session:
        newest = session.scalars(select(Evidence).order_by(Evidence.seq.desc())).first()
    assert manifest["evidence"]["record_hash"] == newest.record_hash
    assert manifest["evidence"]["record"]["seq"] == 2
    assert manifest["evidence"]["record"]["prev_hash"] == newest.prev_hash
    assert manifest["hit"]["labels"] == ["unlicensed_travel"]
    assert manifest["hit"]["reasons"][0]["code"] == "TRAVEL_NO_LICENCE"
    assert manifest["hit"]["case_no"] == "苏姑文执罚〔2026〕12号"
    assert manifest["officer"] == "王执法"
    assert manifest["pdf"] == {"written": False, "note": "summary.pdf not written: disabled by evidence.write_pdf"}


def test_warc_holds_request_response_resources_and_metadata_matching_the_manifest(cfg, hit_id, tmp_path):
    folder = export_hit(cfg, hit_id, tmp_path, officer="王执法")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    by_type = {r["type"]: r for r in manifest["warc_records"] if r["type"] not in ("resource",)}
    seen = []
    with open(folder / "evidence.warc.gz", "rb") as fh:
        for record in ArchiveIterator(fh):
            payload = record.content_stream().read()
            seen.append((record.rec_type, record.rec_headers.get_header("WARC-Target-URI"), payload, record))
    assert [s[0] for s in seen] == ["warcinfo", "request", "response", "resource", "resource", "metadata"]
    request, response = seen[1], seen[2]
    assert hashlib.sha256(request[2]).hexdigest() == by_type["request"]["payload_sha256"]
    assert hashlib.sha256(response[2]).hexdigest() == by_type["response"]["payload_sha256"]
    assert response[2] == make_fetch(7).body
    assert by_type["response"]["payload_sha256"] == manifest["evidence"]["record"]["files"]["body"]["sha256"]
    assert response[1] == "https://example.test/p/7"
    assert request[3].http_headers.protocol == "GET"
    assert request[3].http_headers.get_header("User-Agent") == "Mozilla/5.0 (wangxun test)"
    http_headers = response[3].http_headers
    assert http_headers.get_statuscode() == "200"
    assert [v for k, v in http_headers.headers if k == "Set-Cookie"] == ["a=1; Path=/", "b=2; Path=/"]
    # The body was kept decoded, so the wire-encoding header is marked rather than replayed.
    assert http_headers.get_header("X-Wangxun-Decoded-Content-Encoding") == "gzip"
    assert http_headers.get_header("Content-Encoding") is None
    assert seen[3][2] == tiny_png() and seen[4][2] == make_fetch(7).text.encode("utf-8")
    metadata = json.loads(seen[5][2])
    assert metadata["record_hash"] == manifest["evidence"]["record_hash"]
    # warcio's own checker recomputes every block and payload digest written into the file.
    check = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", "-v", str(folder / "evidence.warc.gz")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("digest pass") == 6


def test_summary_is_a_printable_chinese_extraction_record(cfg, hit_id, tmp_path):
    folder = export_hit(cfg, hit_id, tmp_path, officer="王执法")
    html = (folder / "summary.html").read_text(encoding="utf-8")
    for heading in (
        "电子数据提取笔录",
        "案由",
        "线索编号",
        "提取时间",
        "北京时间",
        "UTC",
        "提取方法与工具",
        "原始网址",
        "跳转后网址",
        "文件清单与 SHA-256 校验值",
        "页面截图",
        "提取的文本摘录",
        "检测结论与理由",
        "提取人",
        "见证人",
        "日期",
    ):
        assert heading in html, heading
    assert "涉嫌未经许可经营旅行社业务" in html and "招揽出境团队游" in html
    assert "王执法" in html and "苏姑文执罚〔2026〕12号" in html and "WX-" in html
    assert "2026-05-04 10:37:15" in html  # fetched 02:37:15 UTC, shown in Beijing time
    assert "http://example.test/post/7" in html and "https://example.test/p/7" in html
    assert "@page" in html and "@media print" in html and 'src="screenshot.png"' in html
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for f in manifest["files"]:
        if f["name"] not in ("summary.html", "summary.pdf"):
            assert f["sha256"] in html, f["name"]


def test_every_export_writes_an_audit_row_and_never_overwrites(cfg, hit_id, tmp_path):
    first = export_hit(cfg, hit_id, tmp_path, officer="王执法")
    second = export_hit(cfg, hit_id, tmp_path, officer="李执法")
    assert first != second and first.exists() and second.exists()
    with db.session_scope(cfg) as session:
        rows = session.scalars(select(AuditLog).order_by(AuditLog.id)).all()
    assert [(r.action, r.object_type, r.object_id, r.username) for r in rows] == [
        ("export", "hit", str(hit_id), "王执法"),
        ("export", "hit", str(hit_id), "李执法"),
    ]
    assert rows[0].detail["zip_sha256"] == sha256(first.with_name(first.name + ".zip"))
    assert rows[0].detail["seq"] == 2


def test_unknown_hit_and_hit_without_evidence_are_user_errors(cfg, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(UserError, match="hit 999 does not exist"):
        export_hit(cfg, 999, out, officer="王执法")
    with db.session_scope(cfg) as session:
        bare = make_page_hit(session, make_page_version(session, 1)).id
    with pytest.raises(UserError, match="没有固定的证据"):
        export_hit(cfg, bare, out, officer="王执法")
    assert not out.exists()


def test_tampered_evidence_is_refused_and_leaves_no_package(cfg, hit_id, tmp_path):
    with db.session_scope(cfg) as session:
        ev = session.scalars(select(Evidence).where(Evidence.seq == 2)).one()
    path = stored_path(cfg, ev, "screenshot")
    data = bytearray(path.read_bytes())
    data[-12] ^= 0xFF
    path.write_bytes(bytes(data))
    out = tmp_path / "out"
    with pytest.raises(UserError, match="record seq 2 .*file screenshot"):
        export_hit(cfg, hit_id, out, officer="王执法")
    assert not out.exists() or list(out.iterdir()) == []


def test_pdf_skipped_with_a_note_when_chromium_is_missing(tmp_path, database_url):
    cfg = make_config(
        tmp_path, **{"evidence.chromium_path": str(tmp_path / "no-chromium"), "core.database_url": database_url()}
    )
    with db.session_scope(cfg) as session:
        pv = make_page_version(session)
        record_fetch(session, cfg, pv.id, make_fetch(1))
        hit = make_page_hit(session, pv).id
    folder = export_hit(cfg, hit, tmp_path / "out", officer="王执法")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert not (folder / "summary.pdf").exists()
    assert manifest["pdf"]["written"] is False and "Chromium not found" in manifest["pdf"]["note"]
    db.dispose(cfg)


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no system Chromium")
def test_pdf_printed_with_chromium_when_available(tmp_path, database_url):
    cfg = make_config(tmp_path, **{"evidence.chromium_path": CHROMIUM, "core.database_url": database_url()})
    with db.session_scope(cfg) as session:
        pv = make_page_version(session)
        record_fetch(session, cfg, pv.id, make_fetch(1, with_screenshot=True))
        hit = make_page_hit(session, pv).id
    folder = export_hit(cfg, hit, tmp_path / "out", officer="王执法")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    pdf = folder / "summary.pdf"
    assert manifest["pdf"] == {"written": True, "note": None}
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert {"name": "summary.pdf", "size": pdf.stat().st_size, "sha256": sha256(pdf)} in manifest["files"]
    db.dispose(cfg)


def test_http2_fetch_exports_a_valid_warc_with_spelled_out_protocol(cfg, tmp_path):
    with db.session_scope(cfg) as session:
        pv = make_page_version(session, 2)
        record_fetch(
            session, cfg, pv.id, make_fetch(2, protocol="h2", request_headers={"Accept-Language": ["zh-CN", "zh"]})
        )
        hit = make_page_hit(session, pv).id
    folder = export_hit(cfg, hit, tmp_path, officer="王执法")
    with open(folder / "evidence.warc.gz", "rb") as fh:
        records = {r.rec_type: r.http_headers for r in ArchiveIterator(fh) if r.http_headers}
    assert records["response"].protocol == "HTTP/2"
    assert records["request"].statusline == "/p/2 HTTP/2"
    assert [v for k, v in records["request"].headers if k == "Accept-Language"] == ["zh-CN", "zh"]
    check = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", str(folder / "evidence.warc.gz")], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert json.loads((folder / "headers.json").read_text(encoding="utf-8"))["protocol"] == "h2"


def test_summary_lists_a_reason_found_in_title_and_text_once(cfg, tmp_path):
    """The detectors record a reason once per field it was found in; the 提取笔录 lists it once (#15)."""
    reason = {"label": "illegal_publication", "code": "piracy_terms", "text": "盗版/高仿/翻印：「高仿」"}
    with db.session_scope(cfg) as session:
        pv = make_page_version(session, 8)
        record_fetch(session, cfg, pv.id, make_fetch(8))
        hit = make_page_hit(
            session,
            pv,
            reasons=[{**reason, "field": "title", "spans": [[0, 2]]}, {**reason, "field": "text", "spans": [[0, 2]]}],
        )
        hit_id = hit.id
    html = (export_hit(cfg, hit_id, tmp_path, officer="王执法") / "summary.html").read_text(encoding="utf-8")
    assert html.count("盗版/高仿/翻印：「高仿」") == 1
