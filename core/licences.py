"""One comparison key for a licence number, however it was typed.

Registers are typed by hand and exported from several systems, so one licence arrives as
L-JS-CJ00001, l-js-cj 00001, Ｌ－ＪＳ－ＣＪ００００１ or L—JS—CJ00001. Venues and agencies keep
the number as written (`licence_no`, what a user typed and sees) and are matched on this key
(`licence_key`), so those spellings are one licence and never two venues.

The key is NFKC (full-width letters, digits and brackets become ASCII), upper case, with every
dash, space and invisible format character removed. Chinese characters stay: venue licences such as
新出发姑字第01355号 and （苏）印证字32050802101号 differ only in them. That is why detection's
`licence_key` (detection/extract_ids.py), which keeps ASCII letters and digits only, is not reused
here; for travel-agency numbers (ASCII only) the two keys are equal.
"""

from __future__ import annotations

import re
import unicodedata

# Every character of Unicode's dash punctuation class (Pd), the minus sign and the katakana
# prolonged sound mark that Japanese and Chinese input methods type for a dash. A test checks the
# Pd list against the running Python's unicodedata.
DASHES = (
    "\u002d\u058a\u05be\u1400\u1806\u2010\u2011\u2012\u2013\u2014\u2015\u2e17\u2e1a\u2e3a\u2e3b\u2e40\u2e5d"
    "\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\U00010ead"
    "\u2212\u2043\u30fc"
)
# Soft hyphen, zero-width spaces and joiners, direction marks, word joiner, BOM: copied from web
# pages and spreadsheets, invisible, and never part of a number.
_INVISIBLE = "\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff"
_DROP = re.compile(f"[\\s{re.escape(DASHES)}{_INVISIBLE}]+")


def licence_key(number: str | None) -> str | None:
    """The comparison key of a licence number; None for no number (None, empty or only spaces)."""
    if number is None:
        return None
    key = _DROP.sub("", unicodedata.normalize("NFKC", str(number))).upper()
    return key or None


def as_written(number: str | None) -> str | None:
    """The number as the user wrote it, without the spaces around it (which nobody means)."""
    if number is None:
        return None
    number = str(number).strip()
    return number or None
