"""Which network addresses the product may connect to on its own initiative (webhooks, crawls).

Crawled pages and user settings name hosts; a hostile one names loopback, the cloud metadata address
or an intranet machine. `refused_reason(ip, allowed)` says, in one line, why an address must not be
connected to, or None when it may: loopback, link-local, private, multicast, reserved, unspecified,
site-local and any other not globally routable address are refused unless `allowed` names the
address or a network holding it. IPv6 forms that carry an IPv4 address (IPv4-mapped ::ffff:a.b.c.d,
NAT64 64:ff9b::/96 and 64:ff9b:1::/48, 6to4 2002::/16, Teredo) are judged by the address they carry
as well as by themselves, so ::ffff:127.0.0.1 is loopback.

`resolve(host, port, allowed)` resolves a name once and refuses it when any answer is refused; the
caller then connects to exactly the vetted address (never resolving the name again, which is what a
DNS-rebinding attacker counts on) and checks the socket's peer with `refused_reason` once more.

Pure standard library, imports nothing of ours: any layer may use it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# NAT64 prefixes (RFC 6052 well-known, RFC 8215 local-use): the low 32 bits are the IPv4 address the
# translator connects to.
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))


class AddressRefused(Exception):
    """A host or address the policy refuses; the message is one line naming it and why."""


def parse_networks(entries: Iterable[str | IPNetwork | IPAddress]) -> list[IPNetwork]:
    """Addresses and CIDR networks (strings or ipaddress objects) as networks. A string that is not an
    address or network (a host name) is skipped: names are matched by the caller, addresses here."""
    nets: list[IPNetwork] = []
    for entry in entries:
        if isinstance(entry, ipaddress.IPv4Network | ipaddress.IPv6Network):
            nets.append(entry)
            continue
        try:
            nets.append(ipaddress.ip_network(str(entry).strip().strip("[]"), strict=False))
        except ValueError:
            continue
    return nets


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4, Teredo client), or None."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    for net in _NAT64:
        if ip in net:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def _kind(ip: IPAddress) -> str | None:
    """The first reason `ip` itself is not a public unicast address, or None."""
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "a site-local address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:
        return "not a globally routable address"
    return None


def refused_reason(ip: str | IPAddress, allowed: Iterable[str | IPNetwork | IPAddress] = ()) -> str | None:
    """Why the product must not connect to `ip`, in one line, or None when it may.

    `allowed` names addresses or networks (e.g. "127.0.0.1", "10.0.0.0/8", "::1") that the
    configuration explicitly permits although they are not public; host names in it are ignored here.
    """
    try:
        addr = ipaddress.ip_address(str(ip).strip().strip("[]").split("%", 1)[0]) if isinstance(ip, str) else ip
    except ValueError:
        return f"{ip!r} is not an IP address"
    nets = parse_networks(allowed)
    inner = embedded_ipv4(addr)
    candidates = [addr] if inner is None else [addr, inner]

    def permitted(a: IPAddress) -> bool:
        return any(a.version == n.version and a in n for n in nets)

    if any(permitted(a) for a in candidates):
        return None
    if inner is not None and (addr.ipv4_mapped is not None or any(addr in n for n in _NAT64)):
        # ::ffff:a.b.c.d *is* a.b.c.d to the socket layer, and a NAT64 translator connects to a.b.c.d:
        # judge by the IPv4 address alone (the prefixes themselves count as reserved).
        candidates = [inner]
    for a in candidates:
        kind = _kind(a)
        if kind is not None:
            shown = str(addr) if a is addr else f"{addr} (carrying {a})"
            return f"{shown} is {kind}"
    return None


def resolve(
    host: str, port: int, allowed: Iterable[str | IPNetwork | IPAddress] = (), *, family: int = 0
) -> list[IPAddress]:
    """Resolve `host` once and return its addresses; raise AddressRefused when it has none or when any
    answer is refused by `refused_reason` (a name that answers both public and private is refused
    whole). Connect to one of the returned addresses, never to the name again."""
    allowed = list(allowed)
    try:
        infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise AddressRefused(f"{host}: cannot resolve ({exc})") from None
    addrs: list[IPAddress] = []
    for *_ignored, sockaddr in infos:
        try:
            addr = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        except ValueError:
            raise AddressRefused(f"{host}: resolver answered {sockaddr[0]!r}, not an IP address") from None
        reason = refused_reason(addr, allowed)
        if reason is not None:
            raise AddressRefused(f"{host}: {reason}")
        if addr not in addrs:
            addrs.append(addr)
    if not addrs:
        raise AddressRefused(f"{host}: resolver gave no address")
    return addrs
