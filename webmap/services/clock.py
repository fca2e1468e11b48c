"""Times as people read them: the database stores naive UTC, pages show the configured local zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from core import vocabulary


def zone_label(tz: str) -> str:
    """'北京时间' for Asia/Shanghai, else the zone's own name: what a time shown in `tz` is labelled."""
    return vocabulary.ZONE_NAME.get(tz, tz)


def local_day_start_utc(day: dt.date, tz: str) -> dt.datetime:
    """Naive UTC of 00:00 of `day` in `tz`: a date a user picks means their day, not UTC's."""
    return dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(tz)).astimezone(dt.timezone.utc).replace(tzinfo=None)


def stamp(tz: str, now: dt.datetime | None = None) -> str:
    """'20261206-153000' in `tz`, for file names (the same clock as the evidence packages')."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return now.astimezone(ZoneInfo(tz)).strftime("%Y%m%d-%H%M%S")


def local_text(value: dt.datetime | None, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(ZoneInfo(tz)).strftime(fmt)
