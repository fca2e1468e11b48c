"""Verbs: `wangxun jobs` (the scheduler process and job listing), `wangxun run TASK` (one task now),
`wangxun grade`, `wangxun draw`. Thin wrappers over jobs.scheduler, jobs.control and jobs.tasks."""

from __future__ import annotations

import json
import logging
import sys

import click

from core.cli import load_config


@click.group("jobs", invoke_without_command=True)
@click.pass_context
def jobs_cmd(ctx):
    """Run the scheduler (one process per installation); `wangxun jobs list` shows the jobs."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(serve_cmd)


@jobs_cmd.command("serve")
@click.pass_context
def serve_cmd(ctx):
    """Run the scheduler in the foreground until Ctrl-C / SIGTERM."""
    from jobs import scheduler

    cfg = load_config(ctx)
    logging.basicConfig(level=cfg.core.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    click.echo(f"网巡 scheduler: {cfg.database_url} (Ctrl-C to stop)")
    scheduler.serve(cfg)


@jobs_cmd.command("list")
@click.pass_context
def list_cmd(ctx):
    """Stored jobs: trigger, next run, last run."""
    from jobs import control

    cfg = load_config(ctx)
    infos = control.list_jobs(cfg)
    if not infos:
        click.echo("no jobs stored yet: start the scheduler once (`wangxun jobs`) to load them from config")
    for j in infos:
        nxt = j.next_run_time.isoformat(timespec="minutes") if j.next_run_time else "paused"
        click.echo(f"{j.id:24} {j.task:16} {j.trigger:40} next {nxt:25} last {j.last_status or '-'}")


@jobs_cmd.command("pause")
@click.argument("job_id")
@click.pass_context
def pause_cmd(ctx, job_id):
    """Pause a job (it stays paused across scheduler restarts)."""
    from jobs import control

    control.pause(load_config(ctx), job_id)
    click.echo(f"{job_id} paused")


@jobs_cmd.command("resume")
@click.argument("job_id")
@click.pass_context
def resume_cmd(ctx, job_id):
    """Resume a paused job."""
    from jobs import control

    job = control.resume(load_config(ctx), job_id)
    click.echo(f"{job_id} resumed, next run {job.next_run_time}")


@jobs_cmd.command("trigger")
@click.argument("job_id")
@click.pass_context
def trigger_cmd(ctx, job_id):
    """Ask the running scheduler to run a stored job now (as the jobs page's 立即运行 does)."""
    from jobs import control

    control.run_now(load_config(ctx), job_id)
    click.echo(f"{job_id}: due now; the scheduler process starts it at its next wake-up")


@click.command("run")
@click.argument("task")
@click.option(
    "--arg", "args", multiple=True, metavar="KEY=VALUE", help="Task argument, e.g. --arg source=wechat_search."
)
@click.option("--job-id", help="Job id to record the run under (default: the task name).")
@click.pass_context
def run_cmd(ctx, task, args, job_id):
    """Run one task now in this process and record it (tasks: crawl, check_alerts, grade_venues, run_draw,
    verify_evidence)."""
    from core import db
    from core.errors import UserError
    from core.models import JobRun
    from jobs import runner
    from jobs.tasks import TASKS

    if task not in TASKS:
        raise UserError(f"unknown task {task!r}; tasks: {', '.join(sorted(TASKS))}")
    kwargs = dict(_split_arg(a) for a in args)
    cfg = load_config(ctx)
    run_id = runner.run_recorded(cfg, job_id or _default_job_id(task, kwargs), task, kwargs, trigger="manual")
    with db.session_scope(cfg) as s:
        run = s.get(JobRun, run_id)
        click.echo(
            f"run {run.id} {run.job_id}: {run.status} pages={run.pages} hits={run.hits}"
            + (f" error: {run.error}" if run.error else "")
        )
        detail = {k: v for k, v in (run.detail or {}).items() if k not in ("traceback", "pid")}
        click.echo(json.dumps(detail, ensure_ascii=False))
        failed = run.status != "ok"
    if failed:
        sys.exit(1)


@click.command("grade")
@click.option("--as-of", help="Grade as of this date (YYYY-MM-DD); default today in the configured time zone.")
@click.pass_context
def grade_cmd(ctx, as_of):
    """Grade every venue now (分级分类) and record the run."""
    ctx.invoke(run_cmd, task="grade_venues", args=(f"as_of={as_of}",) if as_of else (), job_id="grading")


@click.command("draw")
@click.option("--seed", help="Random seed (default: a fresh random one, stored with the draw).")
@click.option("--publish", is_flag=True, help="Publish the list at once (一公开).")
@click.option("--reproduce", "reproduce_id", type=int, help="Re-run stored draw ID from its seed and compare.")
@click.pass_context
def draw_cmd(ctx, seed, publish, reproduce_id):
    """Make a 双随机 draw now, or check that a stored one reproduces from its seed."""
    if reproduce_id is None:
        args = tuple(a for a in (f"seed={seed}" if seed else "", "publish=true" if publish else "") if a)
        ctx.invoke(run_cmd, task="run_draw", args=args, job_id="draw")
        return
    from core import db
    from grids import draws

    cfg = load_config(ctx)
    with db.session_scope(cfg) as s:
        result = draws.reproduce(s, reproduce_id)
    click.echo(
        f"draw {reproduce_id}: {'reproduced exactly' if result.ok else 'DIFFERS from its seed'} "
        f"({len(result.stored)} venues)"
    )
    if not result.ok:
        sys.exit(1)


jobs_cmd.add_command(run_cmd)  # `python -m jobs run TASK` and `wangxun jobs run TASK` as well


def _split_arg(text: str) -> tuple[str, object]:
    from core.errors import UserError

    if "=" not in text:
        raise UserError(f"--arg {text!r}: use KEY=VALUE")
    key, value = text.split("=", 1)
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return key.strip(), lowered == "true"
    return key.strip(), value


def _default_job_id(task: str, kwargs: dict) -> str:
    return f"crawl:{kwargs['source']}" if task == "crawl" and "source" in kwargs else task
