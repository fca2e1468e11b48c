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
    if report.anchor_note:
        click.echo(f"未锚定 warning: {report.anchor_note}", err=True)
    if not report.ok:
        raise UserError(
            f"证据链核验未通过 evidence verification failed: {len(report.problems)} problem(s) "
            f"in {report.checked} record(s)"
        )
    last = report.last_anchor
    anchored = f"; {report.anchors} anchor(s), the last at seq {last['seq']} ({last['at']})" if last else ""
    click.echo(
        f"证据链核验通过 OK: {report.checked} record(s), {report.files_checked} file(s) checked; "
        f"chain head seq {report.head_seq} hash {report.head_hash}{anchored}"
    )


@evidence_cmd.command("keygen")
@click.option("--force", is_flag=True, help="Replace an existing key (anchors signed with it no longer verify).")
@click.pass_context
def keygen_cmd(ctx, force):
    """Make the key that signs the chain head (evidence.anchor_key_file), then anchor the head."""
    from core import db
    from core.cli import load_config
    from evidence import anchor

    cfg = load_config(ctx)
    path, key_id = anchor.generate_key(cfg, force=force)
    click.echo(f"证据锚定密钥 anchor key: {path} (key id {key_id}); public key {anchor.public_key_path(cfg)}")
    click.echo("请另行备份私钥 keep a copy of the key offline: without it anchors cannot be made.")
    if db.current_revision(cfg) is not None:
        _echo_anchor(anchor.anchor_head(cfg, "keygen"), anchor.anchors_path(cfg))


@evidence_cmd.command("anchor")
@click.pass_context
def anchor_cmd(ctx):
    """Sign the chain head now and append it to the anchors file (crawls and the nightly job do this)."""
    from evidence import anchor

    cfg = _initialised_config(ctx)
    _echo_anchor(anchor.anchor_head(cfg, "manual"), anchor.anchors_path(cfg))


def _echo_anchor(a: dict, path: Path) -> None:
    state = "anchored" if a["new"] else "already anchored"
    click.echo(f"{state}: head seq {a['seq']} hash {a['head']} as anchor {a['n']} in {path}")


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
