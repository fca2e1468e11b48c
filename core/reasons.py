"""A hit's reasons as people read them: each reason once.

The detectors record a reason once per field its evidence was found in (`detection.signals.add`: the
spans of the title and of the text are kept apart, for highlighting), so a post that says 高仿 in its
title and in its text carries the same reason twice. Pages, the evidence summary (提取笔录) and search
results list reasons through `unique`, which keeps the first of each (label, code, text) and the
fields it was found in.
"""

from __future__ import annotations

from typing import Any


def unique(reasons: list[dict[str, Any]] | list[str] | None) -> list[dict[str, Any]]:
    """Reasons in their first order, one per (label, code, text); `fields` lists where each was found.
    A reason stored as a plain string (old rows) becomes {"text": …}."""
    out: dict[tuple, dict[str, Any]] = {}
    for r in reasons or []:
        r = {"text": r} if isinstance(r, str) else r
        key = (r.get("label"), r.get("code"), r.get("text"))
        field = r.get("field")
        if key not in out:
            out[key] = {**r, "fields": [field] if field else []}
        elif field and field not in out[key]["fields"]:
            out[key]["fields"].append(field)
    return list(out.values())


def codes(reasons: list[dict[str, Any]] | list[str] | None) -> list[str]:
    """The distinct reason codes, in first order."""
    return list(dict.fromkeys(r.get("code") for r in reasons or [] if isinstance(r, dict) and r.get("code")))
