"""Masking of personal contact details (mobile and landline numbers, WeChat/QQ ids) for display.

The UI shows sellers' contacts masked (138****5678, sz****60); the stored text and the evidence keep
them whole, because a case officer needs them. The mask keeps the length of the text, so highlight
and reason spans computed on the original text still fall on the right characters.
"""

from __future__ import annotations

import re

# A mobile number stands alone or right after the country code 86 (8613812345678).
_MOBILE = re.compile(r"(?:(?<=86)|(?<![0-9０-９]))1[3-9][0-9](?:[- ]?[0-9]){8}(?![0-9０-９])")
_LANDLINE = re.compile(r"(?<![0-9])0[1-9][0-9]{1,2}-[0-9]{7,8}(?![0-9])")
# An id right after a contact cue: 微信/wx/vx/V信/薇/威信/QQ/扣扣, with an optional colon.
_CUED_ID = re.compile(
    r"(?i)(?:微信号?|威信|薇信?|v信|vx|wx|wechat|qq|扣扣|加v)\s*[:：]?\s*([A-Za-z0-9][-_A-Za-z0-9]{4,19})"
)


def mask_contacts(text: str | None) -> str:
    """`text` with phone numbers and cued WeChat/QQ ids masked by '*', same length as the input."""
    if not text:
        return text or ""
    chars = list(text)
    for m in _MOBILE.finditer(text):
        _mask(chars, m.start(), m.end(), keep_head=3, keep_tail=4)
    for m in _LANDLINE.finditer(text):
        _mask(chars, m.start(), m.end(), keep_head=4, keep_tail=2)
    for m in _CUED_ID.finditer(text):
        _mask(chars, m.start(1), m.end(1), keep_head=2, keep_tail=2, keep_separators=False)
    return "".join(chars)


def _mask(chars: list[str], start: int, end: int, keep_head: int, keep_tail: int, keep_separators: bool = True) -> None:
    for i in range(start + keep_head, max(start + keep_head, end - keep_tail)):
        if not (keep_separators and chars[i] in "- "):
            chars[i] = "*"
