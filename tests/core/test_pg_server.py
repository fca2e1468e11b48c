"""The suite's own PostgreSQL servers (tests/pg.py): run unprivileged, gone when the tests are, and a
missing installation is a failure that says what to run, not a skip."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests import pg
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.skipif(pg.disabled(), reason=f"{pg.SWITCH_ENV}=off")


def _gone(folder: Path, timeout: float = 60) -> bool:
    """Wait (bounded) until the server's folder is removed and no postgres process serves it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = subprocess.run(["pgrep", "-f", f"postgres -D {folder}"], capture_output=True).returncode == 0
        if not folder.exists() and not running:
            return True
        time.sleep(0.2)
    return False


def test_a_server_runs_unprivileged_and_is_removed_when_stopped():
    server = pg.Server().start()
    folder = server.dir
    try:
        engine = create_engine(server.url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
            datadir = conn.execute(text("SHOW data_directory")).scalar_one()
        engine.dispose()
        owner = pwd.getpwuid(os.stat(datadir).st_uid).pw_name
        assert owner == (pg.SERVER_USER if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name)
        assert f"host={folder}" in server.url  # a Unix socket in its own folder, no TCP port
    finally:
        server.stop()
    assert _gone(folder)


def test_a_killed_test_process_leaves_no_server_behind():
    script = "from tests import pg; import time; s = pg.Server().start(); print(s.dir, flush=True); time.sleep(600)"
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        folder = Path(proc.stdout.readline().strip())
        assert folder.name.startswith("wxpg-") and (folder / "data" / "postmaster.pid").exists()
    finally:
        proc.kill()
        proc.wait()
    assert _gone(folder)


def test_without_postgresql_the_tests_fail_saying_what_to_install(monkeypatch):
    monkeypatch.setattr(pg.shutil, "which", lambda name: None)
    monkeypatch.setattr(pg.glob, "glob", lambda pattern: [])
    with pytest.raises(pg.Unavailable, match="install_system_deps.sh"):
        pg.Server()
