"""`wangxun crawl SOURCE` / `python -m crawlers SOURCE` and `wangxun sources`."""

from __future__ import annotations

import sys

import click

from core.cli import load_config
from core.errors import DiskFull, is_disk_full
from crawlers.sources import describe, load_sources, sources_path


@click.command("crawl")
@click.argument("source")
@click.option("--fresh", is_flag=True, help="Discard an unfinished run of this source instead of resuming it.")
@click.pass_context
def crawl_cmd(ctx, source, fresh):
    """Crawl one source (resumes its unfinished run if there is one); prints a CRAWL-SUMMARY line."""
    from crawlers.runner import EXIT_CODES, run_crawl
    from crawlers.summary import summary_line

    cfg = load_config(ctx)
    try:
        summary = run_crawl(cfg, source, fresh=fresh)
    except Exception as exc:
        if is_disk_full(exc):  # full before the crawl could even start (the database's own upgrade)
            raise DiskFull(_disk_full_message(cfg)) from None
        raise
    click.echo(summary_line(summary))
    sys.stdout.flush()
    if summary["state"] == "disk_full":
        click.echo(f"错误 error: {_disk_full_message(cfg)}", err=True)
    code = EXIT_CODES.get(summary["state"], 1)
    if code:
        sys.exit(code)


def _disk_full_message(cfg) -> str:
    return (
        f"磁盘已满 disk full at {cfg.data_dir}: the crawl stopped, nothing is lost (what was stored is kept, "
        "the rest is fetched again); run it again when there is space"
    )


@click.command("sources")
@click.pass_context
def sources_cmd(ctx):
    """List the crawl sources of the sources file."""
    cfg = load_config(ctx)
    click.echo(f"# {sources_path(cfg)}")
    for src in load_sources(cfg).values():
        click.echo(describe(src))
