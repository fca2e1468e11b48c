"""Verbs: `wangxun reindex`, `wangxun search`, `wangxun alerts`."""

from __future__ import annotations

import json

import click

from core.cli import load_config
from core.errors import ServiceUnavailable


@click.command("reindex")
@click.option("--drain-only", is_flag=True, help="Only index hits waiting in the outbox (no rebuild).")
@click.pass_context
def reindex_cmd(ctx, drain_only):
    """Rebuild the search index from the database (searches keep working; the new index is swapped in)."""
    import search
    from search import outbox

    cfg = load_config(ctx)
    if not drain_only:
        n = search.reindex(cfg, progress_bar=True)
        click.echo(f"reindexed {n} hit(s) with the {cfg.search.backend} backend")
    report = outbox.drain_report(cfg)
    click.echo(f"outbox: {report.indexed} hit(s) indexed, {outbox.pending(cfg)} waiting")
    # Hits a crawl added during the drain are the next drain's work, not a failure; rows that were
    # waiting when it began and still wait are.
    if not report.ok:
        raise ServiceUnavailable(f"{report.left_behind} hit(s) still wait in the outbox: {report.reason()}")


@click.command("search", context_settings={"ignore_unknown_options": True})
@click.argument("query", nargs=-1, required=True)
@click.option("--sort", type=click.Choice(["relevance", "time"]), default=None)
@click.option("--page", default=1, show_default=True, type=int)
@click.option("--per-page", default=20, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (same shape as /api/search).")
@click.pass_context
def search_cmd(ctx, query, sort, page, per_page, as_json):
    """Search hits with the patrol query language, e.g. wangxun search 盗版 -招聘 platform:shop"""
    import search
    from search.query import QueryError
    from search.serialize import result_to_json

    cfg = load_config(ctx)
    try:
        r = search.search(cfg, " ".join(query), sort=sort, page=page, per_page=per_page)
    except QueryError as exc:
        click.echo(exc.caret(), err=True)  # the query and a caret under the mistake; the error line follows
        raise
    if as_json:
        click.echo(json.dumps(result_to_json(r), ensure_ascii=False, indent=2))
        return
    click.echo(f"共 {r.total}{'' if r.total_is_exact else '+'} 条" + (f"  ({r.notice})" if r.notice else ""))
    for h in r.hits:
        text = next((s.text for s in h.snippets if s.field == "text"), "")
        click.echo(
            f"#{h.id}  {h.doc.get('title') or '(无标题)'}  [{','.join(h.doc.get('labels') or [])}]"
            f"  {h.doc.get('detected_at')}\n    {text}"
            + (f"\n    依据：{h.doc['reason_names']}" if h.doc.get("reason_names") else "")
        )


@click.command("alerts")
@click.pass_context
def alerts_cmd(ctx):
    """Check saved searches now (the scheduler runs this as the check_alerts job)."""
    from search.alerts import check_alerts

    cfg = load_config(ctx)
    click.echo(f"{check_alerts(cfg)} new alert(s)")
