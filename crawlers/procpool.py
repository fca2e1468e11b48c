"""A small process pool for an asyncio event loop: each worker process is reached over its own
socket pair, and calls are answered as futures of the running loop.

Why not concurrent.futures.ProcessPoolExecutor: its queue feeder and result threads fight the
crawl's event loop for the GIL, and every call wakes them through another pipe. Profiles of the
static crawl showed that plumbing at about a tenth of the crawl process's CPU. Here a call is one
pickled frame written by the event loop itself (buffered, never blocking it) and one frame read back
by a reader task; nothing else runs in the crawl process.

Frames are an 8-byte big-endian length and a pickle. A request is (call id, function, args); a
reply is (call id, ok, result or exception). A worker that dies fails its pending calls with
WorkerDied, and later calls go to the others; when none is left, every call fails.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import pickle
import signal
import socket
import struct
import traceback
from collections.abc import Callable
from typing import Any

_HEADER = struct.Struct(">Q")


class WorkerDied(RuntimeError):
    """The worker process running a call exited before answering it."""


class RemoteError(RuntimeError):
    """A worker's exception that could not be sent back as itself (not picklable)."""


def _serve(sock: socket.socket, initializer: Callable | None, initargs: tuple) -> None:
    """The worker's loop: run each request and answer it; exit when the crawl process goes away."""
    # Ctrl-C reaches the whole process group; the crawl process shuts down gracefully and needs the
    # pages in flight finished, so only the closing socket ends a worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if initializer is not None:
        initializer(*initargs)
    _send_frame(sock, (0, True, "ready"))
    while True:
        try:
            call_id, fn, args = pickle.loads(_recv_frame(sock))
        except EOFError:
            return  # the crawl process closed our socket (or died)
        try:
            reply = (call_id, True, fn(*args))
        except BaseException as exc:  # noqa: BLE001 - the caller decides what an exception means
            reply = (call_id, False, exc)
        try:
            try:
                _send_frame(sock, reply)
            except (pickle.PicklingError, TypeError, AttributeError):
                detail = "".join(traceback.format_exception(reply[2])) if not reply[1] else "result is not picklable"
                _send_frame(sock, (call_id, False, RemoteError(detail)))
        except OSError:
            return  # the crawl process is gone; nobody waits for the answer


def _send_frame(sock: socket.socket, obj: Any) -> None:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(_HEADER.pack(len(payload)) + payload)


def _recv_frame(sock: socket.socket) -> bytes:
    size = _HEADER.unpack(_recv_exact(sock, _HEADER.size))[0]
    return _recv_exact(sock, size)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    # MSG_WAITALL: one system call and no copy for a whole page's frame in the usual case; the loop
    # only finishes what a signal or a closing peer cut short.
    data = sock.recv(size, socket.MSG_WAITALL) if size else b""
    if len(data) == size:
        return data
    buf = bytearray(data)
    while len(buf) < size:
        chunk = sock.recv(size - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return bytes(buf)


class _Worker:
    def __init__(self, process, sock: socket.socket):
        self.process = process
        self.sock = sock
        self.pending: dict[int, asyncio.Future] = {}
        self.writer: asyncio.StreamWriter | None = None
        self.reader_task: asyncio.Task | None = None
        self.alive = True


class AsyncProcessPool:
    """`processes` spawned workers running `initializer(*initargs)` first; `await call(fn, *args)`."""

    def __init__(self, processes: int, initializer: Callable | None = None, initargs: tuple = ()):
        # spawn, not fork: a forked child would inherit the reactor and pooled DB connections.
        ctx = multiprocessing.get_context("spawn")
        self._workers: list[_Worker] = []
        self._next_id = 1
        self._connected: asyncio.Future | None = None
        for _ in range(processes):
            mine, theirs = socket.socketpair()
            process = ctx.Process(
                target=_serve, args=(theirs, initializer, initargs), daemon=True, name="wangxun-page-worker"
            )
            process.start()
            theirs.close()
            self._workers.append(_Worker(process, mine))

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Block until every worker has run its initializer (before the event loop starts)."""
        for w in self._workers:
            w.sock.settimeout(timeout)
            try:
                call_id, ok, result = pickle.loads(_recv_frame(w.sock))
            except (EOFError, OSError) as exc:
                raise WorkerDied(f"a page worker failed to start (exit code {w.process.exitcode})") from exc
            if (call_id, ok, result) != (0, True, "ready"):
                raise WorkerDied(f"a page worker sent {result!r} instead of ready")
            w.sock.settimeout(None)

    async def call(self, fn: Callable, *args: Any) -> Any:
        if self._connected is None:  # the first call connects; calls made meanwhile wait for it
            self._connected = asyncio.ensure_future(self._connect())
        await self._connected
        live = [w for w in self._workers if w.alive]
        if not live:
            raise WorkerDied("no page worker is running")
        worker = min(live, key=lambda w: len(w.pending))  # the least busy one
        call_id, self._next_id = self._next_id, self._next_id + 1
        payload = pickle.dumps((call_id, fn, args), protocol=pickle.HIGHEST_PROTOCOL)
        future = asyncio.get_running_loop().create_future()
        worker.pending[call_id] = future
        worker.writer.write(_HEADER.pack(len(payload)) + payload)
        await worker.writer.drain()  # only waits when a worker's socket buffer is full
        return await future

    async def _connect(self) -> None:
        for w in self._workers:
            w.sock.setblocking(False)
            reader, w.writer = await asyncio.open_connection(sock=w.sock)
            w.reader_task = asyncio.ensure_future(self._read_replies(w, reader))

    async def _read_replies(self, w: _Worker, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                size = _HEADER.unpack(await reader.readexactly(_HEADER.size))[0]
                call_id, ok, result = pickle.loads(await reader.readexactly(size))
                future = w.pending.pop(call_id, None)
                if future is None or future.done():
                    continue
                if ok:
                    future.set_result(result)
                else:
                    future.set_exception(result)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            w.alive = False
            for future in w.pending.values():
                if not future.done():
                    future.set_exception(WorkerDied(f"page worker {w.process.pid} exited"))
            w.pending.clear()

    def close(self, timeout: float = 30.0) -> None:
        """Shut the sockets down (workers exit when they read EOF) and wait for the processes.

        Called after the event loop stopped: a shutdown acts on the socket at once, where closing
        the stream would wait for a loop iteration that never comes."""
        for w in self._workers:
            try:
                w.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed, or the worker is gone
        self._finish_readers()
        for w in self._workers:
            w.process.join(timeout)
            if w.process.is_alive():
                w.process.kill()
                w.process.join(5)
            w.sock.close()

    def _finish_readers(self) -> None:
        """Let the reader tasks see EOF and end, so none is left pending when the loop goes away."""
        tasks = [w.reader_task for w in self._workers if w.reader_task is not None and not w.reader_task.done()]
        if not tasks:
            return
        loop = tasks[0].get_loop()
        if loop.is_closed():
            return
        if loop.is_running():
            for task in tasks:
                task.cancel()
            return
        loop.run_until_complete(asyncio.wait(tasks, timeout=10))
