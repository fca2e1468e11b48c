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
                return CronTrigger.from_crontab(crontab_weekdays_named(self.cron), timezone=tz)
            except ValueError as exc:
                raise ConfigError(f"job {self.id}: bad cron {self.cron!r}: {exc}") from None
        return IntervalTrigger(seconds=self.interval_seconds, timezone=tz)

    def describe(self) -> str:
        return f"cron {self.cron}" if self.cron else f"every {_human_seconds(self.interval_seconds)}"


# crontab's day-of-week numbers: 0 and 7 are Sunday, 1 is Monday.
CRONTAB_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def crontab_weekdays_named(cron: str) -> str:
    """The crontab string with its day-of-week numbers written as names.

    APScheduler 3's `CronTrigger.from_crontab` passes the fifth field through with its own numbering
    (0 = Monday), so `30 8 * * 1`, meant as Monday 08:30 as in every crontab, ran on Tuesdays. Names
    mean the same in both. Numbers, ranges, lists and steps are expanded to the days they name."""
    fields = cron.split()
    if len(fields) != 5 or fields[4] == "*" or not any(ch.isdigit() for ch in fields[4]):
        return cron
    days: list[str] = []
    for item in fields[4].split(","):
        spec, _, step_text = item.partition("/")
        if spec == "*":
            first, last = 0, 6
        elif "-" in spec:
            a, _, b = spec.partition("-")
            if not (a.isdigit() and b.isdigit()):
                return cron  # names (mon-fri) or nonsense: from_crontab reads or refuses it as it is
            first, last = int(a), int(b)
        elif spec.isdigit():
            first = int(spec)
            last = 6 if step_text else first
        else:
            return cron
        step = int(step_text) if step_text.isdigit() else 1
        if (step_text and not step_text.isdigit()) or step < 1 or first > last or last > 7:
            return cron  # from_crontab gives its own message for what it cannot read
        days += [CRONTAB_DAYS[n] for n in range(first, last + 1, step) if CRONTAB_DAYS[n] not in days]
    return " ".join([*fields[:4], ",".join(days)])


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
