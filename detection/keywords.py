"""The keyword library (关键词库) and its Aho-Corasick matcher.

The library is data (data/keywords.toml): categories with a label, a weight, a reason and terms with
their synonyms and evasions. One automaton holds every term of every category, so a scan costs one pass
over the text however many keywords there are.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import ahocorasick
from pypinyin import lazy_pinyin

from core.errors import UserError
from detection.normalize import fold

DEFAULT_LIBRARY = Path(__file__).resolve().parent / "data" / "keywords.toml"
LABELS = ("unlicensed_travel", "illegal_publication", "shared")
MAX_REPEATS = 16
LONG_TEXT = 2000  # characters; beyond this, repeated words are capped
# Characters sellers put between the characters of a word to dodge filters ("盗 版", "盗.版", "盗🔥版").
# Only runs between two CJK characters are skipped, so ordinary punctuation and ASCII are left alone.
_FILLER = re.compile(
    r"(?<=[\u4e00-\u9fff])(?:[\s\.\-_·•*~|/\\'\"`^=#@]|[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F\u200b-\u200f])+"
    r"(?=[\u4e00-\u9fff])"
)
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Category:
    name: str
    label: str
    weight: float
    reason: str


class Match(NamedTuple):
    """One keyword occurrence: [start, end) in the scanned text, the word as written in the library."""

    start: int
    end: int
    category: str
    keyword: str


@dataclass
class Library:
    categories: dict[str, Category]
    entries: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # folded term -> [(category, canonical)]

    @property
    def size(self) -> int:
        return len(self.entries)


def load_library(path: Path | str = DEFAULT_LIBRARY) -> Library:
    """Read and check a keyword library file; a broken file is the user's to fix, so say where."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"keyword library {path}: {exc}") from None
    library = Library(categories={})
    for name, table in data.get("categories", {}).items():
        library.categories[name] = _category(path, name, table)
        for canonical, variant in _terms(table):
            owners = library.entries.setdefault(fold(variant), [])
            if (name, canonical) not in owners:
                owners.append((name, canonical))
    if not library.entries:
        raise UserError(f"keyword library {path}: no terms found under [categories.*]")
    return library


def library_from_terms(terms: dict[str, list[str]], weight: float = 0.5) -> Library:
    """A library built in code (benchmarks, tests): category name -> terms."""
    library = Library(categories={})
    for name, words in terms.items():
        library.categories[name] = Category(name, "shared", weight, name)
        for word in words:
            library.entries.setdefault(fold(word), []).append((name, word))
    return library


class Matcher:
    """Finds every library term in folded text; longer matches hide signal words they contain, so
    "非正版" does not also count as "正版". Offsets are in characters of the text given."""

    def __init__(self, library: Library):
        self.library = library
        self._automaton = ahocorasick.Automaton()
        for key, owners in library.entries.items():
            if key:
                self._automaton.add_word(_as_bytes(key), (len(key), tuple(owners)))
        self._automaton.make_automaton()
        # How far a word can reach past a filler: only that much text around each filler is rescanned.
        self._reach = min(12, max((len(k) for k in library.entries), default=1))

    def scan(self, folded: str) -> list[Match]:
        """Raw matches in `folded` (already folded text), overlaps included. On long pages a word is kept
        MAX_REPEATS times: more adds nothing to the evidence and costs time."""
        raw = folded.encode("utf-8", "surrogatepass")
        multibyte = len(raw) != len(folded)
        capped = len(folded) > LONG_TEXT
        found: list[Match] = []
        append, make = found.append, tuple.__new__  # the hot loop of detection: keep it lean
        seen: dict[int, int] = {}
        byte_pos = char_pos = 0  # matches come in order of their end, so offsets convert incrementally
        for end, value in self._automaton.iter(raw.decode("latin-1")):
            if capped:
                count = seen.get(id(value), 0)
                if count >= MAX_REPEATS:
                    continue
                seen[id(value)] = count + 1
            if multibyte:
                char_pos += len(raw[byte_pos : end + 1].decode("utf-8", "surrogatepass"))
                byte_pos = end + 1
            else:
                char_pos = end + 1
            length, owners = value
            for category, canonical in owners:
                append(make(Match, (char_pos - length, char_pos, category, canonical)))
        return found

    def find(self, folded: str) -> list[Match]:
        """Matches in `folded`, also across filler characters, with nested signal words dropped."""
        matches = self.scan(folded)
        # A match found across fillers spans more characters than its word, so it can never equal a
        # plain match: only the additions need de-duplicating (building a set of every plain match cost
        # an eighth of the scan).
        seen: set[tuple[int, int, str]] = set()
        for window_start, window in _filler_windows(folded, self._reach):
            compact, offsets = _compact(window)
            for m in self.scan(compact):
                start, end = window_start + offsets[m.start], window_start + offsets[m.end - 1] + 1
                if (start, end, m.category) not in seen and end - start > m.end - m.start:
                    seen.add((start, end, m.category))
                    matches.append(Match(start, end, m.category, m.keyword))
        return self._drop_nested(matches)

    def _drop_nested(self, matches: list[Match]) -> list[Match]:
        weights = self.library.categories
        signal = sorted((m for m in matches if weights[m.category].weight > 0), key=lambda m: (m.start, -m.end))
        hidden, reach_before, group_start, group_end = set(), -1, None, -1
        for m in signal:
            if m.start != group_start:  # a new start: everything earlier now counts as "before"
                reach_before = max(reach_before, group_end)
                group_start, group_end = m.start, m.end  # sorted by -end: the group's longest comes first
            if reach_before >= m.end or group_end > m.end:
                hidden.add(id(m))
        kept = [m for m in matches if id(m) not in hidden]
        kept.sort(key=lambda m: (m.start, m.end))
        return kept


def _category(path: Path, name: str, table: dict) -> Category:
    label, weight = table.get("label"), table.get("weight", 0.0)
    if label not in LABELS:
        raise UserError(f"keyword library {path}: category {name} has label {label!r}; use one of {', '.join(LABELS)}")
    if not isinstance(weight, (int, float)) or not 0 <= weight <= 1:
        raise UserError(f"keyword library {path}: category {name} weight must be a number from 0 to 1")
    if not isinstance(table.get("terms", []), list):
        raise UserError(f"keyword library {path}: category {name} terms must be a list of strings")
    return Category(name, label, float(weight), str(table.get("reason", name)))


def _terms(table: dict):
    """(canonical, variant) pairs: each term, its pinyin if asked for, and its listed evasions."""
    for term in table.get("terms", []):
        term = str(term)
        yield term, term
        if table.get("pinyin") and len(_CJK.findall(term)) >= 2 and _CJK.fullmatch(term[0]):
            yield term, "".join(lazy_pinyin(term))
    for canonical, variants in table.get("synonyms", {}).items():
        for variant in variants:
            yield canonical, str(variant)


def _as_bytes(text: str) -> str:
    """`text` as its UTF-8 bytes, one character per byte. pyahocorasick looks a node's children up one
    by one, so a trie over thousands of CJK characters is slow at the root; over bytes no node has
    more than 256 children and the scan is about three times faster. UTF-8 is self-synchronising, so
    a match on bytes is always a match on whole characters."""
    return text.encode("utf-8", "surrogatepass").decode("latin-1")


def _filler_windows(folded: str, reach: int) -> list[tuple[int, str]]:
    """Stretches of `folded` around filler runs, `reach` characters either side, overlapping ones merged:
    the only places a word split by fillers can be."""
    spans: list[list[int]] = []
    for m in _FILLER.finditer(folded):
        start, end = max(0, m.start() - reach), min(len(folded), m.end() + reach)
        if spans and start <= spans[-1][1]:
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return [(start, folded[start:end]) for start, end in spans]


def _compact(text: str) -> tuple[str, list[int]]:
    """`text` without filler characters and, for each kept character, its index in `text`."""
    offsets: list[int] = []
    position = 0
    for m in _FILLER.finditer(text):
        offsets.extend(range(position, m.start()))
        position = m.end()
    offsets.extend(range(position, len(text)))
    return _FILLER.sub("", text), offsets
