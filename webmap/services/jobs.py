"""Scheduled work for the web app: the jobs page (through jobs.control, never a scheduler of its own),
run history, grading runs and 双随机 draws."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import vocabulary
from core.config import Config
from core.i18n import N_, Msg
from core.models import GradingRun, JobRun, SpotCheckDraw, SpotCheckItem
from grids import draws, grading
from jobs import control
from webmap.services import hits as hit_service
from webmap.services.clock import zone_label

ACTIONS = {"pause": control.pause, "resume": control.resume, "run": control.run_now}
STATUS_NAMES = vocabulary.JOB_RUN_STATUS
# A heartbeat older than this many wake-ups means the scheduler process is not running.
STALE_BEATS = 6


def overview(cfg: Config, session: Session) -> dict[str, Any]:
    tz = ZoneInfo(cfg.core.timezone)
    sources = hit_service.source_names(cfg)
    return {
        "jobs": control.list_jobs(cfg),
        "scheduler": scheduler_state(cfg),
        "runs": recent_runs(session),
        "index": index_state(cfg),
        "status_names": STATUS_NAMES,
        "describe": describe_trigger,
        "job_name": lambda job_id, task=None: job_name(job_id, sources, task),
        "task_name": task_name,
        "arg_text": lambda key, value: arg_text(key, value, sources),
        "layout_counts": layout_counts,
        "live": lambda run: live_progress(cfg, run),
        "local": lambda t: to_local(t, tz),
        "grace_minutes": int(cfg.jobs.misfire_grace_seconds) // 60,
        "zone_name": zone_label(cfg.core.timezone),
    }


def index_state(cfg: Config) -> dict[str, Any]:
    """How far the search index is behind the database: hits waiting in the outbox, how many failed
    to index and why, and a reindex that holds the outbox. An error on the jobs page when hits wait
    because the index failed them or a reindex holds them; a quiet line otherwise."""
    from search import outbox

    status = outbox.status(cfg)
    return {
        "waiting": status.waiting,
        "failing": status.failing,
        "last_error": status.last_error,
        "rebuild": status.rebuild,
        "oldest_at": to_local(status.oldest_at, ZoneInfo(cfg.core.timezone)),
        "error": bool(status.failing or (status.waiting and status.rebuild)),
    }


# Counts a crawl's summary carries for pages its parsers could not read, and their names on the page.
LAYOUT_COUNTS = {"unknown_layout": N_("版式未知"), "needs_render": N_("需渲染")}


def layout_counts(run: JobRun) -> dict[str, int] | None:
    """For a crawl run: how many pages no known layout read and how many were script shells needing
    render = true (from its CRAWL-SUMMARY); None for other tasks and for crawls from before the count."""
    detail = run.detail or {}
    if not any(key in detail for key in LAYOUT_COUNTS):
        return None
    return {name: int(detail.get(key) or 0) for key, name in LAYOUT_COUNTS.items()}


def live_progress(cfg: Config, run: JobRun) -> dict[str, Any] | None:
    """How far a running crawl is (pages and hits so far, seconds), from the progress file its
    process writes (crawlers.live_progress); None for other runs and before the crawl has begun."""
    from crawlers import live_progress as progress

    source = (run.detail or {}).get("args", {}).get("source")
    if run.status != "running" or (run.detail or {}).get("task") != "crawl" or not isinstance(source, str):
        return None
    data = progress.since(cfg, source, run.started_at)
    if data is None or data.get("state") != "running":
        return None
    return {
        "pages": int(data.get("pages") or 0),
        "hits": int(data.get("hits") or 0),
        "elapsed_s": data.get("elapsed_s"),
    }


# APScheduler 3 counts weekdays from Monday = 0 (also in crontab strings: jobs/definitions.py).
WEEKDAYS = (N_("周一"), N_("周二"), N_("周三"), N_("周四"), N_("周五"), N_("周六"), N_("周日"))
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def describe_trigger(trigger_text: str) -> Msg:
    """A stored trigger as a sentence: "cron[…, hour='2', minute='30']" -> 每天 02:30,
    day_of_week='0' -> 每周一, minute='*/15' -> 每 15 分钟, "interval[0:15:00]" -> 每 15 分钟.
    A rule with no simple wording says so and shows the rule (the raw text is the page's tooltip)."""
    if trigger_text.startswith("interval["):
        seconds = _interval_seconds(trigger_text[len("interval[") : -1])
        if seconds is not None:
            return every(seconds)
    if trigger_text.startswith("cron["):
        fields = dict(re.findall(r"(\w+)='([^']*)'", trigger_text))
        described = _describe_cron(*(fields.get(k, "*") for k in ("minute", "hour", "day", "month", "day_of_week")))
        if described is not None:
            return described
    return Msg(N_("按计划规则 %(rule)s"), rule=trigger_text)


def every(seconds: float) -> Msg:
    """每 N 天 / 小时 / 分钟 / 秒, in the largest whole unit."""
    for size, text in ((86400, N_("每 %(n)s 天")), (3600, N_("每 %(n)s 小时")), (60, N_("每 %(n)s 分钟"))):
        if seconds >= size and seconds % size == 0:
            return Msg(text, n=int(seconds // size))
    return Msg(N_("每 %(n)s 秒"), n=f"{seconds:g}")


def _describe_cron(minute: str, hour: str, day: str, month: str, weekday: str) -> Msg | None:
    every_step = re.fullmatch(r"\*/(\d+)", minute)
    if every_step and hour == day == month == weekday == "*":
        return every(60 * int(every_step.group(1)))
    if not minute.isdigit():
        return None
    if hour == "*" and day == month == weekday == "*":
        return Msg(N_("每小时第 %(minute)s 分"), minute=int(minute))
    hours = re.fullmatch(r"\*/(\d+)", hour)
    if hours and day == month == weekday == "*":
        return Msg(N_("每天 %(time)s 起每 %(n)s 小时"), time=f"00:{int(minute):02d}", n=int(hours.group(1)))
    if not hour.isdigit():
        return None
    time = f"{int(hour):02d}:{int(minute):02d}"
    if day == month == weekday == "*":
        return Msg(N_("每天 %(time)s"), time=time)
    if day == month == "*":
        days = _weekdays(weekday)
        return Msg(N_("每%(days)s %(time)s"), days=days, time=time) if days is not None else None
    if weekday == "*" and day.isdigit() and month == "*":
        return Msg(N_("每月 %(day)s 日 %(time)s"), day=int(day), time=time)
    if weekday == "*" and day.isdigit() and month.isdigit():
        return Msg(N_("每年 %(month)s 月 %(day)s 日 %(time)s"), month=int(month), day=int(day), time=time)
    return None


def _weekday(text: str) -> int | None:
    text = text.strip().lower()
    if text.isdigit() and int(text) < 7:
        return int(text)
    return WEEKDAY_NAMES.index(text) if text in WEEKDAY_NAMES else None


def _weekdays(field: str) -> Msg | None:
    """'0' -> 周一, '0-4' -> 周一至周五, '0,2' -> 周一、周三 (APScheduler's numbering or names)."""
    parts: list[Msg] = []
    for item in field.split(","):
        ends = [_weekday(x) for x in item.split("-")]
        if None in ends or len(ends) > 2:
            return None
        if len(ends) == 1:
            parts.append(Msg(WEEKDAYS[ends[0]]))
        else:
            parts.append(Msg(N_("%(first)s至%(last)s"), first=Msg(WEEKDAYS[ends[0]]), last=Msg(WEEKDAYS[ends[1]])))
    out = parts[0]
    for part in parts[1:]:
        out = Msg(N_("%(first)s、%(rest)s"), first=out, rest=part)
    return out


def _interval_seconds(text: str) -> float | None:
    """'0:15:00' or '1 day, 0:00:00' (str of a timedelta) in seconds."""
    m = re.fullmatch(r"(?:(\d+) days?, )?(\d+):(\d\d):(\d\d(?:\.\d+)?)", text.strip())
    if m is None:
        return None
    days, hours, minutes, seconds = m.groups()
    return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def job_name(job_id: str, sources: dict[str, str] | None = None, task: str | None = None) -> Msg:
    """A job by name: the shipped jobs from the vocabulary, "crawl:<source>" as 采集 and the source's
    description (crawlers/sources.toml), a job an administrator added by its task's name, else its id."""
    if job_id in vocabulary.JOB_NAME:
        return Msg(vocabulary.JOB_NAME[job_id])
    if job_id.startswith("crawl:"):
        source = job_id[len("crawl:") :]
        return Msg(N_("采集：%(source)s"), source=(sources or {}).get(source, source))
    if task in vocabulary.JOB_TASK:
        return Msg(vocabulary.JOB_TASK[task])
    return Msg(job_id)


def task_name(task: str) -> Msg:
    return Msg(vocabulary.name(vocabulary.JOB_TASK, task))


# A task's arguments ([[jobs.schedule]] args) by name.
TASK_ARG = {"source": N_("来源"), "seed": N_("随机种子"), "publish": N_("摇号后公开"), "as_of": N_("评级基准日")}


def arg_text(key: str, value: Any, sources: dict[str, str] | None = None) -> Msg:
    """One task argument as "名称：值" (a crawl's source by its description, true/false as 是/否)."""
    if key == "source":
        value = (sources or {}).get(str(value), value)
    elif isinstance(value, bool):
        value = Msg(N_("是") if value else N_("否"))
    return Msg(N_("%(field)s：%(value)s"), field=Msg(TASK_ARG.get(key, key)), value=value)


def to_local(moment: dt.datetime | None, tz: ZoneInfo) -> dt.datetime | None:
    """Stored times are naive UTC; pages show the configured local time (Beijing time)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(tz)


def scheduler_state(cfg: Config) -> dict[str, Any]:
    """Whether the scheduler process looks alive, from its heartbeat file."""
    status = control.scheduler_status(cfg)
    if not status:
        return {"alive": False, "beat_at": None, "pid": None}
    beat = dt.datetime.fromisoformat(status["beat_at"])
    age = (dt.datetime.now(beat.tzinfo) - beat).total_seconds()
    alive = bool(status.get("running")) and age <= STALE_BEATS * float(cfg.jobs.wakeup_seconds)
    # The heartbeat file is written in the scheduler machine's own zone: shown in [core] timezone.
    return {"alive": alive, "beat_at": to_local(beat, ZoneInfo(cfg.core.timezone)), "pid": status.get("pid")}


def scheduler_json(state: dict[str, Any]) -> dict[str, Any]:
    """scheduler_state for /api/jobs: the heartbeat as ISO 8601 with its offset (local time)."""
    beat = state.get("beat_at")
    return {**state, "beat_at": beat.isoformat(timespec="seconds") if beat else None}


def job_action(cfg: Config, action: str, job_id: str):
    return ACTIONS[action](cfg, job_id)


def recent_runs(session: Session, limit: int = 50, job_id: str | None = None) -> list[JobRun]:
    q = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if job_id:
        q = q.where(JobRun.job_id == job_id)
    return list(session.scalars(q))


def run_json(r: JobRun) -> dict[str, Any]:
    return {
        "id": r.id,
        "job_id": r.job_id,
        "status": r.status,
        "started_at": _iso(r.started_at),
        "ended_at": _iso(r.ended_at),
        "pages": r.pages,
        "hits": r.hits,
        "error": r.error,
        "detail": {k: v for k, v in (r.detail or {}).items() if k != "traceback"},
    }


def job_json(j: control.JobInfo) -> dict[str, Any]:
    return {
        "id": j.id,
        "task": j.task,
        "args": j.args,
        "trigger": j.trigger,
        "trigger_text": str(describe_trigger(j.trigger)),  # in words (Chinese)
        "name": str(job_name(j.id, task=j.task)),
        "paused": j.paused,
        "next_run_time": j.next_run_time.isoformat() if j.next_run_time else None,
        "last_status": j.last_status,
        "last_run_id": j.last_run_id,
        "last_error": j.last_error,
    }


def grading_runs(session: Session, limit: int = 20) -> list[dict[str, Any]]:
    runs = list(session.scalars(select(GradingRun).order_by(GradingRun.id.desc()).limit(limit)))
    return [
        {"id": r.id, "at": r.at, "as_of": r.params.get("as_of"), "counts": grading.grade_counts(session, r.id)}
        for r in runs
    ]


def draw_list(session: Session, published_only: bool = False) -> list[dict[str, Any]]:
    counts = dict(session.execute(select(SpotCheckItem.draw_id, func.count()).group_by(SpotCheckItem.draw_id)).all())
    q = select(SpotCheckDraw).order_by(SpotCheckDraw.id.desc()).limit(100)
    if published_only:
        q = q.where(SpotCheckDraw.published.is_(True))
    return [
        {
            "id": d.id,
            "at": d.at,
            "seed": d.seed,
            "published": d.published,
            "campaign": d.params.get("campaign"),
            "as_of": d.params.get("as_of"),
            "venues": counts.get(d.id, 0),
        }
        for d in session.scalars(q)
    ]


def get_draw(session: Session, draw_id: int) -> SpotCheckDraw | None:
    return session.get(SpotCheckDraw, draw_id)


def draw_detail(session: Session, draw_id: int, check: bool = True) -> dict[str, Any] | None:
    row = session.get(SpotCheckDraw, draw_id)
    if row is None:
        return None
    p = row.params
    inputs = {
        "as_of": p.get("as_of"),
        "campaign": p.get("campaign") or "",
        "rates": p.get("rates", {}),
        "venues_by_grade": {g: len(v) for g, v in p.get("venues", {}).items()},
        "inspectors": len(p.get("inspectors", [])),
    }
    return {
        "draw": row,
        "inputs": inputs,
        "items": draws.public_list(session, draw_id),
        "reproduced": draws.reproduce(session, draw_id).ok if check else None,
    }


def make_draw(cfg: Config, session: Session, seed: str | None, campaign: str | None) -> SpotCheckDraw:
    params = draws.DrawParams.from_config(cfg.draws)
    if campaign:
        params = draws.DrawParams(
            rates=params.rates,
            campaign=campaign,
            campaign_rates=params.campaign_rates,
            ungraded_as=params.ungraded_as,
            categories=params.categories,
        )
    return draws.draw(session, params, seed=seed or None, as_of=_local_today(cfg))


def publish(session: Session, draw_id: int) -> SpotCheckDraw:
    return draws.publish(session, draw_id)


def draw_csv(session: Session, draw_id: int) -> str:
    return draws.public_csv(session, draw_id)


def _local_today(cfg: Config) -> dt.date:
    from jobs.tasks import local_today

    return local_today(cfg)


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.replace(tzinfo=dt.timezone.utc).isoformat(timespec="seconds") if moment else None
