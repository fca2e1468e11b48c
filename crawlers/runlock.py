"""One crawl of a source at a time on this machine's frontier: a crawl holds a lock on its source's
crawl directory for its whole run.

Two crawls of one source would share one journal, fetch everything twice and both write "end". The
lock is an flock, so the kernel releases it however the holder dies (kill -9 included) and a stale
lock never blocks the next run; the file says who holds it, for the message the second crawl prints.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from pathlib import Path

from core.errors import UserError


class SourceBusy(UserError):
    """Another crawl of the same source is running."""

    exit_code = 4


class RunLock:
    def __init__(self, directory: Path, source: str):
        self.path = Path(directory) / "run.lock"
        self.source = source
        self.fd: int | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 300, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise SourceBusy(f"source {self.source!r} is already being crawled ({holder}); this crawl exits") from None
        started = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, started {started}".encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
