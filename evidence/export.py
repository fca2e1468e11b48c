"""`export_hit`: the package a case officer files for one hit.

The package is built in a hidden temporary directory and renamed into place when complete, so an
interrupted export never leaves something that looks like a finished package. Earlier packages are
never overwritten: each export gets its own timestamped directory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import uuid
from importlib import metadata
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core import db
from core.config import Config
from core.errors import UserError
from core.i18n import N_, Msg
from core.models import AuditLog, Evidence
from evidence import anchor, chain, summary, warc
from evidence.bundle import Bundle, load_bundle

PACKAGE_FORMAT = "wangxun-evidence-package/1"
# The raw body keeps its bytes (they are the evidence; their SHA-256 is the chain's) under a name no
# browser or file manager renders as a page: a crawled page's scripts must not run on the officer's
# machine, nor its images and beacons tell the site that someone opened it. HTML and XML (which can
# pull in an XSLT that writes HTML) end in .txt and open as text; other types are .json, .txt or .bin.
_BODY_SUFFIXES = {
    "text/html": "html.txt",
    "application/xhtml+xml": "xhtml.txt",
    "application/json": "json",
    "text/plain": "txt",
    "application/xml": "xml.txt",
    "text/xml": "xml.txt",
}
RAW_BODY_LABEL = "服务器原始响应内容（原件，以文本形式保存；请勿改名后在浏览器中打开）"


def export_hit(cfg: Config, hit_id: int, out_dir: Path, officer: str = "") -> Path:
    """Write the package directory and <directory>.zip under out_dir; returns the directory."""
    exported_at = dt.datetime.now(dt.timezone.utc)
    with db.session_scope(cfg) as session:
        bundle = load_bundle(session, cfg, hit_id)
    covered = _covering_anchor(cfg, bundle.evidence.seq, hit_id)
    with db.session_scope(cfg) as session:
        head = chain.read_head(session)
        path = _chain_to(session, bundle.evidence.seq, covered[0]["seq"]) if covered else []
    out_dir.mkdir(parents=True, exist_ok=True)
    final = _free_name(
        out_dir,
        f"hit-{hit_id}-evidence-{bundle.evidence.seq}-"
        f"{exported_at.astimezone(ZoneInfo(cfg.core.timezone)):%Y%m%d-%H%M%S}",
    )
    tmp = out_dir / f".{final.name}.{uuid.uuid4().hex}.tmp"
    tmp.mkdir()
    try:
        manifest = _build(cfg, bundle, tmp, officer, exported_at, head, covered, path)
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    zip_path = _zip(final)
    _audit(cfg, hit_id, officer, bundle, final, zip_path, manifest)
    return final


def software_version() -> str:
    try:
        return metadata.version("wangxun")
    except metadata.PackageNotFoundError:
        return "unknown"


def _build(
    cfg: Config,
    bundle: Bundle,
    folder: Path,
    officer: str,
    exported_at: dt.datetime,
    head: dict[str, Any],
    covered: tuple[dict[str, Any], bytes] | None = None,
    path: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    version = software_version()
    files = _write_evidence_files(bundle, folder)
    records = warc.write_warc(folder / "evidence.warc.gz", bundle, f"Wangxun/{version} (网巡)")
    files.insert(0, _describe(folder / "evidence.warc.gz", "WARC 归档（请求、原始响应、截图、文本、哈希）"))
    (folder / "safe_view.html").write_text(summary.render_safe_view(cfg, bundle), encoding="utf-8")
    files.append(_describe(folder / "safe_view.html", "安全查看副本（提取的文本与截图，不含原页面的脚本与外部资源）"))
    anchor_info = _write_anchor(cfg, folder, covered, path or [])
    files += [_describe(folder / name, label) for name, label in anchor_info.pop("_files", [])]
    html = summary.render_summary(cfg, bundle, files, officer, exported_at, version, anchor_info)
    (folder / "summary.html").write_text(html, encoding="utf-8")
    pdf_note = summary.print_pdf(cfg, folder / "summary.html", folder / "summary.pdf")
    listed = files + [_describe(folder / "summary.html", "电子数据提取笔录（HTML）")]
    if pdf_note is None:
        listed.append(_describe(folder / "summary.pdf", "电子数据提取笔录（PDF）"))
    manifest = _manifest(bundle, listed, records, officer, exported_at, version, head, pdf_note)
    manifest["anchor"] = anchor_info
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return manifest


def raw_body_name(media_type: str) -> str:
    """The package's name for the raw body of this media type (see _BODY_SUFFIXES)."""
    return f"response_body.{_BODY_SUFFIXES.get(media_type.split(';')[0].strip().lower(), 'bin')}"


def _write_evidence_files(bundle: Bundle, folder: Path) -> list[dict[str, Any]]:
    content_type = bundle.evidence.files["body"].get("media_type", "")
    parts = [
        (raw_body_name(content_type), bundle.body, RAW_BODY_LABEL),
        (
            "headers.json",
            json.dumps(bundle.headers, ensure_ascii=False, indent=2).encode("utf-8"),
            "请求与响应头（原样）",
        ),
        ("text.txt", bundle.text, "提取的页面文本（UTF-8）"),
    ]
    if bundle.screenshot is not None:
        parts.insert(0, ("screenshot.png", bundle.screenshot, "整页截图（PNG）"))
    described = []
    for name, data, label in parts:
        (folder / name).write_bytes(data)
        described.append(_describe(folder / name, label))
    return described


def _covering_anchor(cfg: Config, seq: int, hit_id: int) -> tuple[dict[str, Any], bytes] | None:
    """The signed anchor that covers record `seq`; one is made now when none does yet and the key is
    there. None without a key (the manifest says so)."""
    try:
        covered = anchor.covering_anchor(cfg, seq)
        if covered is None and anchor.key_path(cfg).exists():
            anchor.anchor_head(cfg, f"export:hit-{hit_id}")
            covered = anchor.covering_anchor(cfg, seq)
    except anchor.AnchorError as exc:
        message = N_("发现 #%(id)s 的证据无法连同签名锚点导出：%(error)s")
        raise UserError(Msg(message, id=hit_id, error=str(exc))) from None
    return covered


def _chain_to(session, seq: int, anchored_seq: int) -> list[dict[str, Any]]:
    """The records from `seq` to the anchored head, each with its fields and hash: anyone can recompute
    every hash and link from the exported record to the signed head."""
    rows = session.scalars(
        select(Evidence).where(Evidence.seq >= seq, Evidence.seq <= anchored_seq).order_by(Evidence.seq)
    )
    out, prev = [], None
    for ev in rows:
        if chain.record_hash(ev) != ev.record_hash or (prev is not None and ev.prev_hash != prev):
            message = N_("证据记录 %(seq)s 的哈希或链接与记录不符，请运行 wangxun evidence verify")
            raise UserError(Msg(message, seq=ev.seq))
        out.append({"record": chain.chain_fields(ev), "record_hash": ev.record_hash})
        prev = ev.record_hash
    if len(out) != anchored_seq - seq + 1:
        message = N_("证据记录 %(first)s 至 %(last)s 之间有缺失，请运行 wangxun evidence verify")
        raise UserError(Msg(message, first=seq, last=anchored_seq))
    return out


def _write_anchor(
    cfg: Config, folder: Path, covered: tuple[dict[str, Any], bytes] | None, path: list[dict[str, Any]]
) -> dict[str, Any]:
    if covered is None:
        return {"note": f"证据链尚未锚定 not anchored: no key at {anchor.key_path(cfg)} (wangxun evidence keygen)"}
    a, line = covered
    (folder / "anchor.jsonl").write_bytes(line + b"\n")
    (folder / "anchor_public_key.pem").write_bytes(anchor.public_key_pem(anchor.load_public_key(cfg)))
    with open(folder / "chain_to_anchor.jsonl", "w", encoding="utf-8") as fh:
        for item in path:
            fh.write(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n")
    return {
        "n": a["n"],
        "seq": a["seq"],
        "head": a["head"],
        "at": a["at"],
        "key_id": a["key_id"],
        "reason": a["reason"],
        "files": ["anchor.jsonl", "anchor_public_key.pem", "chain_to_anchor.jsonl"],
        "how_to_check": (
            "anchor.jsonl is the signed line as written in the anchors file: its sig is Ed25519 over "
            "b'wangxun-evidence-anchor/1\\n' + the canonical JSON (sorted keys, no spaces) of every other "
            "field, checked with anchor_public_key.pem; chain_to_anchor.jsonl holds the records from this "
            "record to the anchored head, each hashing (SHA-256 of its canonical JSON) to record_hash and "
            "naming the previous one's hash as prev_hash"
        ),
        "_files": [
            ("anchor.jsonl", "证据链锚点（签名的链头）"),
            ("anchor_public_key.pem", "锚点签名公钥（Ed25519）"),
            ("chain_to_anchor.jsonl", "本记录至锚定链头的哈希链记录"),
        ],
    }


def _manifest(
    bundle: Bundle,
    files: list[dict[str, Any]],
    records: list[dict[str, Any]],
    officer: str,
    exported_at: dt.datetime,
    version: str,
    head: dict[str, Any],
    pdf_note: str | None,
) -> dict:
    hit, pv = bundle.hit, bundle.page_version
    return {
        "format": PACKAGE_FORMAT,
        "exported_at_utc": chain.utc_iso(exported_at),
        "officer": officer,
        "software": {"name": "wangxun", "version": version},
        "hit": {
            "id": hit.id,
            "url": hit.url,
            "title": hit.title,
            "account": hit.account,
            "source": hit.source,
            "platform": hit.platform,
            "labels": hit.labels,
            "cause": summary.cause_of(hit.labels),
            "score": hit.score,
            "scores": hit.scores,
            "reasons": hit.reasons,
            "status": hit.status,
            "case_no": bundle.case_no,
        },
        "page_version": {"id": pv.id, "page_id": pv.page_id, "content_sha256": pv.content_sha256} if pv else None,
        "evidence": {
            "id": bundle.evidence.id,
            "record": chain.chain_fields(bundle.evidence),
            "record_hash": bundle.evidence.record_hash,
        },
        "chain_head_at_export": head,
        "files": [{k: f[k] for k in ("name", "size", "sha256")} for f in files],
        "warc_records": records,
        "pdf": {"written": pdf_note is None, "note": pdf_note},
    }


def _describe(path: Path, label: str) -> dict[str, Any]:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return {"name": path.name, "label": label, "size": path.stat().st_size, "sha256": digest.hexdigest()}


def _free_name(out_dir: Path, stem: str) -> Path:
    candidate, n = out_dir / stem, 1
    while candidate.exists() or candidate.with_suffix(".zip").exists():
        n += 1
        candidate = out_dir / f"{stem}-{n}"
    return candidate


def _zip(folder: Path) -> Path:
    tmp_base = folder.parent / f".{folder.name}.{uuid.uuid4().hex}"
    made = Path(shutil.make_archive(str(tmp_base), "zip", root_dir=folder.parent, base_dir=folder.name))
    return made.rename(folder.with_name(folder.name + ".zip"))


def _audit(
    cfg: Config, hit_id: int, officer: str, bundle: Bundle, folder: Path, zip_path: Path, manifest: dict[str, Any]
) -> None:
    detail = {
        "evidence_id": bundle.evidence.id,
        "seq": bundle.evidence.seq,
        "record_hash": bundle.evidence.record_hash,
        "package": str(folder),
        "zip": str(zip_path),
        "zip_sha256": _describe(zip_path, "")["sha256"],
        "manifest_sha256": _describe(folder / "manifest.json", "")["sha256"],
        "pdf_written": manifest["pdf"]["written"],
    }
    with db.session_scope(cfg) as session:
        session.add(
            AuditLog(username=officer or None, action="export", object_type="hit", object_id=str(hit_id), detail=detail)
        )
