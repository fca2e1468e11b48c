"""`wangxun demo`: everything on one machine, offline, in one command.

Steps: create/upgrade the database, load the sample district (姑苏区), create demo logins, start the
bundled sample public network, crawl every demo source once (each crawl in its own process, as in
production), grade the venues, make a 双随机 draw, route one clue to its grid, start the scheduler, and
serve the web app on 127.0.0.1 until Ctrl-C.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import click
from sqlalchemy import select

from core.children import die_with_parent
from core.cli import load_config
from core.config import child_environ
from core.errors import UserError

DEMO_USERS = (  # username, role, display name, grid codes
    ("admin", "admin", "系统管理员", ()),
    ("patrol", "patrol", "网络巡查员 陈静", ()),
    ("pingjiang", "grid_manager", "平江街道网格长 王伟", ("320508001",)),
    ("jinchang", "grid_manager", "金阊街道网格长 李娜", ("320508005",)),
)


@click.command("demo")
@click.option("--no-crawl", is_flag=True, help="Skip the first crawl (map and registers only).")
@click.option("--no-serve", is_flag=True, help="Prepare everything (the first crawl included), then exit.")
@click.pass_context
def demo_cmd(ctx, no_crawl, no_serve):
    """Load the sample district, serve the web app and crawl the bundled sample site behind it."""
    from core import db
    from grids.sample.load import load_sample

    cfg = load_config(ctx)
    db.upgrade(cfg)
    load_sample(cfg)
    click.echo("示例辖区 sample district: " + _district_counts(cfg))
    _ensure_users(cfg)
    _ensure_anchor_key(cfg)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    site = SampleSiteProcess.start(cfg)
    # Every crawl the demo starts (its first one and the scheduler's) reads the sample site's address
    # from the environment its child processes inherit (core.config.child_environ copies it).
    os.environ[SAMPLE_SITE_ENV] = site.url
    scheduler = first = None
    try:  # whatever happens (Ctrl-C, SIGTERM, an error), no child outlives the demo
        first = FirstRun(cfg, crawl=not no_crawl)
        if no_serve:
            first.run()  # in this thread: the command ends when the first crawl has
            return
        scheduler = _start_scheduler(cfg)
        first.start()  # in the background: the web app answers while the first crawl runs
        _serve(cfg)
    finally:
        if first is not None:
            first.stop()
        if scheduler is not None:
            _stop_process(scheduler)
        site.stop()


SAMPLE_SITE_ENV = "WANGXUN_CRAWL__SAMPLE_SITE_URL"
PROGRESS_EVERY_S = 10  # the bound for plain progress lines when output is not a terminal


def _stop_on_sigterm(signum, frame):
    # SIGTERM (a service manager, `kill`) stops the demo the way Ctrl-C does: the web server returns,
    # and demo_cmd's finally stops the first crawl, the scheduler and the sample site.
    raise KeyboardInterrupt


def _district_counts(cfg) -> str:
    """What the map shows: streets and grids counted apart (not one 'grids' total), venues, and the
    registers loaded with them."""
    from sqlalchemy import func

    from core import db, vocabulary
    from core.models import Grid, Inspection, Inspector, Venue

    with db.session_scope(cfg) as s:
        levels = dict(s.execute(select(Grid.level, func.count()).group_by(Grid.level)).all())
        others = [
            f"{s.scalar(select(func.count()).select_from(model))} {what}"
            for model, what in ((Venue, "家场所"), (Inspection, "条检查记录"), (Inspector, "名执法人员"))
        ]
    grids = [f"{levels[code]} 个{name}" for code, name in vocabulary.GRID_LEVEL.items() if levels.get(code)]
    return "，".join(grids + others)


class FirstRun(threading.Thread):
    """The demo's first crawl of every source, then grading, a draw and one clue, as the demo promises.

    Each crawl runs as the scheduler's own job `crawl:<source>` (jobs.runner.run_recorded), so the jobs
    page lists it as running with its live progress, and the scheduler cannot start a second crawl of
    that source beside it. Every PROGRESS_EVERY_S seconds a plain line says how far the crawl is."""

    def __init__(self, cfg, crawl: bool = True):
        super().__init__(name="demo-first-run", daemon=True)
        self.cfg = cfg
        self.crawl = crawl
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            if self.crawl:
                self._crawl_all()
            if not self.stopping.is_set():
                _enforcement_loop(self.cfg)
        except Exception as exc:  # noqa: BLE001 - the web app goes on serving; the error is one line
            click.echo(f"错误 error: 首次采集后的准备未完成 first run stopped: {exc}", err=True)

    def stop(self) -> None:
        """Stop the running crawl (SIGTERM: it saves its journal, the next crawl resumes) and wait."""
        from jobs import tasks

        self.stopping.set()
        tasks.stop_crawls()
        if self.is_alive():
            self.join(timeout=60)

    def _crawl_all(self) -> None:
        from crawlers.sources import load_sources
        from jobs import runner

        for source in load_sources(self.cfg).values():
            if self.stopping.is_set():
                return
            click.echo(f"首次采集 first crawl: {source.name} (最多 {source.page_budget} 页) …")
            ticker = _ProgressTicker(self.cfg, source.name, self.stopping)
            ticker.start()
            try:
                run_id = runner.run_recorded(self.cfg, f"crawl:{source.name}", "crawl", {"source": source.name}, "demo")
            finally:
                ticker.done.set()
            click.echo("  " + _run_line(self.cfg, run_id))


class _ProgressTicker(threading.Thread):
    """Prints the running crawl's progress file every PROGRESS_EVERY_S seconds until `done`."""

    def __init__(self, cfg, source: str, stopping: threading.Event):
        super().__init__(name=f"demo-progress-{source}", daemon=True)
        self.cfg, self.source, self.stopping = cfg, source, stopping
        self.done = threading.Event()
        self.t0 = time.monotonic()

    def run(self) -> None:
        from crawlers import live_progress

        while not self.done.wait(PROGRESS_EVERY_S) and not self.stopping.is_set():
            data = live_progress.read(self.cfg, self.source) or {}
            pages, hits = (data.get("pages"), data.get("hits")) if data.get("state") == "running" else (0, 0)
            click.echo(
                f"  采集中 crawling {self.source}: {pages or 0} 页 pages, {hits or 0} 条发现 hits, "
                f"{time.monotonic() - self.t0:.0f} 秒 s"
            )


def _run_line(cfg, run_id: int) -> str:
    """One line for a finished crawl run: its figures, or why it failed (its stderr's tail)."""
    from core import db, vocabulary
    from core.models import JobRun

    with db.session_scope(cfg) as s:
        run = s.get(JobRun, run_id)
        if run.status == "ok":
            return f"{run.pages} 页 pages, {run.hits} 条发现 hits"
        return f"{vocabulary.name(vocabulary.JOB_RUN_STATUS, run.status)}: {run.error or ''}"


def _ensure_users(cfg) -> None:
    from core import db, users
    from core.models import User
    from grids import tree

    password = cfg.demo.password
    with db.session_scope(cfg) as s:
        for username, role, name, grids in DEMO_USERS:
            if s.scalar(select(User).where(User.username == username)) is None:
                users.create_user(s, username, password, role, name, tree.leaves_for_codes(s, grids))


def _ensure_anchor_key(cfg) -> None:
    """The key that signs the evidence chain's head (evidence.anchor_key_file, outside data_dir); made
    on the demo's first run, so its crawls anchor what they record."""
    from evidence import anchor

    if not anchor.key_path(cfg).exists():
        path, key_id = anchor.generate_key(cfg)
        click.echo(f"证据锚定密钥 evidence anchor key: {path} (key id {key_id})")


class SampleSiteProcess:
    """The bundled sample network in its own process (`python -m samplesite`). It is a development
    fixture: the product never imports it, so the demo runs it the way a user would."""

    def __init__(self, proc: subprocess.Popen, url: str):
        self.proc = proc
        self.url = url

    @classmethod
    def start(cls, cfg) -> SampleSiteProcess:
        proc = subprocess.Popen(
            [sys.executable, "-m", "samplesite", "--quiet"],
            env=child_environ(cfg),
            preexec_fn=die_with_parent,  # not left serving when the demo is killed -9
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        # Its first line names the URL once it listens; EOF means it exited (its one-line error,
        # such as a port in use, went to the terminal on stderr).
        first = proc.stdout.readline()
        match = re.search(r"(https?://\S+?)/?\s", first)
        if match is None:
            proc.wait(timeout=30)
            raise UserError(f"the sample site did not start (exit code {proc.returncode})")
        # Nothing more is read from its stdout; drain it so the child never blocks on a full pipe.
        threading.Thread(target=proc.stdout.read, name="samplesite-stdout", daemon=True).start()
        click.echo(f"示例公网站点 sample public network: {match.group(1)}/")
        return cls(proc, match.group(1))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _enforcement_loop(cfg) -> None:
    """Grades on the map, a recent draw, and one clue routed to a grid, as the demo promises."""
    from core import db
    from core.models import Clue, Hit, User
    from hits.clues import confirm_hit
    from jobs import tasks

    grades = tasks.grade_venues(cfg).detail["grades"]
    click.echo("风险分级 grading: " + "，".join(f"{g} 级 {grades.get(g, 0)} 家" for g in ("A", "B", "C", "D")))
    draw = tasks.run_draw(cfg, seed="wangxun-demo", publish=True).detail
    click.echo(f"双随机抽查 draw #{draw['draw']}: {draw['venues']} venues (seed {draw['seed']})")
    with db.session_scope(cfg) as s:
        if s.scalar(select(Clue.id)) is not None:
            return
        hit = s.scalar(select(Hit).where(Hit.status == "new", Hit.grid_id.is_not(None)).order_by(Hit.score.desc()))
        patrol = s.scalar(select(User).where(User.username == "patrol"))
        if hit is not None and patrol is not None:
            clue = confirm_hit(s, hit.id, patrol)
            click.echo(f"线索 clue #{clue.id}: hit #{hit.id} routed to grid {clue.grid_id}")


def _start_scheduler(cfg):
    """The scheduler runs as its own process, never inside a web worker."""
    return subprocess.Popen(
        [sys.executable, "-m", "jobs"],
        env=child_environ(cfg),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=die_with_parent,  # not left running (and crawling) when the demo is killed -9
    )


def _stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM (the scheduler then stops its own crawls), and kill after a grace period."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _serve(cfg) -> None:
    from webmap import create_app

    host, port = cfg.demo.host, cfg.demo.web_port
    click.echo("")
    click.echo(f"网巡 Wangxun 已启动: http://{host}:{port}/")
    click.echo(f"演示账号 demo logins (password 密码: {cfg.demo.password}):")
    for username, role, name, grids in DEMO_USERS:
        click.echo(f"  {username:<10} {role:<13} {name}" + (f"  zone {', '.join(grids)}" if grids else ""))
    click.echo("Ctrl-C 退出 to stop.")
    create_app(config=cfg).run(host=host, port=port, threaded=True, use_reloader=False)
