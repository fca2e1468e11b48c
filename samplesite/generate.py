"""Write data/posts.json, the sample network's content, from the sample district's registers.

    python -m samplesite.generate [--sample-dir grids/sample/data] [--out …/posts.json]

Deterministic: the same seed and the same registers give byte-identical output, so the committed file
can be regenerated and diffed. `expected_labels` on each post is ground truth for tests; the server
never serves it.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from samplesite.content import DATA_PATH
from samplesite.generator import books, travel_offers, travel_other, unrelated
from samplesite.generator.common import Context, Ids, Registry

SEED = 20261123
PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SAMPLE_DIR = PROJECT_ROOT / "grids" / "sample" / "data"
# How many posts of each kind each channel gets: (builder, channel, count).
PLAN: list[tuple[Callable, str, int]] = [
    (travel_offers.licensed_offer, "wechat", 30),
    (travel_offers.unlicensed_offer, "wechat", 50),
    (travel_other.diary, "wechat", 38),
    (travel_other.scenic_notice, "wechat", 15),
    (travel_other.hotel_offer, "wechat", 10),
    (travel_other.ticket_offer, "wechat", 10),
    (books.genuine_book, "wechat", 12),
    (books.pirated_book, "wechat", 14),
    (books.pirated_disc, "wechat", 4),
    (unrelated.food_post, "wechat", 25),
    (unrelated.event_post, "wechat", 20),
    (travel_offers.licensed_offer, "shop", 8),
    (travel_offers.unlicensed_offer, "shop", 12),
    (travel_other.hotel_offer, "shop", 4),
    (travel_other.ticket_offer, "shop", 6),
    (books.genuine_book, "shop", 25),
    (books.pirated_book, "shop", 15),
    (books.pirated_disc, "shop", 8),
    (books.genuine_book, "kongfz", 42),
    (books.pirated_book, "kongfz", 14),
    (travel_offers.unlicensed_offer, "goofish", 8),
    (travel_other.ticket_offer, "goofish", 5),
    (books.genuine_book, "goofish", 10),
    (books.pirated_book, "goofish", 6),
    (books.pirated_disc, "goofish", 5),
]
SECONDHAND_GOODS = 12
# WeChat pages that no longer show their article, by status, and how many of each.
GONE = {"deleted": 4, "violation": 3, "expired": 2, "unavailable": 2}
# Ground-truth labels a post may carry, with their meaning (copied into posts.json for readers).
LABELS = {
    "travel_offer": "sells a trip (itinerary, transport or guiding, for a price)",
    "licensed_agency": "the seller is an agency in agencies.csv quoting its own licence number",
    "unlicensed_travel": "the seller has no travel-agency licence",
    "no_licence_number": "no licence number quoted",
    "fake_licence_number": "a well-formed licence number that agencies.csv does not hold",
    "malformed_licence_number": "a licence number in a shape the authority never issues",
    "borrowed_licence_number": "a real agency's number quoted by someone else",
    "travel_diary": "travel diary or guide that sells nothing",
    "scenic_notice": "a scenic area's official notice",
    "hotel_only": "accommodation only (no licence needed)",
    "ticket_only": "admission tickets only, no trip around them",
    "illegal_publication": "umbrella label of the detector: any pirated book, e-book copy or disc",
    "book_genuine": "genuine book, valid ISBN, ordinary price",
    "book_pirated": "pirated publication (高仿, 影印, A版, PDF/网盘)",
    "invalid_isbn": "the quoted ISBN-13 has a wrong check digit",
    "too_cheap_set": "a multi-volume set at a small fraction of its list price",
    "netdisk_pdf": "e-book copies sold as PDF or cloud-drive (网盘) links",
    "pirated_disc": "burned discs, USB drives or hard disks of films and music",
    "unrelated": "nothing for cultural-market enforcement",
    "page_deleted": "article deleted by its publisher (该内容已被发布者删除)",
    "page_violation": "article removed for violations (此内容因违规无法查看)",
    "page_expired": "expired link (链接已过期)",
    "page_unavailable": "temporarily unavailable (该内容暂时无法查看)",
}


def generate(sample_dir: Path = DEFAULT_SAMPLE_DIR, seed: int = SEED) -> dict:
    rng = random.Random(seed)
    ctx = Context(rng=rng, ids=Ids(rng), registry=Registry.load(sample_dir))
    posts = [build(ctx, channel) for build, channel, count in PLAN for _ in range(count)]
    posts += [unrelated.secondhand_goods(ctx) for _ in range(SECONDHAND_GOODS)]
    rng.shuffle(posts)
    _mark_special_pages(ctx, posts)
    posts = [{"id": f"p{n:04d}", **post} for n, post in enumerate(posts, 1)]
    return {"generator": "samplesite/generate.py", "seed": seed, "labels": LABELS, "posts": posts}


def write(data: dict, out: Path = DATA_PATH) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    # One post per line keeps diffs of the committed file readable.
    out.write_text(text.replace(',{"id":"p', ',\n{"id":"p') + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Generate the sample network's posts.json.")
    parser.add_argument("--sample-dir", type=Path, default=DEFAULT_SAMPLE_DIR)
    parser.add_argument("--out", type=Path, default=DATA_PATH)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    data = generate(args.sample_dir, args.seed)
    write(data, args.out)
    counts = Counter(p["channel"] for p in data["posts"])
    print(f"wrote {len(data['posts'])} posts to {args.out} ({args.out.stat().st_size:,} bytes): {dict(counts)}")


def _mark_special_pages(ctx: Context, posts: list[dict]) -> None:
    """Make some WeChat articles unreachable, two malformed and one several megabytes large."""
    rng = ctx.rng
    wechat = [p for p in posts if p["channel"] == "wechat"]
    risky = [p for p in wechat if {"unlicensed_travel", "book_pirated"} & set(p["expected_labels"])]
    for status, count in GONE.items():
        pool = risky if status in ("deleted", "violation") else wechat
        for post in rng.sample([p for p in pool if p["status"] == "ok"], count):
            post["status"] = status
            post["labels_if_visible"] = post["expected_labels"]
            post["expected_labels"] = [f"page_{status}"]
    offers = [p for p in wechat if p["status"] == "ok" and "travel_offer" in p["expected_labels"]]
    for post in rng.sample(offers, 2):
        post["markup"] = "malformed"
        post["text"] += "\n团费<500元 & 含门票，名额有限>>>速报"
    diary = next(p for p in wechat if p["status"] == "ok" and p["expected_labels"] == ["travel_diary"])
    diary["markup"] = "large"


if __name__ == "__main__":
    main()
