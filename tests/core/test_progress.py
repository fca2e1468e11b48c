"""Progress bars draw on stderr: stdout of a crawl or a reindex is read by its caller (the demo reads
the crawl's summary line), so a bar there would be lost in a pipe or mixed into the output."""

from __future__ import annotations

import sys

from core.progress import make_progress, track


def test_the_bar_writes_to_stderr():
    assert make_progress().console.stderr


def test_track_yields_every_item_when_stderr_is_no_terminal(monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert list(track(range(5), "items")) == [0, 1, 2, 3, 4]
