"""Shared fixtures: a fresh config and database per test (flaskr's pattern), offline by default."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from core import config, db

TESTS_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = TESTS_DIR.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Tests that run whole crawls (crawl subprocesses against the sample site) carry the `e2e` mark.
E2E_DIRS = (TESTS_DIR / "e2e",)


@pytest.hookimpl(tryfirst=True)  # before `-m` selection reads the marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        if any(item.path.is_relative_to(d) for d in E2E_DIRS):
            item.add_marker(pytest.mark.e2e)


def make_config(tmp_path: Path, **overrides):
    """A Config whose data (database, evidence, crawl state) lives under tmp_path."""
    base = {
        "core.data_dir": str(tmp_path / "var"),
        "core.database_url": "",
        # Never the user's real evidence key (~/.config/wangxun): tests make their own when they need one.
        "evidence.anchor_key_file": str(tmp_path / "keys" / "evidence-anchor.key"),
    }
    base.update(overrides)
    return config.load(
        overrides=base, environ={k: v for k, v in os.environ.items() if not k.startswith("WANGXUN_") or "__" not in k}
    )


@pytest.fixture
def cfg(tmp_path):
    """Config with an empty, fully migrated SQLite database in tmp_path."""
    c = make_config(tmp_path)
    db.upgrade(c)
    yield c
    db.dispose(c)


@pytest.fixture
def session(cfg):
    with db.session_scope(cfg) as s:
        yield s
