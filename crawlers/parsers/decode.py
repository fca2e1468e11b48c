"""Bytes to text: the caller's encoding, a BOM, the page's own <meta charset>, then UTF-8, then GB18030."""

from __future__ import annotations

import codecs
import re

# Chinese sites declare gb2312/gbk while sending characters only GB18030 has; it is their superset.
_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "utf8": "utf-8",
    "unicode": "utf-8",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
}
_META_CHARSET_RE = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{2,40})""", re.I)
_XML_DECL_RE = re.compile(rb"""^\s*<\?xml[^>]{0,100}encoding\s*=\s*["']([A-Za-z0-9_.:-]{2,40})""", re.I)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Control characters lxml refuses (and that never belong in a page); \t \n \r stay.
_CONTROL_CHARS = "".join(map(chr, [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF]))
_CONTROL_RE = re.compile(f"[{_CONTROL_CHARS}]")
SNIFF_BYTES = 4096
# What a decoded binary body is full of: replacement characters and controls other than \t \n \r \f.
_BINARY_CHARS = "".join(map(chr, [0xFFFD, *range(0x00, 0x09), 0x0B, *range(0x0E, 0x20)]))
_BINARY_RE = re.compile(f"[{_BINARY_CHARS}]")
# Single-byte Western codecs a server may declare by default, whatever the page really is.
_WESTERN = {"cp1252", "latin-1", "iso8859-1", "ascii", "iso8859-15"}


def decode_body(body: bytes, encoding: str | None = None) -> tuple[str, str]:
    """(text, codec used). Never raises: the last resort is UTF-8 with replacement characters."""
    for candidate in _candidates(body, encoding):
        try:
            text = body.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
        return text.lstrip("\ufeff"), candidate
    return body.decode("utf-8", errors="replace").lstrip("\ufeff"), "utf-8 (replaced)"


def normalise_newlines(text: str) -> str:
    """CRLF and lone CR (old Mac, some Taobao templates) become LF; NULs and stray controls go."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # A check first: most pages have none, and str.translate is slow on megabytes of script. One
    # `in` per character (a C scan each) is 3-4x faster than the regex's per-character class test.
    return _CONTROL_RE.sub("", text) if any(char in text for char in _CONTROL_CHARS) else text


def canonical_codec(name: str | None) -> str | None:
    """Python's name for a declared charset, or None when it is unknown."""
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def looks_binary(text: str) -> bool:
    """True for images, archives and other non-text bodies that happened to decode."""
    sample = text[:SNIFF_BYTES]
    if not sample:
        return False
    if not any(char in sample for char in _BINARY_CHARS):  # the usual page: see normalise_newlines
        return False
    # A regex counts in C; a per-character Python loop cost a quarter of parsing an article.
    bad = len(_BINARY_RE.findall(sample))
    return bad / len(sample) > 0.10


def _candidates(body: bytes, encoding: str | None) -> list[str]:
    found: list[str] = []
    for bom, codec in _BOMS:
        if body.startswith(bom):
            found.append(codec)
            break
    given, in_page = canonical_codec(encoding), canonical_codec(_sniff_declared(body))
    if given in _WESTERN and (in_page or not body.isascii()):
        # "ISO-8859-1" is what misconfigured servers (and HTTP/1.1's old default) send for Chinese
        # pages; any Chinese bytes decode under it, into mojibake. The page's own charset, or UTF-8
        # and GB18030 failing first, decide instead; the Western codec stays the last resort.
        found += [c for c in (in_page, "utf-8", "gb18030", given) if c]
    else:
        found += [c for c in (given, in_page) if c]
    found += ["utf-8", "gb18030"]
    return list(dict.fromkeys(found))


def _sniff_declared(body: bytes) -> str | None:
    head = body[:SNIFF_BYTES]
    match = _XML_DECL_RE.match(head) or _META_CHARSET_RE.search(head)
    return match.group(1).decode("ascii", "ignore") if match else None
