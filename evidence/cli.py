"""`wangxun evidence verify` and `wangxun evidence export HIT_ID`."""

from __future__ import annotations

from pathlib import Path

import click

from core.errors import UserError


@click.group("evidence")
def evidence_cmd():
    """电子证据：核验证据链与文件，导出证据包（evidence chain check and case packages）."""


@evidence_cmd.command("verify")
@click.pass_context
def verify_cmd(ctx):
    """Check the whole hash chain and every stored file; exit 1 naming each broken record."""
    from evidence import verify

    report = verify(_initialised_config(ctx), progress=True)
    for problem in report.problems:
        click.echo(str(problem))
    if not report.ok:
        raise UserError(
            f"证据链核验未通过 evidence verification failed: {len(report.problems)} problem(s) "
            f"in {report.checked} record(s)"
        )
    click.echo(
        f"证据链核验通过 OK: {report.checked} record(s), {report.files_checked} file(s) checked; "
        f"chain head seq {report.head_seq} hash {report.head_hash}"
    )


@evidence_cmd.command("export")
@click.argument("hit_id", type=int)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the package (default: evidence.export_dir, else <data_dir>/exports).",
)
@click.option("--officer", default="", help="提取人: the officer's name printed on the summary.")
@click.pass_context
def export_cmd(ctx, hit_id, out_dir, officer):
    """Write the evidence package of HIT_ID (directory and .zip) for the case file."""
    import json

    from evidence import export_hit

    cfg = _initialised_config(ctx)
    target = out_dir or (cfg.resolve(cfg.evidence.export_dir) if cfg.evidence.export_dir else cfg.data_dir / "exports")
    folder = export_hit(cfg, hit_id, target, officer.strip())
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    click.echo(f"证据包 package: {folder}")
    click.echo(f"压缩包 zip: {folder.with_name(folder.name + '.zip')}")
    if manifest["pdf"]["note"]:
        click.echo(manifest["pdf"]["note"])


def _initialised_config(ctx):
    """The config, after checking the database has a schema (an empty file would "verify" as clean)."""
    from core import db
    from core.cli import load_config

    cfg = load_config(ctx)
    if db.current_revision(cfg) is None:
        raise UserError(f"database {cfg.database_url} has no schema yet; run `wangxun init` first")
    return cfg
