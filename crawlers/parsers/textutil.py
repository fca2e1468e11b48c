"""Small text helpers shared by the parsers: whitespace, prices, Chinese dates, Unix timestamps."""

from __future__ import annotations

import datetime as dt
import re

# Chinese sites publish local time; WeChat's `var ct` is a Unix timestamp shown in this zone.
CST = dt.timezone(dt.timedelta(hours=8))
_INLINE_SPACE_RE = re.compile(r"[ \t\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_ANY_SPACE_RE = re.compile(r"\s+")
_INVISIBLE_RE = re.compile(r"[\u200b-\u200d\u2060\ufeff]")
_PRICE_RE = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?")
_CURRENCY_PRICE_RE = re.compile(r"[¥￥]\s*(\d[\d,]*(?:\.\d+)?)")
_DATE_RE = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[T\s]*(?P<H>\d{1,2})[:时](?P<M>\d{1,2})(?:[:分](?P<S>\d{1,2})(?:\.\d+)?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?"
)
# Unix timestamps outside these bounds are noise (a counter, an id), not a publication time.
_MIN_TS, _MAX_TS = 946_684_800, 4_102_444_800  # 2000-01-01 .. 2100-01-01


def clean_line(value: str | None) -> str:
    """One line of text: invisible characters gone, any run of whitespace one space, trimmed."""
    if not value:
        return ""
    return _ANY_SPACE_RE.sub(" ", _INVISIBLE_RE.sub("", value)).strip()


def clean_block(value: str | None) -> str:
    """Multi-line text: each line cleaned, blank lines dropped, joined with single newlines."""
    if not value:
        return ""
    # Text read from markup is mostly blank lines; they are dropped before the per-line regex.
    lines = (
        _INLINE_SPACE_RE.sub(" ", line).strip()
        for line in _INVISIBLE_RE.sub("", value).splitlines()
        if line and not line.isspace()
    )
    return "\n".join(line for line in lines if line)


def first_nonempty(*values) -> str:
    """The first value that is non-blank once cleaned. A callable is called only when reached, so
    costly fallbacks (DOM queries) run only for pages that need them."""
    for value in values:
        if callable(value):
            value = value()
        cleaned = clean_line(value) if isinstance(value, str) else ""
        if cleaned:
            return cleaned
    return ""


def parse_price(value) -> float | None:
    """The first amount in a price text ("¥ 1,299.00", "25.00", "99.00-129.00"), or None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if value >= 0 else None
    text = clean_line(str(value))
    match = _CURRENCY_PRICE_RE.search(text) or _PRICE_RE.search(text)
    if not match:
        return None
    number = match.group(1).replace(",", "")
    if match.re is _PRICE_RE and match.group(2):
        number += "." + match.group(2)
    try:
        return float(number)
    except ValueError:
        return None


def currency_price(text: str) -> float | None:
    """An amount written after ¥/￥ in free text, or None (plain numbers are too ambiguous there)."""
    match = _CURRENCY_PRICE_RE.search(text or "")
    return parse_price(match.group(1)) if match else None


def from_unix(value) -> dt.datetime | None:
    """A timezone-aware (+08:00) datetime from Unix seconds or milliseconds, or None if implausible."""
    try:
        ts = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    if ts > _MAX_TS * 10:  # milliseconds
        ts /= 1000
    if not _MIN_TS <= ts <= _MAX_TS:
        return None
    return dt.datetime.fromtimestamp(ts, CST)


def parse_datetime(value: str | None) -> dt.datetime | None:
    """A date or date-time found in text ("2018-04-07", "2021-10-15 16:12", "2017年6月15日",
    "2017-06-15T09:34:55"); local +08:00 unless the text carries its own offset."""
    if not value:
        return None
    match = _DATE_RE.search(value)
    if not match:
        return None
    parts = {k: int(v) for k, v in match.groupdict().items() if v and k != "tz"}
    try:
        moment = dt.datetime(
            parts["y"],
            parts["m"],
            parts["d"],
            parts.get("H", 0),
            parts.get("M", 0),
            parts.get("S", 0),
            tzinfo=_zone(match.group("tz")),
        )
    except ValueError:
        return None
    return moment


def _zone(text: str | None) -> dt.tzinfo:
    if not text:
        return CST
    if text == "Z":
        return dt.timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
