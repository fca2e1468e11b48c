"""`python -m tests.security.netguard SOURCE [--fresh]`: a real crawl (`python -m crawlers`) in a process
that may reach loopback only, and whose name resolver is scripted.

Before anything else is imported, socket.getaddrinfo, socket.create_connection and socket.socket.connect
are wrapped: a name listed in NETGUARD_HOSTS (JSON {"name": "address"}) resolves to that address, a
loopback name or address passes, and anything else (a lookup or a connection off this machine) is
written to NETGUARD_LOG (one JSON line each) and fails as if the network were down. A test reads the
log to prove that nothing tried to leave (tldextract fetching the Public Suffix List, a crawled link
to the internet), and uses NETGUARD_HOSTS to make a name answer a private address.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import sys

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _log(kind: str, target) -> None:
    path = os.environ.get("NETGUARD_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"kind": kind, "target": str(target), "pid": os.getpid()}) + "\n")


def _is_loopback(host) -> bool:
    host = str(host).strip("[]").split("%", 1)[0]
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def install() -> None:
    scripted = json.loads(os.environ.get("NETGUARD_HOSTS") or "{}")
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name in scripted:
            _log("scripted", name)
            return real_getaddrinfo(scripted[name], port, *args, **kwargs)
        if name is None or _is_loopback(name):
            return real_getaddrinfo(host, port, *args, **kwargs)
        _log("lookup", name)
        raise socket.gaierror(socket.EAI_NONAME, f"netguard: no lookups off this machine ({name})")

    def _check(address) -> None:
        if isinstance(address, tuple) and not _is_loopback(address[0]):
            _log("connect", address[0])
            raise ConnectionRefusedError(f"netguard: no connections off this machine ({address[0]})")

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _check(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _check(address)
        return real_connect_ex(self, address)

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex


def main() -> None:
    install()
    from crawlers.__main__ import main as crawl_main

    crawl_main(sys.argv[1:])


if __name__ == "__main__":
    main()
