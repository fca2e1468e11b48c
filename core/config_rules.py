"""What a setting's value may be, beyond its type. The types come from the shipped config.toml (a
setting has the type of its default); these rules add the allowed words, the ranges and the checks a
type cannot say, so a wrong value stops at load time with the key and the file, not hours later as a
traceback in a crawl or a 500 in the web app.

Nothing here reads a file: core/config.py reads configuration and applies these rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Settings whose value is one of a few words.
CHOICES: dict[str, tuple[str, ...]] = {
    "core.log_level": ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
    "grids.default_input_crs": ("gcj02", "bd09", "wgs84"),
    "webmap.tile_provider": ("osm", "amap", "tianditu", "intranet", "custom", "none"),
    "webmap.tile_crs": ("wgs84", "gcj02"),
    "webmap.intranet_tile_crs": ("wgs84", "gcj02"),
    "search.backend": ("embedded", "elasticsearch", "postgres"),
    "crawl.frontier": ("local", "redis"),
    "search.es_plugin_analyzer": ("auto", "smartcn", "ik", "none"),
    "draws.ungraded_as": ("A", "B", "C", "D"),
}

# Inclusive ranges; every other number must not be negative (no setting of this product means
# anything below zero).
RANGES: dict[str, tuple[float, float]] = {
    "core.sqlite_busy_timeout_s": (0, 3600),
    "demo.web_port": (1, 65535),
    "samplesite.port": (0, 65535),
    "alerts.smtp_port": (1, 65535),
    "webmap.map_zoom": (0, 22),
    "webmap.proxy_count": (0, 5),
    "webmap.max_request_mb": (1, 4096),
    "evidence.gzip_level": (1, 9),
    "detect.threshold_unlicensed_travel": (0, 1),
    "detect.threshold_illegal_publication": (0, 1),
    "grading.licence_unknown": (0, 1),
    "grading.default_industry_risk": (0, 1),
    # Fractions of a second are for tests that must see run-now at once; more than an hour would hide it.
    "jobs.wakeup_seconds": (0.05, 3600),
    "jobs.crawl_timeout_minutes": (0.01, 7 * 24 * 60),
    "jobs.lease_seconds": (0.5, 3600),
    # Under 3 s a busy process could miss its beat (it beats every second); over an hour a dead one's
    # requests wait too long.
    "crawl.redis_heartbeat_s": (3, 3600),
}

# Counts and sizes that must be at least one (zero would divide, loop forever or refuse everything).
AT_LEAST_ONE = {
    "webmap.session_lifetime_minutes",
    "webmap.session_absolute_minutes",
    "webmap.login_max_failures",
    "webmap.login_lockout_max_minutes",
    "webmap.login_ip_attempts_per_minute",
    "webmap.api_max_venues",
    "webmap.api_max_hits",
    "evidence.pdf_timeout_s",
    "grading.lookback_days",
    "crawl.download_timeout_s",
    "crawl.max_response_bytes",
    "crawl.captcha_max_in_row",
    "crawl.pages_per_browser_context",
    "crawl.render_timeout_ms",
    "detect.max_text_chars",
    "detect.classify_workers",
    "search.max_query_length",
    "search.max_query_terms",
    "search.max_per_page",
    "search.track_total_hits",
    "search.reindex_workers",
    "search.facet_size",
    "search.bulk_size",
    "search.export_max_rows",
    "search.es_request_timeout_s",
    "search.es_shards",
    "alerts.timeout_s",
    "alerts.max_hits_per_message",
}

# Settings that name a file or directory: a site's own config file may leave them out, and the
# shipped default then still means a place under the project, not under the site file's directory.
PATHS = {
    "core.data_dir",
    "grids.sample_dir",
    "crawl.sources_file",
    "detect.keyword_library",
    "evidence.export_dir",
    "jobs.schedule_file",
    "search.es_ca_certs",
}


def check_value(key: str, value: Any) -> str | None:
    """Why `value` is not allowed for `key` (already of the right type), or None when it is."""
    if key in CHOICES and value not in CHOICES[key]:
        return f"must be one of {', '.join(CHOICES[key])}, not {value!r}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        low, high = RANGES.get(key, (1 if key in AT_LEAST_ONE else 0, float("inf")))
        if not low <= value <= high:
            bound = f"from {low:g} to {high:g}" if high != float("inf") else f"at least {low:g}"
            return f"must be {bound}, not {value!r}"
    special = _SPECIAL.get(key)
    return special(value) if special else None


def _timezone(value: str) -> str | None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"is not a time zone name (such as Asia/Shanghai): {value!r}"
    return None


def _database_url(value: str) -> str | None:
    if not value:
        return None  # SQLite under data_dir
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        make_url(value).get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        return f"is not a database URL SQLAlchemy can use ({type(exc).__name__}): {_hide_password(value)!r}"
    return None


def _hide_password(url: str) -> str:
    """A database URL as an error message may show it: a password would end up in logs."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"
    return url


def _numbers(value) -> str | None:
    """Lists and tables of numbers (weights, rates, thresholds) hold numbers only, none negative."""
    items = value.values() if isinstance(value, dict) else value
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            return f"must hold numbers only, not {item!r}"
        if item < 0:
            return f"must not hold negative numbers ({item!r})"
    return None


def _sorted_thresholds(value) -> str | None:
    problem = _numbers(value)
    if problem is None and (len(value) != 3 or list(value) != sorted(value)):
        return f"must be three rising numbers (the lowest score of grades B, C and D), not {value!r}"
    return problem


def _ip_networks(value) -> str | None:
    """Addresses or CIDR networks ("127.0.0.1", "10.8.0.0/16", "::1")."""
    import ipaddress

    for item in value:
        try:
            ipaddress.ip_network(str(item).strip("[]"), strict=False)
        except ValueError:
            return f'must hold IP addresses or networks such as "127.0.0.1" or "10.8.0.0/16", not {item!r}'
    return None


def _host_names(value) -> str | None:
    """Bare host names or addresses, no scheme, port or path."""
    import ipaddress
    import re

    for item in value:
        try:
            ipaddress.ip_address(str(item).strip("[]"))
            continue
        except ValueError:
            pass
        if not isinstance(item, str) or not re.fullmatch(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?", item):
            return f'must hold bare host names such as "hooks.example.org" (no scheme, port or path), not {item!r}'
    return None


def _redis_url(value: str) -> str | None:
    if value and not value.startswith(("redis://", "rediss://", "unix://")):
        return f"must be a Redis URL (redis://host:port/db, rediss://…, unix:///path.sock), not {value!r}"
    return None


def _key_file(value: str) -> str | None:
    """The evidence anchor key must be named (where it may be is checked where it is used: outside data_dir)."""
    return None if value.strip() else "must name the evidence anchor key file, outside data_dir"


_SPECIAL: dict[str, Callable[[Any], str | None]] = {
    "evidence.anchor_key_file": _key_file,
    "alerts.webhook_allowed_addresses": _ip_networks,
    "alerts.webhook_user_hosts": _host_names,
    "core.timezone": _timezone,
    "core.database_url": _database_url,
    "crawl.redis_url": _redis_url,
    "grading.weights": _numbers,
    "grading.industry_risk": _numbers,
    "grading.thresholds": _sorted_thresholds,
    "draws.rates": _numbers,
    "draws.campaign_rates": _numbers,
}
