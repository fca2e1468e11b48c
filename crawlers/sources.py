"""Crawl sources are data: a TOML file (named by `[crawl] sources_file`) lists each site with its
parser kind, start URLs or patrol keywords, and its politeness limits. Adding a site of a known kind
is a new `[[sources]]` table, not code.

Validation is strict and names the source and the field, because a typo in a source file would
otherwise become a crawl that silently does nothing (or ignores robots.txt).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from core.config import Config, read_settings_file
from core.errors import UserError
from crawlers.egress import SAMPLE_SITE, parse_address_entry

KINDS = ("wechat_article", "wechat_account_info", "sogou_weixin_search", "shop_listing", "travel_note", "generic")
# Kinds whose pages list other pages (their items); the rest are content pages that get stored.
LISTING_KINDS = ("sogou_weixin_search", "shop_listing")
PLATFORMS = ("wechat", "shop", "note", "forum", "web")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_-]{1,63})*\.?$")


@dataclasses.dataclass(frozen=True)
class Source:
    name: str
    kind: str
    platform: str
    start_urls: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    search_url_template: str = ""
    # Kind of the pages a listing links to; "" stores the listing's items themselves as pages
    # (a JSON search API already carries everything a detail page would).
    item_kind: str = ""
    selectors: dict[str, Any] = dataclasses.field(default_factory=dict)
    render: bool = False
    render_wait_for: str = ""  # CSS selector a rendered page must show before it is read
    max_depth: int = 1  # link hops from a start page; listing pagination does not count
    max_list_pages: int = 3  # pages of one search or listing followed via next_page
    page_budget: int = 500  # requests this source may make in one run
    account_budget: int = 0  # content pages per account per day, across runs; 0 = no limit
    download_delay: float = 0.5
    concurrency: int = 4
    obey_robots: bool = True
    robots_override_reason: str = ""
    follow: tuple[str, ...] = ()  # regexes; links of content pages matching one are followed
    # Egress policy (crawlers.egress): names fetched besides the start and search URLs' hosts (each
    # with its subdomains), and the non-public addresses ("{sample_site}", "10.1.2.3:8080",
    # "10.1.0.0/16") the crawl may connect to; every other loopback, private, link-local, multicast
    # or reserved address is refused.
    allowed_domains: tuple[str, ...] = ()
    private_addresses: tuple[str, ...] = ()
    description: str = ""

    @property
    def is_listing(self) -> bool:
        return self.kind in LISTING_KINDS

    def follows(self, url: str) -> bool:
        return any(re.search(p, url) for p in self.follow)


def is_listing(kind: str, is_item: bool, parsed) -> bool:
    """A page whose items are followed (or stored as pages) instead of the page itself; asked by the
    spider and, for the page it stores while parsing, by the page worker. Pages reached as a listing's
    items are content even when their kind also reads listings (shop_listing parses both a search and
    an item page)."""
    return not is_item and (bool(parsed.items) or kind in LISTING_KINDS)


_FIELDS = {f.name: f for f in dataclasses.fields(Source)}


def load_sources(cfg: Config) -> dict[str, Source]:
    """All sources of the configured sources file, by name, validated."""
    path = cfg.resolve(cfg.crawl.sources_file)
    data = read_settings_file(path, "sources file", "crawl.sources_file")
    defaults = data.get("defaults", {})
    sources: dict[str, Source] = {}
    for i, table in enumerate(data.get("sources", [])):
        src = build_source({**defaults, **table}, f"{path.name}: source #{i + 1}")
        if src.name in sources:
            raise UserError(f"{path.name}: source '{src.name}': name is used twice")
        sources[src.name] = src
    if not sources:
        raise UserError(f"{path.name}: no [[sources]] tables")
    return sources


def get_source(cfg: Config, name: str) -> Source:
    sources = load_sources(cfg)
    if name not in sources:
        raise UserError(f"unknown source '{name}'; known sources: {', '.join(sorted(sources))}")
    return sources[name]


def build_source(table: dict[str, Any], where: str = "source") -> Source:
    """A validated Source from one TOML table; errors name the source and the field."""
    name = table.get("name")
    label = f"{where.split(':')[0]}: source '{name}'" if isinstance(name, str) else where
    unknown = sorted(set(table) - set(_FIELDS))
    if unknown:
        raise UserError(f"{label}: unknown field '{unknown[0]}'")
    values = {}
    for key, value in table.items():
        values[key] = _typed(label, key, value)
    for required in ("name", "kind", "platform"):
        if required not in values:
            raise UserError(f"{label}: field '{required}' is required")
    src = Source(**values)
    _check(src, label)
    return src


def _typed(label: str, key: str, value: Any) -> Any:
    default = _FIELDS[key].default
    if _FIELDS[key].default_factory is not dataclasses.MISSING:  # selectors
        if not isinstance(value, dict):
            raise UserError(f"{label}: field '{key}' must be a table")
        return value
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise UserError(f"{label}: field '{key}' must be a list of strings")
        return tuple(value)
    if isinstance(default, bool) or key in ("name", "kind", "platform"):
        expected = bool if isinstance(default, bool) else str
    elif isinstance(default, float):
        expected = (int, float)
    else:
        expected = type(default)
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise UserError(f"{label}: field '{key}' must be {_type_name(expected)}, not {value!r}")
    return float(value) if isinstance(default, float) else value


def _type_name(expected) -> str:
    names = {bool: "true or false", str: "a string", int: "a whole number"}
    return names.get(expected, "a number")


def _check(src: Source, label: str) -> None:
    problems = _problems(src)
    if problems:
        field, message = problems[0]
        raise UserError(f"{label}: field '{field}' {message}")


def _problems(src: Source) -> list[tuple[str, str]]:
    p: list[tuple[str, str]] = []
    if not NAME_RE.match(src.name):
        p.append(("name", "must be lowercase letters, digits, '-' or '_' (it names a directory)"))
    if src.kind not in KINDS:
        p.append(("kind", f"must be one of {', '.join(KINDS)}, not '{src.kind}'"))
    if src.item_kind and src.item_kind not in KINDS:
        p.append(("item_kind", f"must be one of {', '.join(KINDS)} or empty, not '{src.item_kind}'"))
    if src.platform not in PLATFORMS:
        p.append(("platform", f"must be one of {', '.join(PLATFORMS)}, not '{src.platform}'"))
    if not src.start_urls and not src.keywords:
        p.append(("start_urls", "or 'keywords' is required (where would the crawl start?)"))
    if src.keywords and "{keyword}" not in src.search_url_template:
        p.append(("search_url_template", "must contain {keyword} when keywords are given"))
    for url in src.start_urls:
        if not url.startswith(("http://", "https://", "{sample_site}")):
            p.append(("start_urls", f"has '{url}', which is not an http(s) URL"))
    if "generic" in (src.kind, src.item_kind) and not src.selectors:
        p.append(("selectors", "is required for kind generic (CSS/XPath of title, text…)"))
    if not src.obey_robots and not src.robots_override_reason.strip():
        p.append(("robots_override_reason", "is required when obey_robots = false (it is recorded)"))
    for key in ("max_list_pages", "page_budget", "concurrency"):
        if getattr(src, key) < 1:
            p.append((key, "must be at least 1"))
    for key in ("max_depth", "account_budget", "download_delay"):
        if getattr(src, key) < 0:
            p.append((key, "must not be negative"))
    for pattern in src.follow:
        try:
            re.compile(pattern)
        except re.error as exc:
            p.append(("follow", f"has an invalid regular expression {pattern!r}: {exc}"))
    for domain in src.allowed_domains:
        if not DOMAIN_RE.match(domain):
            p.append(("allowed_domains", f"has {domain!r}, which is not a host name (no scheme, port or path)"))
    for entry in src.private_addresses:
        if entry.strip() != SAMPLE_SITE:
            try:
                parse_address_entry(entry)
            except ValueError as exc:
                p.append(("private_addresses", f"has {entry!r}: {exc}"))
    return p


def expand_url(url: str, cfg: Config) -> str:
    return url.replace("{sample_site}", cfg.crawl.sample_site_url.rstrip("/"))


def start_urls(src: Source, cfg: Config) -> list[str]:
    """Start URLs with {sample_site} filled in, then one search URL per patrol keyword (page 1)."""
    urls = [expand_url(u, cfg) for u in src.start_urls]
    for keyword in src.keywords:
        url = src.search_url_template.replace("{keyword}", quote(keyword, safe=""))
        urls.append(expand_url(url.replace("{page}", "1"), cfg))
    return list(dict.fromkeys(urls))


def describe(src: Source) -> str:
    """One line for `wangxun sources`."""
    start = f"{len(src.keywords)} keywords" if src.keywords else f"{len(src.start_urls)} start URLs"
    flags = [f"depth {src.max_depth}", f"budget {src.page_budget}"]
    if src.render:
        flags.append("rendered")
    if not src.obey_robots:
        flags.append(f"robots.txt ignored: {src.robots_override_reason}")
    return f"{src.name:<18} {src.kind:<20} {src.platform:<7} {start}; {', '.join(flags)}"


def sources_path(cfg: Config) -> Path:
    return cfg.resolve(cfg.crawl.sources_file)
