"""The web app fixtures of tests/webmap (app, client, users_world) for the search pages' tests."""

from tests.webmap.conftest import PASSWORD, app, client, login, users_world  # noqa: F401
