"""Saved-search webhooks without server-side request forgery.

A webhook URL is typed by a user and POSTed to from inside the intranet, so it could aim the alerts
job at the web app's own API, the cloud metadata address or any intranet machine. Therefore:

- who: admins may set a webhook to any host; other roles only to the hosts an admin lists in
  `[alerts] webhook_user_hosts` (`may_set`). Delivery checks this again against the owner's role now;
- where: the host is resolved and every answer must be a public address (core.netpolicy) unless
  `[alerts] webhook_allowed_addresses` names it; a name answering public and private is refused whole;
- rebinding: delivery resolves once and connects to exactly the vetted address (the name goes only in
  the Host header and TLS's SNI/certificate check), then checks the socket's peer address again;
- no redirects (a 3xx is a failed delivery), no proxies from the environment, http and https only,
  no user:password@ in the URL.

`vet_url` is for the web form (one clear line for a refused URL, nothing connected); `post` delivers.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import urllib.parse
from collections.abc import Iterable

from core import netpolicy
from core.config import Config
from core.errors import UserError
from core.netpolicy import AddressRefused, IPAddress


class WebhookRefused(UserError):
    """The webhook URL may not be used (who set it, its form or the address it names); one line."""


class WebhookFailed(UserError):
    """The webhook's server answered something other than 2xx."""


def may_set(cfg: Config, role: str | None, host: str) -> bool:
    """True when a user of `role` may point a webhook at `host`: admins always, others only at the hosts
    an admin listed in [alerts] webhook_user_hosts."""
    if role == "admin":
        return True
    listed = {h.strip().lower().strip("[]").rstrip(".") for h in cfg.alerts.webhook_user_hosts}
    return host.lower().rstrip(".") in listed


def parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of a webhook URL, or WebhookRefused in one line."""
    if any(ord(c) < 0x21 or c == "\\" for c in url):
        raise WebhookRefused("Webhook 地址不能包含空白、控制字符或反斜杠")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookRefused(f"Webhook 地址无法解析：{exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise WebhookRefused("Webhook 地址必须以 http:// 或 https:// 开头")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise WebhookRefused("Webhook 地址不能包含用户名或密码（user@host）")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise WebhookRefused("Webhook 地址缺少主机名")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port or (443 if scheme == "https" else 80), path


def vet_url(cfg: Config, url: str, role: str | None) -> str:
    """The webhook URL a user of `role` may save, or WebhookRefused (one line). Resolves the host and
    refuses non-public answers; never connects. Delivery checks everything again."""
    scheme, host, port, _ = parse(url)
    if not may_set(cfg, role, host):
        raise WebhookRefused(
            f"只有管理员可以设置 Webhook（{host} 不在管理员允许的主机列表 [alerts] webhook_user_hosts 中）"
        )
    _vetted_address(cfg, host, port)
    return url


def _vetted_address(cfg: Config, host: str, port: int) -> IPAddress:
    try:
        return netpolicy.resolve(host, port, cfg.alerts.webhook_allowed_addresses)[0]
    except AddressRefused as exc:
        raise WebhookRefused(
            f"Webhook 地址被拒绝（refused: {exc}）；"
            "内网、回环等地址须由管理员在 [alerts] webhook_allowed_addresses 中明确允许"
        ) from None


def check_peer(sock: socket.socket, vetted: IPAddress, allowed: Iterable[str]) -> None:
    """Raise AddressRefused unless `sock` is connected to `vetted` and the policy allows that address."""
    peer = ipaddress.ip_address(str(sock.getpeername()[0]).split("%", 1)[0])
    if peer != vetted:
        raise AddressRefused(f"connected to {peer}, not the vetted address {vetted}")
    reason = netpolicy.refused_reason(peer, allowed)
    if reason is not None:
        raise AddressRefused(f"connected to {reason}")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to one vetted address, whatever the name resolves to now; the name is only the Host header."""

    def __init__(self, host: str, port: int, address: IPAddress, allowed: list[str], timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address, self.allowed = address, allowed

    def _open_socket(self) -> socket.socket:
        sock = socket.create_connection((str(self.address), self.port), self.timeout)
        try:
            check_peer(sock, self.address, self.allowed)
        except AddressRefused:
            sock.close()
            raise
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def connect(self) -> None:
        self.sock = self._open_socket()


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """HTTPS to one vetted address; the certificate is checked against the URL's host name."""

    def connect(self) -> None:
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self._open_socket(), server_hostname=self.host)


def post(cfg: Config, url: str, payload: dict, role: str | None) -> None:
    """POST `payload` as JSON to `url` for a saved search whose owner has `role`. Raises WebhookRefused
    (who or where), WebhookFailed (the answer was not 2xx; a redirect is not followed), OSError or
    http.client.HTTPException (the network)."""
    scheme, host, port, path = parse(url)
    if not may_set(cfg, role, host):
        raise WebhookRefused(f"refused: the saved search's owner may not send webhooks to {host} (not admin)")
    address = _vetted_address(cfg, host, port)
    cls = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    conn = cls(host, port, address, list(cfg.alerts.webhook_allowed_addresses), float(cfg.alerts.timeout_s))
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    try:
        try:
            conn.request(
                "POST",
                path,
                body=body,
                headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "wangxun-alerts"},
            )
        except AddressRefused as exc:
            raise WebhookRefused(f"refused: {exc}") from None
        resp = conn.getresponse()
        resp.read(64 * 1024)  # bounded: only the status matters
        if 300 <= resp.status < 400:
            raise WebhookFailed(f"webhook answered HTTP {resp.status} (redirects are not followed)")
        if not 200 <= resp.status < 300:
            raise WebhookFailed(f"webhook answered HTTP {resp.status}")
    finally:
        conn.close()
