"""The browser's only way out: a forward proxy on loopback that applies the crawl's egress policy.

A page's route (scrapy-playwright's abort predicate) sees the navigation and every subrequest, but
not the hops of a redirect, and it cannot see which address Chromium then connects to. So every
browser context of a rendered crawl is given this proxy (Playwright also sends loopback through it).
For each request (plain HTTP in absolute form) or tunnel (CONNECT, for HTTPS and WebSockets) the
proxy checks the host against the policy, resolves the name once, refuses it when any answer is a
non-public address the source does not name, and connects to exactly the vetted address; redirects
come back as new requests and are checked again. A refusal answers 403 and is counted.

Each plain request is sent upstream with `Connection: close` and its response is passed on with
`Connection: close`, so Chromium never reuses a proxy connection for another host.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from urllib.parse import urlsplit

from core.netpolicy import IPAddress

HEAD_LIMIT = 64 * 1024  # a request or response head longer than this is refused
CHUNK = 64 * 1024
_HOP_HEADERS = (b"connection", b"keep-alive", b"proxy-connection", b"proxy-authorization", b"te", b"upgrade")


class EgressProxy:
    def __init__(self, guard, connect_timeout_s: float = 30.0):
        self.guard = guard
        self.connect_timeout_s = connect_timeout_s
        self.server: asyncio.base_events.Server | None = None
        self.url = ""
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> str:
        """Listen on a free loopback port; returns the proxy's URL for Playwright."""
        if self.server is None:
            self.server = await asyncio.start_server(self._client, "127.0.0.1", 0, limit=HEAD_LIMIT)
            port = self.server.sockets[0].getsockname()[1]
            self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            for task in list(self._tasks):
                task.cancel()
            with contextlib.suppress(Exception):
                await self.server.wait_closed()
            self.server = None

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        upstream_writer = None
        try:
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.connect_timeout_s)
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
                return
            line, _, rest = head.partition(b"\r\n")
            parts = line.decode("latin-1").split(" ")
            if len(parts) != 3:
                return await _answer(writer, 400, "Bad Request")
            method, target, _version = parts
            if method.upper() == "CONNECT":
                host, port = _split_authority(target)
                what = target
                reason = "not host:port" if host is None else self.guard.policy.host_refusal(host, port)
            else:
                what = target
                url = urlsplit(target)
                host, port = url.hostname, None
                reason = None
                if url.scheme.lower() != "http" or not host:
                    reason = "only absolute http:// requests and CONNECT tunnels pass the proxy"
                else:
                    try:
                        port = url.port or 80
                    except ValueError:
                        reason = "invalid port"
                if reason is None:
                    reason = self.guard.policy.url_refusal(target)
            if reason is not None:
                self.guard.refuse(what, reason)
                return await _answer(writer, 403, "Forbidden")
            try:
                upstream_reader, upstream_writer = await self._connect(host, port)
            except _Refused as exc:
                self.guard.refuse_target(host, port, str(exc))
                return await _answer(writer, 403, "Forbidden")
            except (OSError, TimeoutError):
                return await _answer(writer, 502, "Bad Gateway")
            if method.upper() == "CONNECT":
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await writer.drain()
                await _pipe_both(reader, writer, upstream_reader, upstream_writer)
            else:
                path = url.path or "/"
                if url.query:
                    path += "?" + url.query
                request_line = f"{method} {path} HTTP/1.1\r\n".encode("latin-1")
                upstream_writer.write(request_line + _close_headers(rest))
                await upstream_writer.drain()
                await _pipe_both(reader, writer, upstream_reader, upstream_writer, rewrite_response=True)
        except (ConnectionError, asyncio.CancelledError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            if upstream_writer is not None:
                upstream_writer.close()
            writer.close()
            if task is not None:
                self._tasks.discard(task)

    async def _connect(self, host: str, port: int):
        """Resolve `host` once, vet every answer, connect to the first vetted address (never to the
        name again), and check the socket's peer once more."""
        loop = asyncio.get_running_loop()
        literal = _literal(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (socket.gaierror, UnicodeError) as exc:
                raise OSError(f"cannot resolve {host}: {exc}") from None
            addresses = []
            for *_ignored, sockaddr in infos:
                ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
                if ip not in addresses:
                    addresses.append(ip)
        for ip in addresses:
            reason = self.guard.policy.address_refusal(ip, port)
            if reason is not None:
                raise _Refused(f"{host} resolves to {ip}: {reason}" if literal is None else reason)
        if not addresses:
            raise OSError(f"{host} has no address")
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(str(addresses[0]), port, limit=HEAD_LIMIT), self.connect_timeout_s
        )
        peer = writer.get_extra_info("peername")
        reason = self.guard.policy.address_refusal(peer[0], port) if peer else "no peer address"
        if reason is not None:
            writer.close()
            raise _Refused(reason)
        return reader, writer


class _Refused(Exception):
    pass


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def _split_authority(target: str) -> tuple[str | None, int]:
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536 or not host:
        return None, 0
    return host.strip("[]"), int(port)


def _close_headers(rest: bytes) -> bytes:
    """A head's header lines without hop-by-hop headers, plus `Connection: close`, and the blank line."""
    lines = [h for h in rest.split(b"\r\n") if h and h.split(b":", 1)[0].strip().lower() not in _HOP_HEADERS]
    return b"\r\n".join([*lines, b"Connection: close", b"", b""])


async def _answer(writer: asyncio.StreamWriter, status: int, text: str) -> None:
    writer.write(f"HTTP/1.1 {status} {text}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
    with contextlib.suppress(ConnectionError):
        await writer.drain()


async def _pipe_both(client_r, client_w, up_r, up_w, rewrite_response: bool = False) -> None:
    async def copy(src, dst, rewrite: bool) -> None:
        try:
            if rewrite:
                head = await src.readuntil(b"\r\n\r\n")
                status, _, rest = head.partition(b"\r\n")
                dst.write(status + b"\r\n" + _close_headers(rest))
            while data := await src.read(CHUNK):
                dst.write(data)
                await dst.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            with contextlib.suppress(Exception):
                dst.close()

    tasks = [
        asyncio.ensure_future(copy(client_r, up_w, False)),
        asyncio.ensure_future(copy(up_r, client_w, rewrite_response)),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
