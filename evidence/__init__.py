"""Court-ready evidence for pages that become hits: stored files with SHA-256, an append-only hash
chain, whole-store verification and a case-officer export package (WARC, manifest, 电子数据提取笔录).

    from evidence import FetchRecord, record_fetch, verify, export_hit
"""

from __future__ import annotations

from pathlib import Path

from core.config import Config
from evidence.fetch import FetchRecord
from evidence.record import record_fetch
from evidence.verify import Problem, VerifyReport, verify

__all__ = ["FetchRecord", "record_fetch", "verify", "VerifyReport", "Problem", "export_hit"]


def export_hit(cfg: Config, hit_id: int, out_dir: Path, officer: str = "") -> Path:
    """Write the evidence package of a hit under out_dir (plus a .zip of it); returns the directory.

    Imported on use so crawls that only record evidence do not load the export's WARC, template
    and browser code."""
    from evidence.export import export_hit as _export_hit

    return _export_hit(cfg, hit_id, Path(out_dir), officer)
