"""The web app's verbs: `wangxun serve` and `wangxun user`."""

from __future__ import annotations

import contextlib

import click
from werkzeug.serving import WSGIRequestHandler

from core.cli import load_config


class _NoBannerHandler(WSGIRequestHandler):
    """Werkzeug's handler without its `Server: Werkzeug/x Python/y` header: the software and version
    of the server tell a prober which published bugs to try."""

    def send_response(self, code, message=None):
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())


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
    app.run(host=host, port=port, threaded=True, use_reloader=False, request_handler=_NoBannerHandler)


@click.group("user")
def user_cmd():
    """Manage logins: add users, change passwords and roles, disable them, end their sessions.

    Every change but `add` and `enable` ends the user's open web sessions at once."""


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


@user_cmd.command("passwd")
@click.argument("username")
@click.password_option(prompt="New password")
@click.pass_context
def user_passwd(ctx, username, password):
    """Set a new password (ends the user's sessions)."""
    from core import users

    with _user(ctx, username) as (s, u):
        users.set_password(s, u, password)
        click.echo(f"password of {u.username} changed; their sessions have ended")


@user_cmd.command("role")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "patrol", "grid_manager"]), required=True)
@click.option(
    "--grid", "grid_codes", multiple=True, help="New zone of a grid manager (grid or street code, repeatable)."
)
@click.pass_context
def user_role(ctx, username, role, grid_codes):
    """Change a user's role, and a grid manager's zone (ends the user's sessions)."""
    from core import users
    from grids import tree

    with _user(ctx, username) as (s, u):
        zone = tree.leaves_for_codes(s, grid_codes) if grid_codes else None
        users.set_role(s, u, role, zone)
        click.echo(f"{u.username} is now {role}; their sessions have ended")


@user_cmd.command("disable")
@click.argument("username")
@click.pass_context
def user_disable(ctx, username):
    """Disable a login (ends the user's sessions; the account and its records stay)."""
    from core import users

    with _user(ctx, username) as (s, u):
        users.set_active(s, u, False)
        click.echo(f"{u.username} disabled; their sessions have ended")


@user_cmd.command("enable")
@click.argument("username")
@click.pass_context
def user_enable(ctx, username):
    """Enable a disabled login again."""
    from core import users

    with _user(ctx, username) as (s, u):
        users.set_active(s, u, True)
        click.echo(f"{u.username} enabled")


@user_cmd.command("logout")
@click.argument("username")
@click.pass_context
def user_logout(ctx, username):
    """End every web session of a user (a lost phone, a shared computer)."""
    from core import users

    with _user(ctx, username) as (s, u):
        n = users.end_sessions(s, u)
        click.echo(f"{n} session(s) of {u.username} ended")


@contextlib.contextmanager
def _user(ctx, username: str):
    """One transaction with the named user; an unknown name is a UserError (one line, exit 1)."""
    from core import db, users
    from core.errors import UserError

    with db.session_scope(load_config(ctx)) as s:
        u = users.find_user(s, username)
        if u is None:
            raise UserError(f"no user {username!r}")
        yield s, u
