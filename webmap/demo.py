"""`wangxun demo`: everything on one machine, offline, in one command.

Steps: create/upgrade the database, load the sample district (姑苏区), create demo logins, start the
bundled sample public network, crawl every demo source once (each crawl in its own process, as in
production), grade the venues, make a 双随机 draw, route one clue to its grid, start the scheduler, and
serve the web app on 127.0.0.1 until Ctrl-C.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading

import click
from sqlalchemy import select

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
@click.option("--no-serve", is_flag=True, help="Prepare everything, then exit instead of serving.")
@click.pass_context
def demo_cmd(ctx, no_crawl, no_serve):
    """Load the sample district, crawl the bundled sample site and start the web app."""
    from core import db
    from grids.sample.load import load_sample

    cfg = load_config(ctx)
    db.upgrade(cfg)
    counts = load_sample(cfg)
    click.echo("示例辖区 sample district: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    _ensure_users(cfg)
    _ensure_anchor_key(cfg)
    site = SampleSiteProcess.start(cfg)
    scheduler = None
    try:  # whatever happens (Ctrl-C during the first crawl included), no child outlives the demo
        if not no_crawl:
            _crawl_all(cfg, site.url)
        _enforcement_loop(cfg)
        if no_serve:
            return
        scheduler = _start_scheduler(cfg, site.url)
        _serve(cfg)
    finally:
        if scheduler is not None:
            scheduler.terminate()
        site.stop()


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


def _crawl_all(cfg, site_url: str) -> None:
    """One process per source: Scrapy's reactor cannot restart, and a crash stays contained."""
    from crawlers.sources import load_sources
    from crawlers.summary import parse_summary_line

    env = child_environ(cfg, crawl__sample_site_url=site_url)
    for source in load_sources(cfg).values():
        click.echo(f"首次采集 first crawl: {source.name} …")
        # stderr is left to the terminal: the crawl's progress bar and warnings show while it runs
        # (a polite first crawl takes minutes); stdout carries the summary line.
        proc = subprocess.run(
            [sys.executable, "-m", "crawlers", source.name], env=env, text=True, stdout=subprocess.PIPE
        )
        summary = next((s for s in map(parse_summary_line, proc.stdout.splitlines()) if s), None)
        if proc.returncode != 0 or summary is None:
            click.echo(
                f"  crawl of {source.name} failed (exit code {proc.returncode}); its messages are above. "
                f"{proc.stdout.strip()[-300:]}",
                err=True,
            )
            continue
        click.echo(f"  {summary['pages']} pages, {summary['new_versions']} new versions, {summary['hits']} hits")


def _enforcement_loop(cfg) -> None:
    """Grades on the map, a recent draw, and one clue routed to a grid, as the demo promises."""
    from core import db
    from core.models import Clue, Hit, User
    from hits.clues import confirm_hit
    from jobs import tasks

    grades = tasks.grade_venues(cfg).detail
    click.echo(f"风险分级 grading: {grades['grades']}")
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


def _start_scheduler(cfg, site_url: str):
    """The scheduler runs as its own process, never inside a web worker."""
    env = child_environ(cfg, crawl__sample_site_url=site_url)
    return subprocess.Popen(
        [sys.executable, "-m", "jobs"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


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
