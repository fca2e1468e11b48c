"""A crash-safe crawl frontier: an append-only journal of scheduled and finished requests.

Why not Scrapy's JOBDIR alone: its disk queue (queuelib) writes the queue's head position only on a
clean close and its requests.seen file is buffered, so after SIGKILL a resumed crawl either loses
its queue or fetches everything again. This journal is flushed line by line (a killed process keeps
what the OS already has), so a restart knows exactly which requests were scheduled and which
finished, and re-schedules only the unfinished ones.

One journal per source under `<data_dir>/crawl/<source>/`. It also separates the two kinds of
"again": a journal whose run did not end is *resumed*; a run that ended leaves a closed journal, and
the next run starts a fresh one, re-visiting every page to look for changes (incremental crawling
is the page store's job: unchanged content only updates last_seen).

Lines: {"op": "run", "id", "started"} · {"op": "enq", "fp", "req"} · {"op": "done", "fp", "url"} ·
{"op": "end", "state"}. A torn last line (killed mid-write) is ignored.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.errors import is_disk_full


class Frontier:
    shared = False  # crawlers.frontier_redis.RedisFrontier: one run for the processes of many machines

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / "journal.jsonl"
        self.run_id = ""
        self.started = ""
        self.resumed = False
        self.seen: set[str] = set()
        self.pending: dict[str, dict[str, Any]] = {}
        self.redirects: dict[str, str] = {}  # redirect target → the request that followed it
        self.done_count = 0
        self.done_by_domain: dict[str, int] = {}
        self._fd: int | None = None
        # Called once when a journal write finds the disk full (the crawl stops; see _write).
        self.on_disk_full: Callable[[], None] | None = None
        self.disk_full = False

    def open(self, fresh: bool = False) -> Frontier:
        """Resume an unfinished run, or start a new one (always a new one when `fresh`)."""
        if not fresh and self.path.exists():
            self._replay()
        if not self.run_id:
            self._reset()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if not self.resumed:
            self._write({"op": "run", "id": self.run_id, "started": self.started})
        return self

    def _reset(self) -> None:
        self.run_id = uuid.uuid4().hex[:12]
        self.started = dt.datetime.now(dt.timezone.utc).isoformat()
        self.resumed = False
        self.seen.clear()
        self.pending.clear()
        self.done_count = 0
        self.done_by_domain.clear()
        self.path.unlink(missing_ok=True)

    def _replay(self) -> None:
        with self.path.open(encoding="utf-8") as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue  # the line a kill cut short
                self._apply(rec)
        self.resumed = bool(self.run_id)

    def _apply(self, rec: dict[str, Any]) -> None:
        op = rec.get("op")
        if op == "run":
            self.run_id, self.started = rec["id"], rec["started"]
        elif op == "enq":
            self.seen.add(rec["fp"])
            self.pending[rec["fp"]] = rec["req"]
        elif op == "done":
            if self.pending.pop(rec["fp"], None) is not None:
                self._count_done(rec.get("url", ""))
        elif op == "end":
            self.run_id = ""  # the last run ended: the next one starts afresh
            self.seen.clear()
            self.pending.clear()

    def _count_done(self, url: str) -> None:
        self.done_count += 1
        host = urlsplit(url).hostname or ""
        self.done_by_domain[host] = self.done_by_domain.get(host, 0) + 1

    def enqueued(self, fp: str, req: dict[str, Any]) -> bool:
        """Record a newly scheduled request; False when this run already scheduled it."""
        if fp in self.seen:
            return False
        self.seen.add(fp)
        self.pending[fp] = req
        self._write({"op": "enq", "fp": fp, "req": req})
        return True

    @property
    def journal(self) -> str:
        """Where a page worker writes a done line after its commit (see mark_done)."""
        return str(self.path)

    def claim_redirect(self, fp: str, origin: str) -> bool:
        """True when the request `origin` may follow a redirect to `fp`: no other request of this run
        reached it, and it is not a request of its own."""
        if fp in self.seen or self.redirects.get(fp, origin) != origin:
            return False
        self.redirects[fp] = origin
        return True

    def done(self, fp: str, url: str = "") -> None:
        """The request is finished for good (stored, followed, or given up)."""
        if self.pending.pop(fp, None) is None:
            return
        self._count_done(url)
        self._write({"op": "done", "fp": fp, "url": url})

    def forget(self, fp: str, url: str = "") -> None:
        """A page worker already wrote this request's done line (right after its commit)."""
        if self.pending.pop(fp, None) is not None:
            self._count_done(url)

    def end(self, state: str) -> None:
        """Close this run: the next open() starts a new run that re-visits everything."""
        self._write({"op": "end", "state": state})
        self.close()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _write(self, rec: dict[str, Any]) -> None:
        """One os.write per line, unbuffered: the OS has the line once this returns, so it survives
        SIGKILL of this process, and a failed write leaves nothing buffered to fail again at close."""
        if self._fd is None:
            raise RuntimeError("frontier is not open")
        line = (json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        try:
            os.write(self._fd, line)
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            # A lost line costs at most a page fetched again on resume (a torn line is skipped). The
            # crawl is stopped; raising here would only print a traceback per request.
            if not self.disk_full:
                self.disk_full = True
                if self.on_disk_full is not None:
                    self.on_disk_full()


def mark_done(journal: str, fp: str, url: str) -> None:
    """Close `fp` from a page worker, right after its commit: a done line in the local journal, or an
    acknowledgement in the shared Redis frontier (whose `journal` is a JSON reference)."""
    if journal.startswith("{"):
        from crawlers.frontier_redis import ack

        ack(journal, fp)
    else:
        append_done(journal, fp, url)


def append_done(journal: str | Path, fp: str, url: str) -> None:
    """Write a done line from another process (a page worker, right after its commit). One short
    O_APPEND write, so lines from the crawl process and the workers never interleave."""
    line = json.dumps({"op": "done", "fp": fp, "url": url}, ensure_ascii=False, separators=(",", ":")) + "\n"
    fd = os.open(journal, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)
