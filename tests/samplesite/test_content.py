"""The committed sample content: deterministic, varied, tied to the sample district, with sound ground truth."""

from __future__ import annotations

import csv
import json
from collections import Counter

import pytest

from samplesite.content import DATA_PATH
from samplesite.generate import DEFAULT_SAMPLE_DIR, LABELS, generate
from samplesite.generator.common import LANDMARKS, STREETS, isbn_check_digit

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def committed():
    return json.loads(DATA_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def posts(committed):
    return committed["posts"]


def _content_labels(post) -> set[str]:
    """What the post says, also for articles whose page is gone (their labels say page_<status>)."""
    return set(post.get("labels_if_visible", post["expected_labels"]))


def _rows(name):
    with open(DEFAULT_SAMPLE_DIR / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_generator_is_deterministic_and_matches_the_committed_file(committed):
    first, second = generate(), generate()
    assert first == second
    assert first == committed, "posts.json is stale: run python -m samplesite.generate"


def test_size_and_channels(posts):
    assert 300 <= len(posts) <= 500
    assert DATA_PATH.stat().st_size < 1_500_000
    assert len({p["id"] for p in posts}) == len(posts)
    assert len({(p["channel"], p["key"]) for p in posts}) == len(posts)
    channels = Counter(p["channel"] for p in posts)
    assert set(channels) == {"wechat", "shop", "kongfz", "goofish"} and min(channels.values()) >= 40
    lengths = sorted(len(p["text"]) for p in posts)
    assert lengths[0] < 60 and lengths[-1] > 800  # short listings and long diaries


def test_every_label_is_documented_and_used(posts):
    used = Counter(label for p in posts for label in p["expected_labels"])
    assert set(used) == set(LABELS)
    assert all(p["expected_labels"] for p in posts)


def test_licensed_offers_quote_registered_numbers_and_fakes_do_not(posts):
    registry = {a["license_no"]: a["name"] for a in _rows("agencies.csv")}
    for p in posts:
        labels = _content_labels(p)
        if "licensed_agency" in labels or "borrowed_licence_number" in labels:
            assert registry[p["agency"]["license_no"]] == p["agency"]["name"]
        if "licensed_agency" in labels:
            assert p["agency"]["name"] in p["text"]
        if "borrowed_licence_number" in labels:
            assert p["licence_quoted"] in p["text"] and p["agency"]["name"] not in p["text"]
        if labels & {"fake_licence_number", "malformed_licence_number"}:
            assert p["licence_quoted"] in p["text"] and p["licence_quoted"] not in registry
        if "no_licence_number" in labels:
            assert "L-JS" not in p["text"] and "许可证" not in p["text"]


def test_isbns_agree_with_their_labels(posts):
    for p in posts:
        isbn = (p.get("book") or {}).get("isbn", "")
        if not isbn:
            continue
        valid = len(isbn) == 13 and isbn_check_digit(isbn[:12]) == int(isbn[12])
        assert valid == ("invalid_isbn" not in _content_labels(p)), p["id"]
        if "book_genuine" in _content_labels(p):
            assert valid


def test_posts_are_tied_to_the_sample_district(posts):
    venue_names = {v["name"] for v in _rows("venues.csv")}
    tied = [p for p in posts if p.get("venue")]
    assert len(tied) >= 10 and all(p["venue"] in venue_names for p in tied)
    assert all(set(p["places"]) <= set(LANDMARKS) | {"平江路", "山塘街", "十全街", "观前街", "留园"} for p in posts)
    mentioned = {place for p in posts for place in LANDMARKS + STREETS if place in p["text"]}
    assert mentioned == set(LANDMARKS + STREETS)


def test_special_pages_exist(posts):
    wechat = [p for p in posts if p["channel"] == "wechat"]
    statuses = Counter(p["status"] for p in wechat)
    assert {s for s in statuses if s != "ok"} == {"deleted", "violation", "expired", "unavailable"}
    markups = Counter(p["markup"] for p in wechat)
    assert markups["malformed"] == 2 and markups["large"] == 1


def test_accounts_named_by_crawl_sources_keep_their_ids(posts):
    from samplesite.generator.common import PINNED_ACCOUNT_IDS

    for name, account_id in PINNED_ACCOUNT_IDS.items():
        articles = [p for p in posts if p["channel"] == "wechat" and p["account"]["id"] == account_id]
        assert articles and all(p["account"]["name"] == name for p in articles)


def test_umbrella_labels_match_the_detector(posts):
    for p in posts:
        labels = _content_labels(p)
        assert ("illegal_publication" in labels) == bool(labels & {"book_pirated", "pirated_disc"}), p["id"]
        if labels & {"no_licence_number", "fake_licence_number", "malformed_licence_number", "borrowed_licence_number"}:
            assert "unlicensed_travel" in labels
