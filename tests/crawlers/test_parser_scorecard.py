"""The parser scorecard on every real saved page: each page has a hand-written truth file, every
state is right, and each field is right on at least 95% of the pages where it appears."""

from __future__ import annotations

from pathlib import Path

from crawlers.parsers import scorecard

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"
TARGET = 0.95


def test_every_real_page_has_a_truth_file():
    pages = [p for p in REAL.rglob("*") if p.is_file() and p.suffix in (".html", ".json")]
    pages = [p for p in pages if not p.name.endswith(".truth.json")]
    truths = {scorecard.page_for(t) for t in scorecard.truth_files(REAL)}
    assert pages and set(pages) == truths


def test_every_state_right_and_each_field_right_on_95_percent_of_the_pages_that_show_it():
    result = scorecard.scorecard(REAL)
    assert len(result["pages"]) >= 49
    misses = scorecard.misses(result)
    assert not [m for m in misses if ": state " in m], misses
    for kind, row in result["table"].items():
        for field, (correct, scored) in row.items():
            assert not scored or correct / scored >= TARGET, (kind, field, correct, scored, misses)


def test_the_command_prints_the_kind_by_field_table(capsys):
    assert scorecard.main([str(REAL)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| kind | pages | state | title | account | author | published_at | price | item_count |")
    assert "| `wechat_article` |" in out and "| all |" in out
