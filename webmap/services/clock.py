"""Times as people read them: the database stores naive UTC, pages show the configured local zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def local_text(value: dt.datetime | None, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(ZoneInfo(tz)).strftime(fmt)
