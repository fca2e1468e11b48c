"""Where a crawl may connect: each source's egress policy.

Crawled pages are written by the people we investigate. Their links, redirects, scripts and images
can point the crawler at loopback (the web app's own API), the intranet or a cloud metadata address.
A crawl therefore fetches only

* hosts its source names: the hosts of its start URLs and search URL (exactly), and the names in
  its `allowed_domains` with their subdomains; and
* public addresses (core.netpolicy: no loopback, private, link-local, multicast, reserved or
  unspecified address), except the addresses its `private_addresses` names, e.g. the demo's
  sample site (`"{sample_site}"`, the host and port of `[crawl] sample_site_url`) or an intranet
  site (`"10.1.2.3:8080"`, `"10.1.0.0/16"`). An entry with a port allows that port only, so the
  sample site on 127.0.0.1:8765 does not open the web app on 127.0.0.1:8000.

The names are checked on every request (redirects included) by crawlers.middlewares.EgressMiddleware
and in the browser by the route and the proxy of crawlers.egress_proxy; the addresses are checked on
the address actually connected to (the crawl's resolver, crawlers.middlewares.GuardedResolver, and the
proxy, which connect only to an address they vetted). This module is the policy alone: pure, no Scrapy.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
from urllib.parse import urlsplit

from core.netpolicy import IPAddress, IPNetwork, refused_reason

SAMPLE_SITE = "{sample_site}"
SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_address_entry(text: str) -> tuple[IPNetwork, int | None]:
    """An entry of `private_addresses`: an address or network, optionally with a port
    ("127.0.0.1", "127.0.0.1:8765", "[::1]:8765", "10.0.0.0/8"). ValueError when it is none of these."""
    text = text.strip()
    port: int | None = None
    if text.startswith("["):  # [v6] or [v6]:port
        inner, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"{text!r} is not an address, a network or address:port")
            port = _port(rest[1:], text)
        text = inner
    elif text.count(":") == 1:  # v4:port (an IPv6 address has two or more colons)
        text, raw = text.split(":")
        port = _port(raw, text)
    try:
        return ipaddress.ip_network(text, strict=False), port
    except ValueError:
        raise ValueError(f"{text!r} is not an IP address or network (names go in allowed_domains)") from None


def _port(raw: str, text: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ValueError(f"{text!r} has no valid port")
    return int(raw)


def _host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def _ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


@dataclasses.dataclass(frozen=True)
class EgressPolicy:
    hosts: frozenset[str]  # exactly these hosts (names or address literals)
    domains: tuple[str, ...] = ()  # these names and their subdomains
    addresses: tuple[tuple[IPNetwork, int | None], ...] = ()  # non-public addresses allowed anyway

    def url_refusal(self, url: str) -> str | None:
        """Why `url` must not be fetched (one line), or None when its scheme and host may be, and its
        host is an address literal the policy allows. Names are resolved and checked at connect time."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return f"{url[:200]!r} is not a URL"
        scheme = parts.scheme.lower()
        if scheme not in SCHEMES:
            return f"scheme {scheme or '(none)'!r} is not http or https"
        if not parts.hostname:
            return "the URL names no host"
        return self.host_refusal(parts.hostname, port or DEFAULT_PORTS[scheme])

    def host_refusal(self, host: str, port: int) -> str | None:
        """Why host:port must not be connected to, judged by the name (or the address literal)."""
        host = _host(host)
        if not self.allows_name(host):
            return f"host {host} is not one of the source's hosts or allowed_domains"
        ip = _ip(host)
        return self.address_refusal(ip, port) if ip is not None else None

    def allows_name(self, host: str) -> bool:
        host = _host(host)
        return host in self.hosts or any(host == d or host.endswith("." + d) for d in self.domains)

    def address_refusal(self, ip: str | IPAddress, port: int) -> str | None:
        """Why the address ip:port must not be connected to (core.netpolicy's reasons), or None."""
        allowed = [net for net, only in self.addresses if only is None or only == port]
        reason = refused_reason(ip, allowed)
        return f"{reason} (port {port}; not in the source's private_addresses)" if reason else None


def policy_for(source, sample_site_url: str) -> EgressPolicy:
    """The egress policy of a crawlers.sources.Source; `sample_site_url` is `[crawl] sample_site_url`,
    which "{sample_site}" stands for in URLs and in `private_addresses`."""
    hosts = set()
    templates = list(source.start_urls) + ([source.search_url_template] if source.search_url_template else [])
    for url in templates:
        url = url.replace(SAMPLE_SITE, sample_site_url.rstrip("/"))
        url = url.replace("{keyword}", "k").replace("{page}", "1")
        host = urlsplit(url).hostname
        if host:
            hosts.add(_host(host))
    addresses = []
    for entry in source.private_addresses:
        if entry.strip() == SAMPLE_SITE:
            addresses += sample_site_addresses(sample_site_url)
        else:
            addresses.append(parse_address_entry(entry))
    domains = tuple(_host(d) for d in source.allowed_domains)
    return EgressPolicy(frozenset(hosts), domains, tuple(addresses))


def sample_site_addresses(url: str) -> list[tuple[IPNetwork, int]]:
    """The sample site's address(es) and port: its host as written, or what its name resolves to."""
    parts = urlsplit(url)
    host = _host(parts.hostname or "")
    port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower(), 80)
    ip = _ip(host)
    if ip is not None:
        return [(ipaddress.ip_network(ip), port)]
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except OSError:
        return []
    found = {ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos}
    return [(ipaddress.ip_network(ip), port) for ip in sorted(found, key=str)]


class EgressGuard:
    """One crawl's policy at run time: every refusal is logged once as a warning and counted in the
    crawl's stats (`stat`, the summary's `egress_refused`). Shared by the downloader middleware, the
    resolver, the browser's route and the proxy of one crawl process; Scrapy deep-copies settings, and
    a copy of the guard is the guard itself."""

    def __init__(self, policy: EgressPolicy, stat: str):
        self.policy = policy
        self.stat = stat
        self.stats = None  # the crawler's stats, set by the middleware when the crawl starts
        self.refused = 0  # refusals before the stats were set, or with no crawler (tests)
        self.refused_targets: set[tuple[str, int]] = set()  # host:port the resolver or proxy refused
        self.proxy = None  # crawlers.egress_proxy.EgressProxy of a rendered crawl
        self._verdicts: dict[tuple, str | None] = {}  # (scheme, host, port) → url_refusal's answer
        self._addresses: dict[tuple[str, int], str | None] = {}

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def refuse(self, what: str, reason: str) -> None:
        import logging

        logging.getLogger("crawlers.egress").warning("egress refused: %s: %s", what[:300], reason)
        if self.stats is not None:
            self.stats.inc_value(self.stat)
        else:
            self.refused += 1

    def request_refusal(self, url: str, parts=None) -> str | None:
        """Why `url` must not be fetched (logged and counted), or None. `parts`: its urlsplit, when the
        caller has it cached. The verdict for a scheme, host and port is kept: the policy is fixed."""
        try:
            parts = parts or urlsplit(url)
            key = (parts.scheme, parts.hostname, parts.port)
        except ValueError:
            key = None
        reason = self._verdicts.get(key, "") if key is not None else ""
        if reason == "":  # not judged yet (or not a URL: url_refusal says why)
            reason = self.policy.url_refusal(url)
            if key is not None and len(self._verdicts) < 10000:
                self._verdicts[key] = reason
        if reason is not None:
            self.refuse(url, reason)
            return reason
        target = (_host(parts.hostname or ""), parts.port or DEFAULT_PORTS[parts.scheme.lower()])
        if target in self.refused_targets:  # counted when the resolver refused it
            return f"{target[0]}:{target[1]} was refused when it was resolved"
        return None

    def address_refusal(self, ip, port: int) -> str | None:
        """The policy's address_refusal, remembered per address and port (responses repeat them)."""
        key = (str(ip), port)
        if key in self._addresses:
            return self._addresses[key]
        reason = self.policy.address_refusal(ip, port)
        if len(self._addresses) < 10000:
            self._addresses[key] = reason
        return reason

    def refuse_target(self, host: str, port: int, reason: str) -> None:
        """A connection to host:port refused by its resolved addresses (logged and counted once; the
        middleware then refuses every request to it before it reaches the network)."""
        target = (_host(host), port)
        if target not in self.refused_targets:
            self.refused_targets.add(target)
            self.refuse(f"{host}:{port}", reason)

    def browser_request_refused(self, url: str) -> bool:
        """A rendered page's request (its navigation or any subrequest, seen by the page's route):
        True when it must be aborted. Only http(s) reaches the network (data:, blob: do not)."""
        scheme = url.split(":", 1)[0].lower()
        if scheme not in SCHEMES and scheme not in ("ws", "wss"):
            return False
        reason = self.policy.url_refusal(url.replace("ws", "http", 1) if scheme.startswith("ws") else url)
        if reason is not None:
            self.refuse(url, reason)
            return True
        return False
