"""Highlight spans and snippets, computed from the same analysis as the index so both backends mark
exactly the characters a query matched (the normalised text has the original's offsets).

Only the neighbourhood of each candidate is tokenised, so a 50,000-character page costs a few
string searches, not a full analysis.
"""

from __future__ import annotations

import html
import re

from core.privacy import mask_contacts
from search.analysis import CJK_RUN, TermPattern, normalize, tokens
from search.backends.base import Snippet

_WORD_CHAR = re.compile(r"[^\W_]")
MAX_SPANS = 200


def find_spans(text: str, patterns: list[TermPattern], norm: str | None = None) -> list[tuple[int, int]]:
    """Sorted, merged (start, end) character spans where any pattern matches `text`."""
    norm = normalize(text) if norm is None else norm
    spans: list[tuple[int, int]] = []
    for p in patterns:
        key = p.terms[0] if not p.prefix or len(p.terms) > 1 else p.terms[0][:1]
        pos = norm.find(key)
        while pos != -1 and len(spans) < MAX_SPANS:
            span = _match_at(text, norm, pos, p)
            if span:
                spans.append(span)
            pos = norm.find(key, pos + 1)
    return _merge(spans)


def _match_at(text: str, norm: str, pos: int, p: TermPattern) -> tuple[int, int] | None:
    # A latin word must start at a word boundary; CJK tokens start at any character.
    if pos > 0 and not _is_cjk_token(p.terms[0]) and _is_latin_word_char(norm[pos - 1]):
        return None
    end = pos + sum(p.lengths) * 3 + 16
    while end < len(norm) and end - pos < 400 and _is_latin_word_char(norm[end]):
        end += 1  # never cut a latin word: its token would change (a CJK token needs only the next character)
    toks = tokens(text[pos : end + 1])
    if len(toks) < len(p.terms) or toks[0].start != 0:
        return None
    for k, term in enumerate(p.terms):
        last = k == len(p.terms) - 1
        got = toks[k].term
        if not (got.startswith(term) if last and p.prefix else got == term):
            return None
    stop = max(toks[k].start + p.lengths[k] for k in range(len(p.terms)))
    return pos, pos + stop


def _is_cjk_token(term: str) -> bool:
    return not _is_latin_word_char(term[0])


def _is_latin_word_char(ch: str) -> bool:
    return bool(_WORD_CHAR.match(ch)) and not CJK_RUN.match(ch)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def mark(text: str, spans: list[tuple[int, int]], tag: str = "mark") -> str:
    """HTML-escaped text with each span wrapped in <mark>; safe to insert into a page."""
    parts, pos = [], 0
    for s, e in spans:
        parts.append(html.escape(text[pos:s]))
        parts.append(f"<{tag}>{html.escape(text[s:e])}</{tag}>")
        pos = e
    parts.append(html.escape(text[pos:]))
    return "".join(parts)


def snippet(field: str, text: str, patterns: list[TermPattern], size: int = 120) -> Snippet | None:
    """The `size`-character fragment around the densest matches, or None when nothing matched."""
    if not text:
        return None
    spans = find_spans(text, patterns)
    if not spans:
        return None
    start = _best_window(spans, size, len(text))
    end = min(len(text), start + size)
    inside = [(max(s, start) - start, min(e, end) - start) for s, e in spans if e > start and s < end]
    frag = mask_contacts(text)[start:end]  # same length, so the spans still fit
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    shifted = [(s + len(prefix), e + len(prefix)) for s, e in inside]
    full = prefix + frag + suffix
    return Snippet(field=field, text=full, spans=shifted, html=mark(full, shifted))


def _best_window(spans: list[tuple[int, int]], size: int, length: int) -> int:
    """Start of the window holding most spans, opening a little before the first of them."""
    best, best_n, j = 0, -1, 0
    for i, (s, _e) in enumerate(spans):
        while j < len(spans) and spans[j][1] <= s + size:
            j += 1
        if j - i > best_n:
            best, best_n = s, j - i
    lead = min(20, size // 5)
    return max(0, min(best - lead, max(0, length - size)))


def plain_head(field: str, text: str, size: int = 120) -> Snippet | None:
    """The opening of a field when no term matched it (filter-only searches, matches in the title)."""
    if not text:
        return None
    frag = mask_contacts(text)[:size] + ("…" if len(text) > size else "")
    return Snippet(field=field, text=frag, spans=[], html=html.escape(frag))


def snippets_for(doc: dict, patterns: list[TermPattern], size: int = 120) -> list[Snippet]:
    """Title, text and reasons snippets of one result: highlighted where the query matched."""
    out = []
    title = snippet("title", doc.get("title") or "", patterns, size=200) if patterns else None
    out.append(title or plain_head("title", doc.get("title") or "", 200))
    body = snippet("text", doc.get("text") or "", patterns, size) if patterns else None
    out.append(body or plain_head("text", doc.get("text") or "", size))
    why = doc.get("reason_names") or ""  # each reason once, by its name: why the detectors flagged it
    out.append((snippet("reasons", why, patterns, size=400) if patterns else None) or plain_head("reasons", why, 400))
    return [s for s in out if s is not None]


_MARK = re.compile(r"<mark>(.*?)</mark>", re.S)
# The shown fields and their fragment sizes, as snippets_for cuts them.
SHOWN = (("title", "title", 200), ("text", "text", 120), ("reasons", "reason_names", 400))


def parse_fragment(fragment: str) -> tuple[str, list[tuple[int, int]]]:
    """An HTML-escaped fragment with <mark> around matches (what `mark` writes, and what
    Elasticsearch's highlighter answers with encoder html) → its plain text and the marked spans."""
    plain: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = at = 0
    for m in _MARK.finditer(fragment):
        before = html.unescape(fragment[pos : m.start()])
        inside = html.unescape(m.group(1))
        plain += [before, inside]
        at += len(before)
        spans.append((at, at + len(inside)))
        at += len(inside)
        pos = m.end()
    plain.append(html.unescape(fragment[pos:]))
    return "".join(plain), _merge([s for s in spans if s[1] > s[0]])


def snippets_from_fragments(doc: dict, fragments: dict[str, list[str]]) -> list[Snippet]:
    """Title, text and reasons snippets from a backend's highlighted fragments ({shown field: [fragment]}).

    The backend highlighted its normalised copy of the text; normalisation keeps every offset, so a
    fragment is found in the hit's own text and shown in its characters (盜版書, ＱＱ), with contacts
    masked and an ellipsis where the field goes on, as snippets_for shows it. A field without a
    fragment (no match there) shows its opening."""
    out = []
    for shown, key, size in SHOWN:
        original = doc.get(key) or ""
        best = None
        for fragment in fragments.get(shown, []):
            plain, spans = parse_fragment(fragment)
            if spans and (best is None or len(spans) > len(best[1])):
                best = (plain, spans)
        made = _placed(shown, original, *best) if best else None
        out.append(made or plain_head(shown, original, size))
    return [s for s in out if s is not None]


def _placed(field: str, original: str, plain: str, spans: list[tuple[int, int]]) -> Snippet | None:
    start = normalize(original).find(normalize(plain))
    if start < 0:  # not the hit's text any more (changed since it was indexed): mark the fragment itself
        start, original = 0, plain
    end = start + len(plain)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(original) else ""
    full = prefix + mask_contacts(original)[start:end] + suffix
    shifted = [(s + len(prefix), e + len(prefix)) for s, e in spans]
    return Snippet(field=field, text=full, spans=shifted, html=mark(full, shifted))
