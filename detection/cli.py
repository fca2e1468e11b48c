"""`wangxun classify INPUT.jsonl [--agencies agencies.csv] [--out OUT.jsonl]`."""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import click

from core.errors import UserError

# Below this many posts, starting worker processes costs more than it saves.
PARALLEL_FROM = 1000
_worker_detector = None  # set in the parent before forking, inherited by the workers


@click.command("classify")
@click.argument("input_path", metavar="INPUT.jsonl", type=click.Path(dir_okay=False))
@click.option(
    "--agencies",
    "agencies_path",
    type=click.Path(dir_okay=False),
    help="CSV name,license_no,address,lon,lat that replaces the database registry for this run.",
)
@click.option("--out", "out_path", type=click.Path(dir_okay=False), help="Write results here (default: stdout).")
@click.pass_context
def classify_cmd(ctx, input_path, agencies_path, out_path):
    """Label posts (one JSON object a line) as unlicensed_travel / illegal_publication, with reasons."""
    from core.cli import load_config
    from core.progress import track
    from detection import Detector
    from detection.snapshot import read_agencies_csv

    cfg = load_config(ctx)
    posts = read_posts(input_path)
    agencies = read_agencies_csv(agencies_path) if agencies_path else None
    detector = Detector.from_config(cfg, agencies=agencies)
    results = classify_many(detector, posts, workers=int(cfg.detect.classify_workers))
    tracked = track(results, "classify", total=len(posts))
    records = (result_record(post, result) for post, result in zip(posts, tracked, strict=True))
    counts = write_records(records, out_path)
    click.echo(f"classified {len(posts)} posts: " + ", ".join(f"{k} {v}" for k, v in counts.items()), err=True)


def read_posts(path: str | Path) -> list[dict]:
    """Every line of a JSONL file as a dict; a line that is not a JSON object stops the run before
    anything is written, naming the line."""
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8-sig")
    except OSError as exc:
        raise UserError(f"{path}: {exc.strerror or exc}") from None
    posts = []
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    posts.append(_post(line, path, number))
        except UnicodeDecodeError:
            raise UserError(f"{path}: not UTF-8 text") from None
    return posts


def classify_many(detector, posts: list[dict], workers: int = 1) -> Iterator[dict]:
    """Results in input order. Large inputs are shared out to `workers` forked processes, which inherit
    the built detector instead of rebuilding it."""
    global _worker_detector
    workers = max(1, min(workers, os.cpu_count() or 1))
    if workers == 1 or len(posts) < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        yield from (detector.classify(post) for post in posts)
        return
    _worker_detector = detector
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(_classify_in_worker, posts, chunksize=100)


def _classify_in_worker(post: dict) -> dict:
    return _worker_detector.classify(post)


def result_record(post: dict, result: dict) -> dict:
    return {"id": post.get("id"), **result}


def write_records(records, out_path: str | None) -> dict[str, int]:
    """Write one JSON line per record to `out_path` atomically (a failed run leaves no half file) or
    to stdout; returns how many records carry each label."""
    counts = {"unlicensed_travel": 0, "illegal_publication": 0}

    def counted(stream):
        for record in records:
            for label in record["labels"]:
                counts[label] += 1
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")

    if not out_path:
        counted(sys.stdout)
        return counts
    target = Path(out_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            counted(stream)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return counts


# Post fields the detector reads as text; a list or an object there is a mistake in the file.
TEXT_FIELDS = ("id", "url", "platform", "source_name", "account", "account_subject", "title", "text", "seller_location")


def _post(line: str, path: Path, number: int) -> dict:
    try:
        post = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}, line {number}: not valid JSON ({exc.msg})") from None
    except RecursionError:  # thousands of nested brackets: no post looks like that
        raise UserError(f"{path}, line {number}: JSON nested too deeply to be a post") from None
    if not isinstance(post, dict):
        raise UserError(f"{path}, line {number}: expected a JSON object with id, title and text")
    for field in TEXT_FIELDS:
        value = post.get(field)
        if value is not None and not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise UserError(f"{path}, line {number}: field {field!r} must be text, not {type(value).__name__}")
    price = post.get("price")
    if price is not None and (isinstance(price, bool) or not isinstance(price, (int, float, str))):
        raise UserError(f"{path}, line {number}: field 'price' must be a number, not {type(price).__name__}")
    return post
