"""The `wangxun` command: its root, its verb table, and the two things every verb shares.

It lives in core, below every package, so that no package has to import the web app to load its
configuration. Verbs are thin wrappers over plain functions and live in each package's cli.py. The
table below names them as "module:command" strings, imported only when the verb is used: `wangxun
crawl` does not load Flask and `wangxun serve` does not load Scrapy. The strings are the one place
core refers to packages above it, and they are data, not imports.

A user mistake (core.errors.UserError, a bad option, a missing argument) prints one line and exits
non-zero; anything else is a bug and keeps its traceback. `python -m crawlers` and `python -m jobs`
run their commands through `run` too.
"""

from __future__ import annotations

import importlib
import sys

import click

from core.errors import UserError

# verb -> "module:click command"; a new verb is one line here and a command in its package's cli.py.
VERBS: dict[str, str] = {
    "init": "core.cli:init_cmd",
    "serve": "webmap.cli:serve_cmd",
    "demo": "webmap.demo:demo_cmd",
    "user": "webmap.cli:user_cmd",
    "import-grids": "grids.cli:import_grids_cmd",
    "import-venues": "grids.cli:import_venues_cmd",
    "import-agencies": "grids.cli:import_agencies_cmd",
    "import-inspections": "grids.cli:import_inspections_cmd",
    "import-roads": "grids.cli:import_roads_cmd",
    "load-sample": "grids.cli:load_sample_cmd",
    "jobs": "jobs.cli:jobs_cmd",
    "run": "jobs.cli:run_cmd",
    "grade": "jobs.cli:grade_cmd",
    "draw": "jobs.cli:draw_cmd",
    "samplesite": "samplesite.cli:samplesite_cmd",
    "evidence": "evidence.cli:evidence_cmd",
    "crawl": "crawlers.cli:crawl_cmd",
    "sources": "crawlers.cli:sources_cmd",
    "classify": "detection.cli:classify_cmd",
    "reindex": "search.cli:reindex_cmd",
    "search": "search.cli:search_cmd",
    "alerts": "search.cli:alerts_cmd",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(VERBS)

    def get_command(self, ctx, name):
        target = VERBS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    envvar="WANGXUN_CONFIG",
    type=click.Path(dir_okay=False),
    help="config.toml to use (default: the project's).",
)
@click.pass_context
def cli(ctx, config_path):
    """网巡 Wangxun: online patrol, grid map and scheduled enforcement work."""
    ctx.obj = {"config_path": config_path}


def main(argv: list[str] | None = None) -> None:
    run(cli, argv, "wangxun")


def load_config(ctx: click.Context):
    """The Config of this invocation: `wangxun --config`, else WANGXUN_CONFIG, else config.toml.
    Every verb calls this instead of reading files itself; it also serves commands run without the
    `wangxun` root (`python -m crawlers`, `python -m jobs`), whose root has no --config."""
    from core import config

    root = ctx.find_root()
    obj = root.obj if isinstance(root.obj, dict) else {}
    return config.load(obj.get("config_path"))


def run(command: click.Command, argv: list[str] | None, prog_name: str) -> None:
    """Run a click command the way every entry point should (see the module's docstring)."""
    try:
        command.main(args=argv, prog_name=prog_name, standalone_mode=False)
    except UserError as exc:
        click.echo(f"错误 error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)


@click.command("init")
@click.pass_context
def init_cmd(ctx):
    """Create the database or upgrade it to the current schema (rows are kept)."""
    from core import db

    cfg = load_config(ctx)
    before = db.current_revision(cfg)
    db.upgrade(cfg)
    after = db.current_revision(cfg)
    state = "created" if before is None else ("upgraded" if before != after else "already current")
    click.echo(f"database {state}: {cfg.database_url} (schema {after})")


if __name__ == "__main__":
    main()
