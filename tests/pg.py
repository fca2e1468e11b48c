"""Throwaway PostgreSQL for the tests: a server of our own, one database per test.

`Server.start()` runs `initdb` in a temporary folder and starts `postgres` on a Unix socket in that
folder (no TCP port, so nothing else on the machine can reach it or collide with it). initdb and
pg_ctl refuse to run as root, and CI runs as root, so as root the server runs as the unprivileged
system user that scripts/install_system_deps.sh creates (`wangxun-test`), through runuser. The
server is tuned for throwaway data (no fsync), and stopped and removed by `stop()`.

`Databases` makes one database per test as a copy of a template migrated once (CREATE DATABASE …
TEMPLATE is a file copy, much faster than running the migrations again) and drops it afterwards.

Settings (environment):
- WANGXUN_TEST_POSTGRES_URL: use that existing server (a URL whose user may create databases)
  instead of starting one. Databases are created on it with unique names and dropped.
- WANGXUN_TEST_POSTGRES=off: run no PostgreSQL test (they are skipped, saying so). Without it, a
  machine without PostgreSQL fails those tests with a message naming the install script.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

SERVER_USER = "wangxun-test"
URL_ENV = "WANGXUN_TEST_POSTGRES_URL"
SWITCH_ENV = "WANGXUN_TEST_POSTGRES"
INSTALL_HINT = "run `bash scripts/install_system_deps.sh` (it installs postgresql and creates the user wangxun-test)"


# Run by Server._watch: argv = [pid to watch, server folder, the stop command...].
_WATCHDOG = """
import os, shutil, subprocess, sys, time
pid, folder, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
while True:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        break
    time.sleep(1)
subprocess.run(stop, capture_output=True, timeout=120)
shutil.rmtree(folder, ignore_errors=True)
"""


class Unavailable(Exception):
    """No PostgreSQL to test on; the message says what to do."""


def disabled() -> bool:
    return os.environ.get(SWITCH_ENV, "").strip().lower() in ("off", "0", "no", "false")


def find_bin() -> Path:
    """The folder of initdb and pg_ctl: on PATH, else Debian's newest /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    if not versions:
        raise Unavailable(f"PostgreSQL's initdb and pg_ctl were not found; {INSTALL_HINT}")
    return Path(versions[-1]).parent


class Server:
    """One throwaway PostgreSQL server (see the module docstring)."""

    def __init__(self):
        self.bindir = find_bin()
        self.user = None
        if os.geteuid() == 0:
            try:
                self.user = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise Unavailable(
                    f"tests run as root but the user {SERVER_USER} does not exist; {INSTALL_HINT}"
                ) from None
        self.dir: Path | None = None
        self.started = False
        self.watchdog: subprocess.Popen | None = None

    @property
    def datadir(self) -> Path:
        return self.dir / "data"

    @property
    def url(self) -> str:
        # The socket folder in the query string: psycopg (libpq) reads host=/path as a Unix socket.
        return f"postgresql+psycopg://postgres@/postgres?host={self.dir}"

    def _command(self, *args: str) -> list[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        return ["runuser", "-u", SERVER_USER, "--", *cmd] if self.user is not None else cmd

    def _run(self, *args: str, timeout: float = 120) -> None:
        done = subprocess.run(self._command(*args), capture_output=True, text=True, timeout=timeout, cwd=self.dir)
        if done.returncode != 0:
            log = (self.dir / "server.log").read_text(errors="replace")[-2000:] if self.dir else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()}\n{log}")

    def start(self, settings: dict[str, str] | None = None) -> Server:
        """`settings`: more server settings (name -> value), e.g. a benchmark's shared_buffers."""
        # A short path: a Unix socket path must stay under ~100 bytes.
        self.dir = Path(tempfile.mkdtemp(prefix="wxpg-", dir="/tmp" if os.path.isdir("/tmp") else None))
        if self.user is not None:
            os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)
        self._run("initdb", "-D", str(self.datadir), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C",
                  "--no-sync", "--no-instructions")  # fmt: skip
        # Throwaway data: no fsync, no full-page writes, no TCP; enough connections for the
        # tests that run crawls and threads at once.
        options = (
            f"-k {self.dir} -c listen_addresses= -F -c full_page_writes=off -c synchronous_commit=off "
            "-c max_connections=200 -c shared_buffers=32MB"
        ) + "".join(f" -c {name}={value}" for name, value in (settings or {}).items())
        self._run("pg_ctl", "-D", str(self.datadir), "-l", str(self.dir / "server.log"), "-w", "-o", options, "start")
        self.started = True
        self._watch()
        return self

    def _watch(self) -> None:
        """A small process of its own session that stops the server and removes its folder if this
        process dies without doing so (kill -9, a killed xdist worker): no server outlives the tests."""
        stop = self._command("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")
        self.watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(self.dir), *stop],
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        try:
            if self.started:
                self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")
                self.started = False
        finally:
            if self.dir is not None:
                shutil.rmtree(self.dir, ignore_errors=True)
                self.dir = None
            if self.watchdog is not None:
                self.watchdog.kill()
                self.watchdog.wait()
                self.watchdog = None


class Databases:
    """Databases on one server: a migrated template, and a fresh copy of it per test."""

    def __init__(self, server_url: str, migrate):
        self.server_url = make_url(server_url)
        self.admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self.prefix = f"wx_{uuid.uuid4().hex[:8]}"  # unique per test process: servers may be shared
        self.template = f"{self.prefix}_template"
        self.migrate = migrate
        self.migrated = False

    def url(self, name: str) -> str:
        return self.server_url.set(database=name).render_as_string(hide_password=False)

    def _sql(self, statement: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(statement))

    def create(self, migrated: bool = True) -> str:
        """A new database (a copy of the migrated template, or empty); returns its URL."""
        if migrated and not self.migrated:
            self._sql(f'CREATE DATABASE "{self.template}"')
            self.migrate(self.url(self.template))  # closes its connections: a template must have none
            self.migrated = True
        name = f"{self.prefix}_{uuid.uuid4().hex[:12]}"
        self._sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{self.template}"' if migrated else ""))
        return self.url(name)

    def drop(self, url: str) -> None:
        # FORCE ends connections a test left open (a thread, a crawl subprocess's pool).
        self._sql(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')

    def close(self) -> None:
        if self.migrated:
            self._sql(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        self.admin.dispose()
