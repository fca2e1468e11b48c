"""The web app fixtures of tests/webmap (app, client, users_world) for the security tests: request them by
name, without importing them into the test module (ruff's F811 would flag every parameter)."""

from tests.webmap.conftest import app, client, users_world  # noqa: F401
