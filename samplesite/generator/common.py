"""Shared pieces of the content generator: the district's places, ids, timestamps, ISBNs, accounts.

Everything draws from one random.Random passed in, so the same seed writes the same posts.json.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import random
import string
from dataclasses import dataclass, field
from pathlib import Path

STREETS = ["平江街道", "沧浪街道", "双塔街道", "金阊街道", "虎丘街道", "白洋湾街道", "苏锦街道", "吴门桥街道"]
LANDMARKS = [
    "拙政园",
    "平江路",
    "观前街",
    "山塘街",
    "虎丘",
    "留园",
    "盘门",
    "石路",
    "十全街",
    "苏州博物馆",
    "狮子林",
    "网师园",
    "沧浪亭",
]
# Which street each landmark lies in, so a post's places agree with the map.
LANDMARK_STREET = {
    "拙政园": "平江街道",
    "平江路": "平江街道",
    "观前街": "平江街道",
    "狮子林": "平江街道",
    "苏州博物馆": "平江街道",
    "山塘街": "金阊街道",
    "石路": "金阊街道",
    "留园": "虎丘街道",
    "虎丘": "虎丘街道",
    "盘门": "吴门桥街道",
    "十全街": "双塔街道",
    "网师园": "双塔街道",
    "沧浪亭": "沧浪街道",
}
_CST = dt.timezone(dt.timedelta(hours=8))
# Posts are dated over the fifteen months before the demo date.
FIRST_DAY = dt.datetime(2025, 8, 1, tzinfo=_CST)
LAST_DAY = dt.datetime(2026, 11, 15, tzinfo=_CST)
_TOKEN_CHARS = string.ascii_letters + string.digits + "-_"
# Account ids that crawlers/sources.toml names (wechat_accounts start URLs); they must never change.
PINNED_ACCOUNT_IDS = {"苏州吃喝玩乐指南": "gh_db4cb3bfbc04", "平江路小事": "gh_2b052869250d"}


@dataclass
class Registry:
    """The sample district's registers (grids/sample/data), as the generator needs them."""

    agencies: list[dict[str, str]]
    venues: list[dict[str, str]]

    @classmethod
    def load(cls, sample_dir: Path) -> Registry:
        def rows(name: str) -> list[dict[str, str]]:
            with open(sample_dir / name, encoding="utf-8", newline="") as f:
                return list(csv.DictReader(f))

        return cls(agencies=rows("agencies.csv"), venues=rows("venues.csv"))

    def venues_of(self, category: str) -> list[dict[str, str]]:
        return [v for v in self.venues if v["category"] == category and v.get("status", "营业") == "营业"]

    def licence_numbers(self) -> set[str]:
        return {a["license_no"] for a in self.agencies}


@dataclass
class Ids:
    """Unique, stable identifiers in the shapes the imitated sites use."""

    rng: random.Random
    seen: set[str] = field(default_factory=set)

    def token(self) -> str:
        return self._unique(lambda: "".join(self.rng.choice(_TOKEN_CHARS) for _ in range(22)))

    def digits(self, first: str, length: int) -> str:
        return self._unique(lambda: first + "".join(self.rng.choice(string.digits) for _ in range(length - 1)))

    def hex(self, length: int) -> str:
        return self._unique(lambda: "".join(self.rng.choice("0123456789abcdef") for _ in range(length)))

    def _unique(self, make) -> str:
        while (value := make()) in self.seen:
            pass
        self.seen.add(value)
        return value


def timestamp(rng: random.Random) -> int:
    """A publish time in daytime hours (people post between 07:00 and 23:00)."""
    days = (LAST_DAY - FIRST_DAY).days
    day = FIRST_DAY + dt.timedelta(days=rng.randrange(days))
    moment = day.replace(hour=rng.randint(7, 22), minute=rng.randint(0, 59), second=rng.randint(0, 59))
    return int(moment.timestamp())


def date_after(ts: int, rng: random.Random, min_days: int = 7, max_days: int = 40) -> str:
    """A trip or event date some days after the post, as Chinese text (e.g. 12月6日)."""
    day = dt.datetime.fromtimestamp(ts, _CST) + dt.timedelta(days=rng.randint(min_days, max_days))
    return f"{day.month}月{day.day}日"


def isbn13(rng: random.Random, valid: bool = True, publisher: str | None = None) -> str:
    """A Chinese ISBN-13 (978-7-…); with valid=False the check digit is deliberately wrong."""
    publisher = publisher or rng.choice(["02", "5327", "5399", "108", "5447", "301", "5596", "5594", "208", "5063"])
    title = "".join(rng.choice(string.digits) for _ in range(12 - 4 - len(publisher)))
    body = "9787" + publisher + title
    check = isbn_check_digit(body)
    if not valid:
        check = (check + rng.randint(1, 9)) % 10
    return body + str(check)


def isbn_check_digit(first12: str) -> int:
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def phone(rng: random.Random) -> str:
    return rng.choice(["13", "15", "17", "18", "19"]) + "".join(rng.choice(string.digits) for _ in range(9))


def wechat_contact(rng: random.Random) -> str:
    return (
        rng.choice(["vx", "V", "微信", "wx", "薇"])
        + "："
        + rng.choice(["gusu", "sz", "travel", "wm", "ps"])
        + "".join(rng.choice(string.digits) for _ in range(rng.randint(4, 7)))
    )


def account(name: str, *, owner: str = "个人", signature: str = "", verified: bool = False) -> dict:
    """A WeChat public account record (the fields article and profile pages show).

    Its ids come from its name, not from the random stream, so adding or changing posts never renames
    an account that a crawl source or a test refers to."""
    digest = hashlib.sha1(f"samplesite-account:{name}".encode()).hexdigest()
    account_id = PINNED_ACCOUNT_IDS.get(name, "gh_" + digest[:12])
    return {
        "id": account_id,
        "name": name,
        "biz": base64.b64encode(str(int(digest[12:20], 16)).encode()).decode(),
        "wechat_id": "wx" + digest[20:28],
        "signature": signature or f"{name}，分享苏州身边事。",
        "owner": owner,
        "province": "江苏",
        "verified": verified,
        "openid": "oIWsF" + digest[28:40],
    }


def street_of(place: str) -> str:
    return LANDMARK_STREET.get(place, "")


def pick(rng: random.Random, items, k: int = 1):
    """k distinct items (a list), or one item when k == 1."""
    chosen = rng.sample(list(items), k)
    return chosen[0] if k == 1 else chosen


@dataclass
class Context:
    """What every post builder needs: the random source, the id maker, the registers."""

    rng: random.Random
    ids: Ids
    registry: Registry
    accounts: dict[str, dict] = field(default_factory=dict)

    def account(self, name: str, **kw) -> dict:
        """The one account of this name (created on first use, so posts share their publisher)."""
        if name not in self.accounts:
            self.accounts[name] = account(name, **kw)
        return self.accounts[name]

    def seller(self, name: str, first_digit: str = "1", length: int = 9, **extra) -> dict:
        """A shop seller record, stable per name (its id comes from the name, like account())."""
        key = "seller:" + name
        if key not in self.accounts:
            number = int(hashlib.sha1(f"samplesite-seller:{name}".encode()).hexdigest(), 16)
            seller_id = first_digit + str(number % 10 ** (length - 1)).zfill(length - 1)
            assert seller_id not in self.ids.seen, f"seller id clash for {name}"
            self.ids.seen.add(seller_id)
            self.accounts[key] = {"id": seller_id, "name": name, **extra}
        return self.accounts[key]


def wechat_post(
    ctx: Context,
    account: dict,
    title: str,
    paragraphs: list[str],
    labels: list[str],
    *,
    author: str = "",
    places: list[str] | None = None,
    **extra,
) -> dict:
    published_at = extra.pop("published_at", None) or timestamp(ctx.rng)
    return {
        "channel": "wechat",
        "key": ctx.ids.token(),
        "title": title,
        "text": "\n".join(paragraphs),
        "author": author or account["name"],
        "account": account,
        "published_at": published_at,
        "mid": ctx.ids.digits("2", 10),
        "idx": 1,
        "sn": ctx.ids.hex(32),
        "status": "ok",
        "markup": "normal",
        "original": ctx.rng.random() < 0.6,
        "places": places or [],
        "expected_labels": labels,
        **extra,
    }


def listing_post(
    ctx: Context,
    channel: str,
    seller: dict,
    title: str,
    paragraphs: list[str],
    price: float,
    labels: list[str],
    *,
    location: str = "江苏 苏州",
    places: list[str] | None = None,
    **extra,
) -> dict:
    """A shop, kongfz or goofish item (item ids follow each site's length)."""
    first, length = {"shop": ("6", 12), "kongfz": ("7", 10), "goofish": ("8", 12)}[channel]
    published_at = extra.pop("published_at", None) or timestamp(ctx.rng)
    return {
        "channel": channel,
        "key": ctx.ids.digits(first, length),
        "title": title,
        "text": "\n".join(paragraphs),
        "author": seller["name"],
        "account": seller,
        "published_at": published_at,
        "price": round(float(price), 2),
        "location": location,
        "places": places or [],
        "expected_labels": labels,
        **extra,
    }
