"""Progress bars for long command-line verbs (rich); quiet when output is not a terminal, so logs and
tests stay readable."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

T = TypeVar("T")


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Yield from `items` while drawing a bar on stderr when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield from items
        return
    with make_progress() as progress:
        yield from progress.track(items, total=total, description=description)


def make_progress() -> Progress:
    """A Progress for verbs that advance by hand (crawls, bulk indexing)."""
    # On stderr, as the module says: rich's default console is stdout, which a crawl's caller reads
    # for its summary line (the demo), so the bar went into a pipe and never showed.
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        transient=False,
        console=Console(stderr=True),
        disable=not sys.stderr.isatty(),
    )
