"""The web app's verbs: `wangxun serve` and `wangxun user`."""

from __future__ import annotations

import click

from core.cli import load_config


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.pass_context
def serve_cmd(ctx, host, port):
    """Run the web app (single process; behind a real deployment use gunicorn wsgi:app)."""
    from webmap import create_app

    cfg = load_config(ctx)
    app = create_app(config=cfg)
    click.echo(f"网巡 web app: http://{host}:{port}/")
    app.run(host=host, port=port, threaded=True, use_reloader=False)


@click.group("user")
def user_cmd():
    """Manage logins: add users, reset passwords."""


@user_cmd.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "patrol", "grid_manager"]), required=True)
@click.option("--name", "display_name", help="Name shown in the app (Chinese is fine).")
@click.option("--grid", "grid_codes", multiple=True, help="Grid or street code of a grid manager's zone (repeatable).")
@click.password_option()
@click.pass_context
def user_add(ctx, username, role, display_name, grid_codes, password):
    """Add a login."""
    from core import db, users
    from grids import tree

    cfg = load_config(ctx)
    with db.session_scope(cfg) as s:
        zone = tree.leaves_for_codes(s, grid_codes)
        u = users.create_user(s, username, password, role, display_name, zone)
        click.echo(f"user {u.username} ({u.role}) created")
