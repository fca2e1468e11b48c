"""Running a click command the way every entry point should: a user mistake (core.errors.UserError,
a bad option, a missing argument) prints one line and exits non-zero; a bug keeps its traceback.
Shared by `wangxun`, `python -m crawlers` and `python -m jobs`."""
from __future__ import annotations

import sys

import click

from core.errors import UserError


def run(command: click.Command, argv: list[str] | None, prog_name: str) -> None:
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
