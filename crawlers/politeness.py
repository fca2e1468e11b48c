"""Per-domain pauses (captcha pages, 429/503 with Retry-After) and per-account daily budgets.

AutoThrottle and DOWNLOAD_DELAY space requests out; this adds what they cannot: stopping a domain
outright for a while when it says "slow down" or shows a captcha, and remembering across runs how
many articles of one WeChat account were read today (WeChat blocks an account reader for a day after
about ten quick requests).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from core.errors import is_disk_full
from core.tempnames import temporary_beside


class DomainPauses:
    """Pause windows and captcha streaks per domain, shared by the middlewares and the spider."""

    def __init__(self, captcha_backoff_s: float, captcha_max_in_row: int, clock=time.monotonic):
        self.captcha_backoff_s = captcha_backoff_s
        self.captcha_max_in_row = captcha_max_in_row
        self.clock = clock
        self.until: dict[str, float] = {}
        self.paused_at: dict[str, float] = {}
        self.in_row: dict[str, int] = {}
        self.captchas = 0

    def pause(self, domain: str, seconds: float) -> None:
        now = self.clock()
        if now + seconds > self.until.get(domain, 0):
            self.until[domain] = now + seconds
            self.paused_at[domain] = now

    def remaining(self, domain: str) -> float:
        return max(0.0, self.until.get(domain, 0) - self.clock())

    async def wait(self, domain: str) -> None:
        # A loop, because another response may lengthen the pause while we sleep.
        while (left := self.remaining(domain)) > 0:
            await asyncio.sleep(left)

    def captcha(self, domain: str, sent_at: float) -> bool:
        """Count a captcha page; True to retry after the (growing) pause, False to stop the source.

        Requests already in flight when the domain was paused come back as captchas too; they are
        retried without counting, so one burst is one captcha "in a row", not ten."""
        self.captchas += 1
        if sent_at < self.paused_at.get(domain, float("-inf")):
            return True
        n = self.in_row.get(domain, 0) + 1
        self.in_row[domain] = n
        if n >= self.captcha_max_in_row:
            return False
        self.pause(domain, self.captcha_backoff_s * 2 ** (n - 1))
        return True

    def ok(self, domain: str) -> None:
        self.in_row[domain] = 0


class AccountBudget:
    """Content pages fetched per account per (local) day, kept in a small JSON file across runs."""

    def __init__(self, path: Path, timezone: str):
        self.path = Path(path)
        self.tz = ZoneInfo(timezone)
        self.day = ""
        self.counts: dict[str, int] = {}
        self._load()

    def _today(self) -> str:
        return dt.datetime.now(self.tz).date().isoformat()

    def _load(self) -> None:
        self.day = self._today()
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return
        if data.get("day") == self.day:
            self.counts = {k: int(v) for k, v in data.get("counts", {}).items()}

    def take(self, account: str, limit: int) -> bool:
        """Use one request of the account's budget; False when today's budget is spent."""
        if self._today() != self.day:
            self.day, self.counts = self._today(), {}
        used = self.counts.get(account, 0)
        if limit and used >= limit:
            return False
        self.counts[account] = used + 1
        self._save()
        return True

    def _save(self) -> None:
        # Write-then-rename: a kill mid-write leaves the previous file, never a torn one.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temporary_beside(self.path)
        try:
            tmp.write_text(json.dumps({"day": self.day, "counts": self.counts}, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)  # a full disk left an empty temporary behind
            if not is_disk_full(exc):
                raise
            # The count lives on in memory for this run; the crawl stops on the disk anyway.
