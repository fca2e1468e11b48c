"""Text normalisation that keeps every character where it was.

Detection works on a folded copy of each field: full-width forms become ASCII, traditional characters
become simplified, Latin letters become lower case, and look-alike dashes become "-". Every mapping is
one character to one character (str.translate with a table), so an offset into the folded text is the
same offset into the original and the UI can highlight the seller's own words.
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

import opencc

_OPENCC_DIR = Path(opencc.__file__).resolve().parent / "dictionary"


def fold(text: str | None) -> str:
    """The detection copy of `text`: same length, same offsets."""
    if not text:
        return ""
    return text.translate(_sequence_table())


@functools.cache
def _table() -> dict[int, str]:
    table: dict[int, str] = {}
    table.update(_traditional_to_simplified())
    for code in range(0xFF01, 0xFF5F):  # full-width ASCII block
        table[code] = chr(code - 0xFEE0)
    table[0x3000] = " "  # ideographic space
    for ch in "‐‑‒–—―−﹣":  # dashes and minus signs sellers and OCR put into licence numbers and ISBNs
        table[ord(ch)] = "-"
    for code in list(table):
        table[code] = _lower_if_ascii(table[code])
    for code in range(ord("A"), ord("Z") + 1):
        table[code] = chr(code + 32)
    for ch in "ⅠⅡⅢⅣⅤ":
        folded = unicodedata.normalize("NFKC", ch)
        if len(folded) == 1:
            table[ord(ch)] = folded.lower()
    return table


@functools.cache
def _sequence_table() -> list[str]:
    """The table as a list indexed by code point: str.translate looks a list up faster than a dict.
    Characters beyond the list (emoji and other astral ones) are left as they are."""
    table = _table()
    return [table.get(code, chr(code)) if not 0xD800 <= code <= 0xDFFF else "\ufffd" for code in range(0x10000)]


def _lower_if_ascii(ch: str) -> str:
    return ch.lower() if ch.isascii() else ch


def _traditional_to_simplified() -> dict[int, str]:
    """Single-character pairs from OpenCC's table; multi-character phrases are not needed for keyword
    matching and would break the one-to-one offsets."""
    mapping: dict[int, str] = {}
    path = _OPENCC_DIR / "TSCharacters.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) != 2 or len(parts[0]) != 1:
            continue
        simplified = parts[1].split(" ")[0]
        if len(simplified) == 1 and simplified != parts[0]:
            mapping[ord(parts[0])] = simplified
    return mapping
