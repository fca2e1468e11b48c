"""The parser scorecard: every real saved page parsed with the kind its truth file names, and each field
compared with the truth written by hand from reading the page.

    .venv/bin/python -m crawlers.parsers.scorecard [DIR]        # default tests/fixtures/real

A page `<name>.html` (or `.json`) has its truth beside it in `<name>.truth.json`:

    {"kind": "wechat_article", "url": "https://mp.weixin.qq.com/s/…", "state": "ok",
     "title": "…", "account": "…", "author": "…", "published_at": "2026-01-02T17:39:33+08:00",
     "price": null, "item_count": 0}

A field is scored where the truth gives it a value ("where the field appears"); null or absent means
the page does not show it. `state` is always scored. `account` is the public account or the shop;
`item_count` the number of results of a listing. A published_at without seconds is compared to the
minute. The table is kind × field, "correct/scored".
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path

from crawlers.parsers.api import parse

DEFAULT_DIR = Path("tests/fixtures/real")
FIELDS = ("state", "title", "account", "author", "published_at", "price", "item_count")
_SPACE_RE = re.compile(r"\s+")


def truth_files(directory: Path) -> list[Path]:
    return sorted(Path(directory).rglob("*.truth.json"))


def page_for(truth_path: Path) -> Path:
    stem = truth_path.name[: -len(".truth.json")]
    for candidate in sorted(truth_path.parent.glob(stem + ".*")):
        if candidate != truth_path and not candidate.name.endswith(".truth.json"):
            return candidate
    raise FileNotFoundError(f"no page for {truth_path}")


def score_page(truth_path: Path) -> dict:
    """{"page", "kind", "fields": {field: (expected, got, correct)}} for one page."""
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    page_path = page_for(truth_path)
    parsed = parse(truth["kind"], truth.get("url", ""), page_path.read_bytes())
    got = {
        "state": parsed.state,
        "title": parsed.title,
        "account": parsed.account,
        "author": parsed.author,
        "published_at": parsed.published_at,
        "price": parsed.price,
        "item_count": len(parsed.items),
    }
    fields = {}
    for field in FIELDS:
        expected = truth.get(field)
        if expected is None and field != "state":
            continue
        fields[field] = (expected, _shown(got[field]), _same(field, expected, got[field]))
    return {"page": page_path.name, "kind": truth["kind"], "fields": fields}


def _same(field: str, expected, got) -> bool:
    if field in ("title", "account", "author"):
        return _norm(expected) == _norm(got)
    if field == "published_at":
        if not isinstance(got, dt.datetime):
            return False
        want = dt.datetime.fromisoformat(expected)
        precision = dt.timedelta(seconds=1 if want.second or re.search(r"T\d\d:\d\d:\d\d", expected) else 60)
        return abs(got - want) < precision
    if field == "price":
        return got is not None and abs(float(got) - float(expected)) < 0.005
    return expected == got


def _norm(value) -> str:
    return _SPACE_RE.sub("", str(value or ""))


def _shown(value):
    return value.isoformat() if isinstance(value, dt.datetime) else value


def scorecard(directory: Path = DEFAULT_DIR) -> dict:
    """{"pages": [score_page …], "table": {kind: {field: [correct, scored]}}}."""
    pages = [score_page(path) for path in truth_files(directory)]
    table: dict[str, dict[str, list[int]]] = {}
    for page in pages:
        row = table.setdefault(page["kind"], {field: [0, 0] for field in FIELDS})
        for field, (_, _, correct) in page["fields"].items():
            row[field][0] += int(correct)
            row[field][1] += 1
    return {"pages": pages, "table": table}


def format_table(table: dict) -> str:
    """The kind × field table as Markdown, "correct/scored" per cell and a total row."""
    header = "| kind | pages | " + " | ".join(FIELDS) + " |"
    lines = [header, "|" + "---|" * (len(FIELDS) + 2)]
    totals = {field: [0, 0] for field in FIELDS}
    for kind in sorted(table):
        row = table[kind]
        cells = []
        for field in FIELDS:
            correct, scored = row[field]
            totals[field][0] += correct
            totals[field][1] += scored
            cells.append(f"{correct}/{scored}" if scored else "–")
        lines.append(f"| `{kind}` | {row['state'][1]} | " + " | ".join(cells) + " |")
    cells = [f"{c}/{n} ({100 * c / n:.0f}%)" if n else "–" for c, n in (totals[f] for f in FIELDS)]
    lines.append(f"| all | {totals['state'][1]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def misses(result: dict) -> list[str]:
    return [
        f"{page['page']}: {field} expected {expected!r}, got {got!r}"
        for page in result["pages"]
        for field, (expected, got, correct) in page["fields"].items()
        if not correct
    ]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    directory = Path(args[0]) if args else DEFAULT_DIR
    result = scorecard(directory)
    if not result["pages"]:
        print(f"no *.truth.json under {directory}", file=sys.stderr)
        return 2
    print(format_table(result["table"]))
    wrong = misses(result)
    for line in wrong:
        print("MISS " + line)
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
