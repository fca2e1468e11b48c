"""A running crawl's progress, in a small file other processes can read: the demo's terminal and the
jobs page show how far a crawl is while it runs (the crawl itself runs in its own process).

The file is `<data_dir>/crawl/<source>/progress.json`: {"source", "pages", "hits", "elapsed_s",
"started_at", "updated_at", "pid", "state"}. `state` is "running" until the crawl ends, then the
summary's state. It is rewritten whole (a temporary file and a rename), so a reader never sees half a
file; a reader that finds none, or a broken one, gets None.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from core.config import Config
from core.tempnames import temporary_beside

FILE_NAME = "progress.json"


def progress_path(cfg: Config, source: str) -> Path:
    return cfg.data_dir / "crawl" / source / FILE_NAME


def write(path: Path, **fields: Any) -> None:
    """Replace the progress file with `fields` and the time; a failure (a full disk) is ignored: the
    progress is a courtesy, the crawl's own state lives in its journal."""
    data = {**fields, "updated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    tmp = temporary_beside(path)
    try:
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


def read(cfg: Config, source: str) -> dict[str, Any] | None:
    """The last progress a crawl of `source` wrote, or None."""
    try:
        data = json.loads(progress_path(cfg, source).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def since(cfg: Config, source: str, started_at: dt.datetime | None) -> dict[str, Any] | None:
    """read(), but only when the file was written by a crawl that started at or after `started_at`
    (naive UTC, as the database keeps it): an older crawl's figures are not this run's."""
    data = read(cfg, source)
    if data is None or started_at is None:
        return data
    try:
        begun = dt.datetime.fromisoformat(str(data.get("started_at")))
    except ValueError:
        return None
    if begun.tzinfo is not None:
        begun = begun.astimezone(dt.timezone.utc).replace(tzinfo=None)
    # Seconds: the run is recorded just before its crawl process starts.
    return data if begun >= started_at.replace(microsecond=0) else None
