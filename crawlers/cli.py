"""`wangxun crawl SOURCE` / `python -m crawlers SOURCE` and `wangxun sources`."""

from __future__ import annotations

import sys

import click

from core.cli import load_config
from crawlers.sources import describe, load_sources, sources_path


@click.command("crawl")
@click.argument("source")
@click.option("--fresh", is_flag=True, help="Discard an unfinished run of this source instead of resuming it.")
@click.pass_context
def crawl_cmd(ctx, source, fresh):
    """Crawl one source (resumes its unfinished run if there is one); prints a CRAWL-SUMMARY line."""
    from crawlers.runner import EXIT_CODES, run_crawl
    from crawlers.summary import summary_line

    summary = run_crawl(load_config(ctx), source, fresh=fresh)
    click.echo(summary_line(summary))
    sys.stdout.flush()
    code = EXIT_CODES.get(summary["state"], 1)
    if code:
        sys.exit(code)


@click.command("sources")
@click.pass_context
def sources_cmd(ctx):
    """List the crawl sources of the sources file."""
    cfg = load_config(ctx)
    click.echo(f"# {sources_path(cfg)}")
    for src in load_sources(cfg).values():
        click.echo(describe(src))
