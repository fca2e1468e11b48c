"""Precision and recall per label on a labelled set.

    python -m detection.evaluate DEVSET.jsonl [--agencies CSV] [--predictions OUT.jsonl] [--errors]

DEVSET.jsonl holds classify input lines plus "gold": the list of labels the post should get. Without
--predictions the posts are classified here (registry from --agencies, else empty); with it, the
output of `wangxun classify` is scored instead, matched by id.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from core.errors import UserError
from detection.cli import read_posts
from detection.detector import LABELS, Detector
from detection.snapshot import read_agencies_csv


@dataclass
class LabelFigures:
    label: str
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def evaluate(posts: list[dict], predicted: dict[str, list[str]]) -> dict[str, LabelFigures]:
    """Figures per label, comparing each post's "gold" with predicted[id]."""
    figures = {label: LabelFigures(label) for label in LABELS}
    for post in posts:
        gold = set(_gold(post))
        got = set(predicted.get(str(post.get("id")), []))
        for label in LABELS:
            f = figures[label]
            f.tp += label in gold and label in got
            f.fp += label not in gold and label in got
            f.fn += label in gold and label not in got
    return figures


def classify_all(posts: list[dict], agencies: list[dict]) -> dict[str, dict]:
    detector = Detector.from_records(agencies)
    return {str(p.get("id")): detector.classify(p) for p in posts}


def format_report(figures: dict[str, LabelFigures], n_posts: int) -> str:
    lines = [f"{n_posts} posts", f"{'label':<22}{'precision':>10}{'recall':>8}{'tp':>5}{'fp':>5}{'fn':>5}"]
    for f in figures.values():
        lines.append(f"{f.label:<22}{f.precision:>10.3f}{f.recall:>8.3f}{f.tp:>5}{f.fp:>5}{f.fn:>5}")
    return "\n".join(lines)


def errors(posts: list[dict], results: dict[str, dict]) -> list[str]:
    """One line per misclassified post: id, kind, gold, got, scores, title."""
    out = []
    for post in posts:
        result = results.get(str(post.get("id")), {})
        gold, got = sorted(_gold(post)), sorted(result.get("labels", []))
        if gold != got:
            scores = {k[:6]: v for k, v in result.get("scores", {}).items()}
            out.append(
                f"{post.get('id')} [{post.get('kind', '')}] gold={gold} got={got} {scores} {post.get('title', '')[:30]}"
            )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m detection.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("devset")
    parser.add_argument("--agencies", help="CSV name,license_no,address,lon,lat (the registry for the run)")
    parser.add_argument("--predictions", help="output of wangxun classify to score instead of classifying here")
    parser.add_argument("--errors", action="store_true", help="list the misclassified posts")
    args = parser.parse_args(argv)
    try:
        posts = read_posts(args.devset)
        if args.predictions:
            results = {str(r.get("id")): r for r in read_posts(args.predictions)}
        else:
            results = classify_all(posts, read_agencies_csv(args.agencies) if args.agencies else [])
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    figures = evaluate(posts, {k: v.get("labels", []) for k, v in results.items()})
    print(format_report(figures, len(posts)))
    if args.errors:
        print("\n".join(errors(posts, results)))
    return 0


def _gold(post: dict) -> list[str]:
    gold = post.get("gold", [])
    if not isinstance(gold, list) or any(label not in LABELS for label in gold):
        raise UserError(f"post {post.get('id')}: gold must be a list drawn from {', '.join(LABELS)}")
    return gold


if __name__ == "__main__":
    sys.exit(main())
