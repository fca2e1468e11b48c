"""The sample network's posts in memory: lookups by channel, keyword search, and live edits.

Posts come from data/posts.json (written by generate.py). The server never serves `expected_labels`;
that ground truth is only for tests. Edits (the admin switch) change the in-memory copy, so each
running SampleSite starts from the committed data.
"""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path
from typing import Any

DATA_PATH = Path(__file__).resolve().parent / "data" / "posts.json"
CHANNELS = ("wechat", "shop", "kongfz", "goofish")
# Fields an admin edit may change; anything else is refused so a typo cannot pass silently.
EDITABLE_FIELDS = {"title", "text", "status", "price"}
WECHAT_STATUSES = {"ok", "deleted", "expired", "violation", "unavailable"}
HIDDEN_FIELDS = {"expected_labels"}


class ContentStore:
    """Thread-safe view of the posts; handlers read, the admin switch writes."""

    def __init__(self, posts: list[dict[str, Any]]):
        self._lock = threading.Lock()
        self._posts = {p["id"]: copy.deepcopy(p) for p in posts}
        self._by_key = {(p["channel"], str(p["key"])): p["id"] for p in posts}

    @classmethod
    def load(cls, path: str | Path | None = None) -> ContentStore:
        with open(path or DATA_PATH, encoding="utf-8") as f:
            return cls(json.load(f)["posts"])

    def all_posts(self) -> list[dict[str, Any]]:
        """Every post including its ground truth (for tests and the demo)."""
        with self._lock:
            return [copy.deepcopy(p) for p in self._posts.values()]

    def get(self, post_id: str) -> dict[str, Any] | None:
        with self._lock:
            post = self._posts.get(post_id)
            return copy.deepcopy(post) if post else None

    def find(self, channel: str, key: str) -> dict[str, Any] | None:
        """The post a URL names, e.g. ("wechat", token) or ("shop", item id)."""
        post_id = self._by_key.get((channel, str(key)))
        return self.get(post_id) if post_id else None

    def by_account(self, account_id: str) -> list[dict[str, Any]]:
        """An account's WeChat articles, newest first (as a profile history lists them)."""
        posts = [p for p in self.channel("wechat") if p["account"]["id"] == account_id]
        return _newest_first(posts)

    def accounts(self) -> dict[str, dict[str, Any]]:
        return {p["account"]["id"]: p["account"] for p in self.channel("wechat")}

    def channel(self, channel: str) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(p) for p in self._posts.values() if p["channel"] == channel]

    def search(self, channel: str, query: str) -> list[dict[str, Any]]:
        """Posts of one channel whose title or text holds every word of `query`, newest first.

        An empty query matches everything, which lets a crawler list a whole shop channel."""
        words = [w.lower() for w in query.split()]
        hits = [p for p in self.channel(channel) if all(w in (p["title"] + "\n" + p["text"]).lower() for w in words)]
        return _newest_first(hits)

    def edit(self, post_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change a post in place so the next fetch sees a different page; returns the new post."""
        unknown = set(changes) - EDITABLE_FIELDS
        if unknown:
            raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
        if "status" in changes and changes["status"] not in WECHAT_STATUSES:
            raise ValueError(f"status must be one of {sorted(WECHAT_STATUSES)}")
        with self._lock:
            post = self._posts.get(post_id)
            if post is None:
                raise KeyError(post_id)
            post.update(changes)
            post["revision"] = post.get("revision", 0) + 1
            return copy.deepcopy(post)


def public(post: dict[str, Any]) -> dict[str, Any]:
    """A post without the test-only ground truth."""
    return {k: v for k, v in post.items() if k not in HIDDEN_FIELDS}


def paragraphs(post: dict[str, Any]) -> list[str]:
    return [p for p in post["text"].split("\n") if p.strip()]


def summary(post: dict[str, Any], length: int) -> str:
    """The start of a post's first paragraph (empty when an edit left no text)."""
    paras = paragraphs(post)
    return paras[0][:length] if paras else ""


def _newest_first(posts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(posts, key=lambda p: (-p["published_at"], p["id"]))
