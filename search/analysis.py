"""Text analysis, the one place that decides what a "term" is, so both backends agree.

1. `normalize` maps every character to exactly one character (NFKC, traditional→simplified, lower
   case). Because the length never changes, an offset in the normalised text is the same offset in
   the original: highlights computed on the normalised text fall on the right original characters.
2. Runs of CJK characters become one token per character position, like Elasticsearch's `cjk_bigram`:
   the bigram starting there, or the character itself at the end of a run ("盗版书" → 盗版 版书 书).
   Every character therefore starts exactly one token: a one-character query is a prefix query ("书*"),
   a longer one is a phrase of its bigrams. Latin letters and digits form whole words ("qq", "5a").
3. Everything else (punctuation, spaces, symbols) separates tokens.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# Bump when tokens change: indexes built by another version must be rebuilt (`wangxun reindex`).
ANALYZER_VERSION = 1

_TOKEN_CHAR = re.compile(r"[^\W_]")
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0002ffff"
CJK_RUN = re.compile(f"[{_CJK}]+")

# Characters too common to mean anything on their own. They are dropped only as whole one-character
# query terms (and from a query made only of them); inside words such as 目的地 they still count.
STOP_CHARS = frozenset("的了是在和与及或也就都而且把被这那之其个为以于着过吗呢吧啊呀哦么")


@lru_cache(maxsize=1)
def _t2s_table() -> dict[str, str]:
    """Character-level traditional→simplified from OpenCC's own dictionary (first candidate).

    The phrase-level OpenCC converter is far too slow for bulk indexing and may change lengths; a
    per-character table keeps `normalize` length-preserving and fast."""
    import opencc

    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        src, _, dst = line.partition("\t")
        dst = dst.split(" ")[0] if dst else ""
        if len(src) == 1 and len(dst) == 1:
            table[src] = dst
    return table


def _norm_char(ch: str) -> str:
    out = unicodedata.normalize("NFKC", ch)
    if len(out) != 1:  # e.g. "㈱" → "(株)": keep the original to keep offsets
        out = ch
    low = out.lower()
    if len(low) == 1:
        out = low
    return _t2s_table().get(out, out)


@lru_cache(maxsize=1)
def _norm_table() -> tuple[dict[int, str], re.Pattern]:
    """The Basic Multilingual Plane's changed characters, computed once (~0.2 s).

    Only letters and digits are mapped: punctuation separates tokens whatever its width, so leaving
    "，。" alone changes no token and lets most crawled text skip translation entirely (the regex)."""
    table: dict[int, str] = {}
    for cp in range(0x10000):
        if 0xD800 <= cp < 0xE000:
            continue
        ch = chr(cp)
        out = _norm_char(ch)
        if out != ch and (_TOKEN_CHAR.match(ch) or _TOKEN_CHAR.match(out)):
            table[cp] = out
    changed = re.compile("[" + "".join(re.escape(chr(cp)) for cp in sorted(table)) + "]")
    return table, changed


def normalize(text: str) -> str:
    """Same-length normalised text: full-width→half-width, 繁→简, lower case."""
    if not text:
        return ""
    table, changed = _norm_table()
    return text.translate(table) if changed.search(text) else text


@dataclass(frozen=True)
class Token:
    term: str
    start: int  # character offset in the (original and normalised) text
    length: int  # characters the term covers


# A CJK run, or a word of other letters and digits ("qq群" is the word "qq" and the run "群").
_SEGMENT = re.compile(f"([{_CJK}]+)|(?:(?![{_CJK}])[^\\W_])+")


def segments(norm: str):
    """(kind, start, text) for each CJK run ("cjk") or latin/digit word ("word") of normalised text."""
    for m in _SEGMENT.finditer(norm):
        seg = m.group()
        yield ("cjk" if m.lastindex else "word"), m.start(), seg


def tokens(text: str) -> list[Token]:
    """Tokens with offsets, for highlighting (the index stores only the terms)."""
    return list(_tokens_of(segments(normalize(text))))


def _tokens_of(segs) -> list[Token]:
    out: list[Token] = []
    for kind, start, seg in segs:
        if kind == "word":
            out.append(Token(seg, start, len(seg)))
        else:
            for i in range(len(seg) - 1):
                out.append(Token(seg[i : i + 2], start + i, 2))
            out.append(Token(seg[-1], start + len(seg) - 1, 1))
    return out


def index_terms(text: str | None) -> str:
    """The space-separated token stream stored in the full-text index (the hot path of indexing)."""
    if not text:
        return ""
    parts: list[str] = []
    append, extend = parts.append, parts.extend
    for m in _SEGMENT.finditer(normalize(text)):
        seg = m.group()
        if m.lastindex:
            if len(seg) > 1:
                extend(map(operator.add, seg, seg[1:]))  # overlapping bigrams
            append(seg[-1])
        else:
            append(seg)
    return " ".join(parts)


@dataclass(frozen=True)
class TermPattern:
    """What one query word or phrase must match: consecutive tokens, the last possibly a prefix.

    `terms[i]` is compared with the i-th consecutive document token; `prefix` makes the last one a
    prefix (a lone CJK character matches every token it starts); `lengths` are the characters each
    matched token covers when highlighting."""

    terms: tuple[str, ...]
    prefix: bool
    lengths: tuple[int, ...]


def term_pattern(text: str) -> TermPattern | None:
    """The token pattern for a query word or phrase, or None when it has no letters at all."""
    segs = list(segments(normalize(text)))
    terms: list[str] = []
    lengths: list[int] = []
    prefix = False
    for n, (kind, _start, seg) in enumerate(segs):
        last = n == len(segs) - 1
        if kind == "word":
            terms.append(seg)
            lengths.append(len(seg))
            continue
        terms.extend(seg[i : i + 2] for i in range(len(seg) - 1))
        lengths.extend([2] * (len(seg) - 1))
        if not last:  # the document's run ends here too, so it has the lone final character
            terms.append(seg[-1])
            lengths.append(1)
        elif len(seg) == 1:
            terms.append(seg)
            lengths.append(1)
            prefix = True
    if not terms:
        return None
    return TermPattern(tuple(terms), prefix, tuple(lengths))


def is_stop_term(text: str) -> bool:
    """A query word that is only stop characters (的, 了 …) and would match nearly every hit."""
    norm = "".join(ch for ch in normalize(text) if not ch.isspace())
    return bool(norm) and all(ch in STOP_CHARS for ch in norm) and len(norm) <= 2
