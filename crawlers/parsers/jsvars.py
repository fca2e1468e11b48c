"""Values of `var name = …;` assignments in inline scripts, read in one pass over the script text.

WeChat pages carry the article's facts as script variables (`var ct = "1767346773";`,
`var nickname = htmlDecode("左岸读书");`, `var msg_title = '…'.html(false);`). The 2026 page has ~3 MB
of inline script, so the scripts are scanned once for all wanted names instead of once per name.
"""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Iterable

# A JS string literal in either quote style, escapes included.
_STRING_RE = re.compile(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'')
_IDENT_CHAR_RE = re.compile(r"[\w$.]")
_NUMBER_RE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)")
_ESCAPE_RE = re.compile(r"\\(u\{[0-9a-fA-F]{1,6}\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", re.S)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
# Wrappers that mean the literal inside is HTML-escaped text.
_HTML_DECODERS = ("htmlDecode(", ".html(", "JsDecode(", "decodeURI")
_HTML_DECODER_RE = re.compile("|".join(map(re.escape, _HTML_DECODERS)))
MAX_EXPRESSION = 4000
# One assignment's right-hand side: code up to a `;` or line end, and string literals, which end at
# their quote or a line end (a backslash in one skips the next character). A backslash that is the
# last character of the window (see _expression) is captured: it takes the character after the window.
_EXPRESSION_RE = re.compile(
    r"""
    (?: [^"';\n]+
      | " (?: [^"\\\n]+ | \\. )* (?: ["\n] | (?P<cut_double>\\)\Z )?
      | ' (?: [^'\\\n]+ | \\. )* (?: ['\n] | (?P<cut_single>\\)\Z )?
    )*""",
    re.S | re.X,
)


def js_vars(script_text: str, names: Iterable[str]) -> dict[str, str]:
    """{name: value} for the first assignment of each name whose expression yields a non-empty value.

    The value is the first non-empty string literal of the expression (`"" || "x"` gives "x",
    `htmlDecode("a&amp;b")` gives "a&b"), or a bare number (`"1626534037" * 1` gives "1626534037")."""
    wanted = tuple(dict.fromkeys(names))
    if not wanted or not script_text:
        return {}
    pattern = _assignment_pattern(wanted)
    found: dict[str, str] = {}
    for match in pattern.finditer(script_text):
        name = match.group(1)
        start = match.start()
        if name in found or (start > 0 and _IDENT_CHAR_RE.match(script_text, start - 1)):
            continue
        value = _expression_value(_expression(script_text, match.end()))
        if value:
            found[name] = value
            if len(found) == len(wanted):
                break
    return found


@functools.lru_cache(maxsize=64)
def _assignment_pattern(names: tuple[str, ...]) -> re.Pattern:
    # Built once per set of names: escaping and joining them cost more than the scan of a small page.
    # No leading \b: it defeats the regex engine's fast scan (0.8 s instead of 0.01 s on 3 MB).
    return re.compile(r"var\s+(" + "|".join(re.escape(n) for n in names) + r")\s*=(?!=)\s*")


def js_decoded_props(script_text: str, names: Iterable[str]) -> dict[str, str]:
    """{name: value} for object properties written `name: JsDecode('…')`, the form of the
    `window.cgiData` blocks newer WeChat pages carry next to (or instead of) the `var` lines.
    Only the JsDecode form is read: bare `title: '…'` properties are everywhere in page scripts."""
    wanted = list(dict.fromkeys(names))
    if not wanted or "JsDecode(" not in script_text:
        return {}
    pattern = _decoded_prop_pattern(tuple(wanted))
    found: dict[str, str] = {}
    for match in pattern.finditer(script_text):
        name = match.group(1)
        start = match.start()
        if name not in found and not (start > 0 and _IDENT_CHAR_RE.match(script_text, start - 1)):
            value = _expression_value("JsDecode(" + _expression(script_text, match.end()))
            if value:
                found[name] = value
    return found


@functools.lru_cache(maxsize=32)
def _decoded_prop_pattern(names: tuple[str, ...]) -> re.Pattern:
    # No leading lookbehind (the caller checks the character before): it defeats the regex engine's
    # fast scan for the names, 60 ms instead of 1 ms on a 2.5 MB page.
    return re.compile(r"(" + "|".join(re.escape(n) for n in names) + r")\s*:\s*JsDecode\(")


def js_object(script_text: str, name: str) -> object | None:
    """The JSON value assigned by `var name = {…};` / `name = […];`, or None if absent or not JSON."""
    pattern = re.compile(r"(?<![\w.$])" + re.escape(name) + r"\s*=(?!=)\s*")
    for match in pattern.finditer(script_text):
        value = decode_json_at(script_text, match.end())
        if value is not None:
            return value
    return None


def decode_json_at(text: str, start: int) -> object | None:
    """A JSON value starting at text[start] (skipping spaces), or, for a quoted string holding
    HTML-escaped JSON (old WeChat profile pages), the JSON inside it."""
    while start < len(text) and text[start] in " \t\n":
        start += 1
    if start >= len(text):
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(text, start)
    except ValueError:
        literal = _STRING_RE.match(text, start)
        if not literal:
            return None
        value = unescape_js(literal.group(1) if literal.group(1) is not None else literal.group(2))
    if isinstance(value, str):
        try:
            return json.loads(html.unescape(value))
        except ValueError:
            return None
    return value


def unescape_js(raw: str) -> str:
    """The string a JS literal's source text denotes (\\x26, \\u4e2d, \\n, \\' …)."""
    if "\\" not in raw:
        return raw
    return _ESCAPE_RE.sub(_escape_value, raw)


def _escape_value(match: re.Match) -> str:
    code = match.group(1)
    try:
        if code.startswith("u{"):
            return chr(int(code[2:-1], 16))
        if code[0] in "ux" and len(code) > 1:
            return chr(int(code[1:], 16))
    except ValueError:
        return code
    return _SIMPLE_ESCAPES.get(code, code)


def _expression(text: str, start: int) -> str:
    """The source of one assignment's right-hand side: up to the `;` or line end outside strings,
    read within MAX_EXPRESSION characters. One regex match: a Python loop over the characters
    was a fifth of parsing an article."""
    end = min(len(text), start + MAX_EXPRESSION)
    match = _EXPRESSION_RE.match(text, start, end)
    stop = match.end()
    if match.group("cut_double") is not None or match.group("cut_single") is not None:
        stop += 1  # an escape begun at the window's edge still takes its character
    return text[start:stop]


def _expression_value(expression: str) -> str:
    decode = _HTML_DECODER_RE.search(expression) is not None
    for match in _STRING_RE.finditer(expression):
        raw = match.group(1)
        value = unescape_js(raw if raw is not None else match.group(2))
        if decode:
            value = html.unescape(value)
        value = value.strip()
        if value:
            return value
    number = _NUMBER_RE.match(expression)
    return number.group(1) if number else ""


def js_string_props(script_text: str, name: str, limit: int = 8) -> list[str]:
    """The decoded values of up to `limit` object properties written `name: '…'` or
    `name: JsDecode('…')`, in page order, empty ones included.

    Unlike js_decoded_props, the literal is read whole, however long: WeChat's text and share posts
    carry their whole body in one `content_noencode: JsDecode('…')` property. The page's own JsDecode
    turns \\x0a, \\x22, \\x26, \\x27, \\x3c, \\x3e and \\x5c back into characters, which is what
    unescape_js does for any JS escape."""
    if name not in script_text:
        return []
    pattern = _string_prop_pattern(name)
    found: list[str] = []
    for match in pattern.finditer(script_text):
        start = match.start()
        if start > 0 and _IDENT_CHAR_RE.match(script_text, start - 1):
            continue
        literal = _STRING_RE.match(script_text, match.end())
        if literal:
            raw = literal.group(1) if literal.group(1) is not None else literal.group(2)
            found.append(unescape_js(raw))
            if len(found) >= limit:
                break
    return found


@functools.lru_cache(maxsize=32)
def _string_prop_pattern(name: str) -> re.Pattern:
    # No leading lookbehind, for the same reason as _decoded_prop_pattern.
    return re.compile(re.escape(name) + r"\s*:\s*(?:JsDecode\(\s*)?(?=['\"])")
