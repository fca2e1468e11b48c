"""The `wangxun` command. Verbs are thin wrappers over plain functions that live in each package's
cli.py; they are imported only when used, so `wangxun crawl` does not load Flask and `wangxun serve`
does not load Scrapy.

User mistakes (bad files, bad settings) raise core.errors.UserError and print as one line with a
non-zero exit code; anything else is a bug and keeps its traceback.
"""
from __future__ import annotations

import importlib

import click

from core.cli import run

# verb -> "module:click command". Each issue adds its verbs here.
VERBS: dict[str, str] = {
    "init": "webmap.cli_base:init_cmd",
    "serve": "webmap.cli_base:serve_cmd",
    "demo": "webmap.demo:demo_cmd",
    "user": "webmap.cli_base:user_cmd",
    "import-grids": "grids.cli:import_grids_cmd",
    "import-venues": "grids.cli:import_venues_cmd",
    "import-agencies": "grids.cli:import_agencies_cmd",
    "import-inspections": "grids.cli:import_inspections_cmd",
    "load-sample": "grids.cli:load_sample_cmd",
    "jobs": "jobs.cli:jobs_cmd", "run": "jobs.cli:run_cmd", "grade": "jobs.cli:grade_cmd", "draw": "jobs.cli:draw_cmd",
    "samplesite": "crawlers.samplesite.cli:samplesite_cmd",
    "evidence": "crawlers.evidence.cli:evidence_cmd",
    "crawl": "crawlers.cli:crawl_cmd",
    "sources": "crawlers.cli:sources_cmd",
    "classify": "crawlers.detection.cli:classify_cmd",
    "reindex": "search.cli:reindex_cmd", "search": "search.cli:search_cmd", "alerts": "search.cli:alerts_cmd",
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
@click.option("--config", "config_path", envvar="WANGXUN_CONFIG", type=click.Path(dir_okay=False),
              help="config.toml to use (default: the project's).")
@click.pass_context
def cli(ctx, config_path):
    """网巡 Wangxun: online patrol, grid map and scheduled enforcement work."""
    ctx.obj = {"config_path": config_path}


def main(argv: list[str] | None = None) -> None:
    run(cli, argv, "wangxun")


def load_config(ctx: click.Context):
    """The Config for this invocation (verbs call this instead of reading files themselves)."""
    from core import config

    return config.load(ctx.find_root().obj.get("config_path"))


if __name__ == "__main__":
    main()
