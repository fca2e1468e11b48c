"""Bytes to text with w3lib's html_to_unicode, as Scrapy reads pages: a BOM, the server's charset, the
page's <meta charset>, else UTF-8; gb2312/gbk are read as GB18030, their superset. Two corrections for
Chinese sites stay here, where w3lib trusts a declaration the bytes contradict."""

from __future__ import annotations

import re

from w3lib.encoding import html_body_declared_encoding, html_to_unicode, resolve_encoding, to_unicode

# Control characters lxml refuses (and that never belong in a page); \t \n \r stay.
_CONTROL_CHARS = "".join(map(chr, [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF]))
_CONTROL_RE = re.compile(f"[{_CONTROL_CHARS}]")
SNIFF_BYTES = 4096
# What a decoded binary body is full of: replacement characters and controls other than \t \n \r \f.
_BINARY_CHARS = "".join(map(chr, [0xFFFD, *range(0x00, 0x09), 0x0B, *range(0x0E, 0x20)]))
_BINARY_RE = re.compile(f"[{_BINARY_CHARS}]")
# What w3lib resolves a server's ISO-8859-1, Latin-1 or ASCII to (the WHATWG reads them as windows-1252).
_WESTERN = {"cp1252", "iso8859-15"}
_HIGH_BYTES = bytes(range(0x80, 0x100))


def decode_body(body: bytes, encoding: str | None = None) -> tuple[str, str]:
    """(text, codec used) for a body and the charset its server declared (None: none). Never raises:
    bytes no codec reads come out as U+FFFD."""
    declared = resolve_encoding(encoding) if encoding else None
    western = ()
    if declared in _WESTERN and not body.isascii():
        # "ISO-8859-1" is what misconfigured servers (and HTTP/1.1's old default) send with Chinese
        # pages, and w3lib obeys the header: the Chinese bytes decode into mojibake without a single
        # U+FFFD to notice it by. So the page's own charset, UTF-8 or GB18030 decide, and the Western
        # codec only reads what none of them can.
        declared, western = None, (declared,)
    used, text = html_to_unicode(f"charset={declared}" if declared else None, body, default_encoding="utf-8")
    if used != "utf-8" and not body.isascii() and _is_utf8(body):
        # A UTF-8 page declared GBK (a stale <meta>, a server default) reads under GB18030 as mojibake
        # with only 1.6-8.5% U+FFFD (the real fixtures). Strict UTF-8 rejects GB18030 text within its
        # first two Chinese characters (the same fixtures re-encoded), so bytes that are UTF-8 are UTF-8.
        return to_unicode(body, "utf-8"), "utf-8"
    if "\ufffd" in text and _mostly_replaced(text, body):
        # The declaration, or w3lib's UTF-8 default, was wrong and w3lib keeps the U+FFFD: GB18030
        # bytes read as UTF-8 lose 55-83% of their non-ASCII bytes to it, a truncated or damaged UTF-8
        # page at most 11% (the real fixtures). A tiny UTF-8 page with noise in it can pass 25% too,
        # but GB18030 still leaves 5-10 U+FFFD in it (the robustness tests' mutations), so another
        # codec is taken only if it reads the page whole, but for a character cut off at the very end.
        for codec in (html_body_declared_encoding(body), "gb18030", *western):
            if codec and codec != used:
                candidate = to_unicode(body, codec)
                if "\ufffd" not in candidate[:-1]:
                    return candidate, codec
    return text, used


def _is_utf8(body: bytes) -> bool:
    """Valid UTF-8, but perhaps for a character cut off at the very end (a truncated download)."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.reason == "unexpected end of data"
    return True


def _mostly_replaced(text: str, body: bytes) -> bool:
    """More than a quarter of the body's non-ASCII bytes came out as U+FFFD."""
    return text.count("\ufffd") * 4 > len(body) - len(body.translate(None, _HIGH_BYTES))


def normalise_newlines(text: str) -> str:
    """CRLF and lone CR (old Mac, some Taobao templates) become LF; NULs and stray controls go."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # A check first: most pages have none, and str.translate is slow on megabytes of script. One
    # `in` per character (a C scan each) is 3-4x faster than the regex's per-character class test.
    return _CONTROL_RE.sub("", text) if any(char in text for char in _CONTROL_CHARS) else text


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
