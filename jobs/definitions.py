"""Job definitions from configuration: `[[jobs.schedule]]` tables, the optional `schedule_file`, and one
crawl job per crawl source (`crawl:<source>` on `crawl_cron`) unless a table with that id exists.

A definition is plain data (id, task, trigger, args); jobs/scheduler.py turns it into an APScheduler job.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from core.config import Config, read_settings_file
from core.errors import ConfigError, UserError

log = logging.getLogger(__name__)
INTERVAL_KEYS = ("interval_minutes", "interval_hours", "interval_seconds")


@dataclasses.dataclass(frozen=True)
class JobDef:
    id: str
    task: str
    cron: str = ""
    interval_seconds: float = 0.0
    args: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def trigger(self, timezone: str):
        """The APScheduler trigger; cron strings are read in the configured local time zone."""
        tz = ZoneInfo(timezone)
        if self.cron:
            try:
                return CronTrigger.from_crontab(self.cron, timezone=tz)
            except ValueError as exc:
                raise ConfigError(f"job {self.id}: bad cron {self.cron!r}: {exc}") from None
        return IntervalTrigger(seconds=self.interval_seconds, timezone=tz)

    def describe(self) -> str:
        return f"cron {self.cron}" if self.cron else f"every {_human_seconds(self.interval_seconds)}"


def load_definitions(cfg: Config) -> list[JobDef]:
    """Every configured job, checked: unique ids, known tasks, exactly one trigger each."""
    from jobs.tasks import TASKS

    tables = [dict(t) for t in cfg.jobs.schedule]
    if cfg.jobs.schedule_file:
        tables += _file_tables(cfg)
    defs = [_parse(t, i) for i, t in enumerate(tables, 1)]
    ids = [d.id for d in defs]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError(f"[jobs] job ids used twice: {', '.join(dupes)}")
    defs += [d for d in crawl_definitions(cfg) if d.id not in ids]
    for d in defs:
        if d.task not in TASKS:
            raise ConfigError(f"job {d.id}: unknown task {d.task!r}; tasks: {', '.join(sorted(TASKS))}")
    return defs


def crawl_definitions(cfg: Config) -> list[JobDef]:
    """`crawl:<source>` for each source of the crawl sources file, when `[jobs] crawl_cron` is set."""
    if not cfg.jobs.crawl_cron:
        return []
    try:
        from crawlers.sources import load_sources

        names = sorted(load_sources(cfg))
    except (ImportError, UserError) as exc:
        # The scheduler still runs grading, draws and alerts when the sources file is broken.
        log.warning("no automatic crawl jobs: %s", exc)
        return []
    return [JobDef(id=f"crawl:{name}", task="crawl", cron=cfg.jobs.crawl_cron, args={"source": name}) for name in names]


def _parse(table: dict[str, Any], n: int) -> JobDef:
    where = f"[jobs] schedule #{n}"
    unknown = set(table) - {"id", "task", "cron", "args", *INTERVAL_KEYS}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    if not table.get("id") or not table.get("task"):
        raise ConfigError(f"{where}: needs id and task")
    interval = (
        float(table.get("interval_seconds", 0))
        + 60 * float(table.get("interval_minutes", 0))
        + 3600 * float(table.get("interval_hours", 0))
    )
    cron = str(table.get("cron", "")).strip()
    if bool(cron) == bool(interval > 0):
        raise ConfigError(f"{where} ({table['id']}): give exactly one of cron or interval_minutes/hours/seconds")
    args = table.get("args", {})
    if not isinstance(args, Mapping):
        raise ConfigError(f"{where} ({table['id']}): args must be a table")
    return JobDef(id=str(table["id"]), task=str(table["task"]), cron=cron, interval_seconds=interval, args=dict(args))


def _file_tables(cfg: Config) -> list[dict[str, Any]]:
    path = cfg.resolve(cfg.jobs.schedule_file)
    data = read_settings_file(path, "jobs schedule file", "jobs.schedule_file")
    return [dict(t) for t in data.get("schedule", [])]


def _human_seconds(s: float) -> str:
    if s % 3600 == 0:
        return f"{int(s // 3600)} h"
    if s % 60 == 0:
        return f"{int(s // 60)} min"
    return f"{s:g} s"
