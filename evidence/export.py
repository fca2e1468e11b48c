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

from core import db
from core.config import Config
from core.models import AuditLog
from evidence import chain, summary, warc
from evidence.bundle import Bundle, load_bundle

PACKAGE_FORMAT = "wangxun-evidence-package/1"
_BODY_SUFFIXES = {
    "text/html": "html",
    "application/json": "json",
    "text/plain": "txt",
    "application/xml": "xml",
    "text/xml": "xml",
}


def export_hit(cfg: Config, hit_id: int, out_dir: Path, officer: str = "") -> Path:
    """Write the package directory and <directory>.zip under out_dir; returns the directory."""
    exported_at = dt.datetime.now(dt.timezone.utc)
    with db.session_scope(cfg) as session:
        bundle = load_bundle(session, cfg, hit_id)
        head = chain.read_head(session)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = _free_name(
        out_dir,
        f"hit-{hit_id}-evidence-{bundle.evidence.seq}-"
        f"{exported_at.astimezone(ZoneInfo(cfg.core.timezone)):%Y%m%d-%H%M%S}",
    )
    tmp = out_dir / f".{final.name}.{uuid.uuid4().hex}.tmp"
    tmp.mkdir()
    try:
        manifest = _build(cfg, bundle, tmp, officer, exported_at, head)
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
    cfg: Config, bundle: Bundle, folder: Path, officer: str, exported_at: dt.datetime, head: dict[str, Any]
) -> dict[str, Any]:
    version = software_version()
    files = _write_evidence_files(bundle, folder)
    records = warc.write_warc(folder / "evidence.warc.gz", bundle, f"Wangxun/{version} (网巡)")
    files.insert(0, _describe(folder / "evidence.warc.gz", "WARC 归档（请求、原始响应、截图、文本、哈希）"))
    html = summary.render_summary(cfg, bundle, files, officer, exported_at, version)
    (folder / "summary.html").write_text(html, encoding="utf-8")
    pdf_note = summary.print_pdf(cfg, folder / "summary.html", folder / "summary.pdf")
    listed = files + [_describe(folder / "summary.html", "电子数据提取笔录（HTML）")]
    if pdf_note is None:
        listed.append(_describe(folder / "summary.pdf", "电子数据提取笔录（PDF）"))
    manifest = _manifest(bundle, listed, records, officer, exported_at, version, head, pdf_note)
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return manifest


def _write_evidence_files(bundle: Bundle, folder: Path) -> list[dict[str, Any]]:
    content_type = bundle.evidence.files["body"].get("media_type", "")
    suffix = _BODY_SUFFIXES.get(content_type.split(";")[0].strip().lower(), "bin")
    parts = [
        (f"response_body.{suffix}", bundle.body, "服务器原始响应内容"),
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
