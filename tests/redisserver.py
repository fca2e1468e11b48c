"""Throwaway Redis for the tests: a `redis-server` of our own on a free 127.0.0.1 port, no persistence,
in a temporary folder, stopped by `stop()`.

Like tests/pg.py, a small watchdog process of its own session stops the server and removes its folder
if the test process dies without doing so (kill -9, a killed xdist worker): no server outlives the
tests. Nothing depends on a system Redis service; scripts/install_system_deps.sh installs the binary.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

INSTALL_HINT = "run `bash scripts/install_system_deps.sh` (it installs redis-server)"

# argv = [pid to watch, server pid, folder]
_WATCHDOG = """
import os, shutil, signal, sys, time
pid, server, folder = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
while True:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        break
    time.sleep(1)
try:
    os.kill(server, signal.SIGKILL)
except ProcessLookupError:
    pass
shutil.rmtree(folder, ignore_errors=True)
"""


def find_binary() -> str:
    found = shutil.which("redis-server") or ("/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else "")
    if not found:
        raise RuntimeError(f"redis-server was not found; {INSTALL_HINT}")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self):
        self.dir: Path | None = None
        self.proc: subprocess.Popen | None = None
        self.watchdog: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = find_binary()
        self.dir = Path(tempfile.mkdtemp(prefix="wxredis-"))
        for _attempt in range(5):  # a port picked free may be taken before the server binds it
            self.port = _free_port()
            self.proc = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(self.dir), "--logfile", str(self.dir / "redis.log"), "--protected-mode", "yes"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            if self._wait_ready():
                self._watch()
                return self
            self.proc.kill()
            self.proc.wait()
        log = (self.dir / "redis.log").read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"redis-server did not start:\n{log}")

    def _wait_ready(self) -> bool:
        import redis

        for _ in range(400):  # up to 20 s on a loaded machine
            if self.proc.poll() is not None:
                return False
            try:
                redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2).ping()
                return True
            except redis.ConnectionError:
                time.sleep(0.05)
        return False

    def _watch(self) -> None:
        self.watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(self.proc.pid), str(self.dir)],
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, decode_responses=True)

    def flush(self) -> None:
        self.client().flushall()

    def stop(self) -> None:
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.proc = None
        finally:
            if self.dir is not None:
                shutil.rmtree(self.dir, ignore_errors=True)
                self.dir = None
            if self.watchdog is not None:
                self.watchdog.kill()
                self.watchdog.wait()
                self.watchdog = None
