"""Identifiers in post text: travel-agency licence numbers, ISBN-10/13, ISSN, CN 刊号 and 统一书号.

Every extractor takes the original text, folds it (same offsets, see normalize.py) and returns records
with the [start, end) span of what the seller wrote, so reasons can highlight it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from detection.normalize import fold

# L-JS-CJ00123, L-BJ-00001, LJS-GJ00012, L - js - cj 00123 …; letters and digits are checked afterwards,
# so the pattern is loose on purpose (malformed numbers are evidence too).
_DASH = r"\s*[-一ー_]?\s*"  # sellers also type 一 (the character "one") or ー for a dash
_LICENCE = re.compile(
    r"(?<![a-z0-9])l" + _DASH + r"([a-z]{2,4}?)" + _DASH + r"([a-z]{0,3})" + _DASH + r"(\d{2,9})(?![0-9])"
)
_LICENCE_WELL_FORMED = re.compile(r"L-[A-Z]{2,3}-(?:[A-Z]{2})?\d{5}")
# Province codes in licence numbers. A licence-shaped string with other letters counts only after a
# 许可证 cue, so clothing sizes ("L-XL 20") and model numbers are not taken for licences.
_PROVINCES = {
    "bj",
    "tj",
    "he",
    "heb",
    "sx",
    "nm",
    "ln",
    "jl",
    "hl",
    "hlj",
    "sh",
    "js",
    "zj",
    "ah",
    "fj",
    "jx",
    "sd",
    "ha",
    "hen",
    "hb",
    "hub",
    "hn",
    "hun",
    "gd",
    "gx",
    "hi",
    "cq",
    "sc",
    "gz",
    "yn",
    "xz",
    "sn",
    "gs",
    "qh",
    "nx",
    "xj",
    "hk",
    "mo",
    "tw",
}
# What sellers write right before the number they present as their licence.
_LICENCE_CUE = re.compile(
    r"(?:经营许可证|许可证号|许可证编号|许可证|许可号|资质号|经营许可|旅行社资质|备案号|资质|营业执照注册号|营业执照号|"
    r"营业执照|执照号|统一社会信用代码|信用代码|注册号)"
    r"\s*(?:号码|编号|号)?\s*[:：为是]?\s*"
)
_CUED_VALUE = re.compile(r"[a-z0-9\-\u4e00-\u9fff]{0,3}?(?:icp备|icp证)?[a-z0-9\-]{5,30}号?")
# "L-ZJ-02164-1", "L-ZJ-CJ-00074-2": a number with a suffix is not the registry's number.
_LICENCE_SUFFIX = re.compile(r"\s*[-_/]\s*[0-9a-z]{1,3}(?![0-9a-z])")
_CREDIT_CODE = re.compile(r"[0-9a-hj-npqrtuwxy]{2}\d{6}[0-9a-hj-npqrtuwxy]{10}")
_ICP = re.compile(r"[\u4e00-\u9fff]icp[备证]\s*\d{6,12}号?(?:-\d+)?")

_ISBN_CUE = re.compile(r"isbn\s*(?:-?1[03])?\s*[:：]?\s*([0-9][0-9\- ]{8,20}[0-9x])")
_BARE_ISBN13 = re.compile(r"(?<![0-9\-])(97[89](?:[\- ]?[0-9]){10})(?![0-9])")
_ISSN = re.compile(r"issn\s*[:：]?\s*([0-9]{4})\s*-?\s*([0-9]{3}[0-9x])(?![0-9])")
_CN = re.compile(r"(?<![a-z])cn\s*[:：]?\s*([0-9]{2})\s*-\s*([0-9]{4})(?:\s*/\s*([a-z0-9.]{1,8}))?")
# Pre-1987 books carry a 统一书号 such as 10019·1234, which is not an ISBN and not a defect.
_UNIFIED_BOOK_NO = re.compile(r"统一书号\s*[:：]?\s*([0-9]{4,5}\s*[·.．]\s*[0-9]{1,5})")


@dataclass(frozen=True)
class Licence:
    raw: str  # as written
    normalized: str  # L-JS-CJ00123, or the cleaned value for other kinds
    kind: str  # "licence" | "credit_code" | "icp" | "other"
    well_formed: bool
    span: tuple[int, int]


@dataclass(frozen=True)
class Isbn:
    raw: str
    digits: str
    valid: bool
    span: tuple[int, int]


@dataclass(frozen=True)
class SerialId:
    kind: str  # "issn" | "cn" | "unified_book_no"
    value: str
    valid: bool
    span: tuple[int, int]


def licence_key(number: str) -> str:
    """The comparison key of a licence number: letters and digits only, upper case."""
    return re.sub(r"[^0-9A-Z]", "", fold(number).upper())


def normalize_licence(number: str) -> str:
    """Canonical spelling L-XX-YY00000 of a licence-like number; other strings come back cleaned."""
    m = _LICENCE.fullmatch(re.sub(r"\s+", "", fold(number).lower()))
    if not m:
        return re.sub(r"\s+", "", fold(number)).upper()
    province, kind, digits = m.groups()
    return f"L-{province.upper()}-{kind.upper()}{digits}"


def find_licences(text: str | None, folded: str | None = None) -> list[Licence]:
    """Licence numbers, plus whatever follows a 许可证 cue (credit codes and ICP filings passed off as
    licences are what unlicensed sellers show). `folded` is fold(text) when the caller has it."""
    if not text:
        return []
    folded = folded if folded is not None else fold(text)
    found: dict[tuple[int, int], Licence] = {}
    cued_ends = [cue.end() for cue in _LICENCE_CUE.finditer(folded)]
    for m in _LICENCE.finditer(folded):
        if m.group(1) not in _PROVINCES and not any(0 <= m.start() - end <= 3 for end in cued_ends):
            continue
        normalized = normalize_licence(m.group(0))
        suffix = _LICENCE_SUFFIX.match(folded, m.end())
        if suffix:
            span = (m.start(), suffix.end())
            raw = text[span[0] : span[1]]
            found[span] = Licence(
                raw, normalized + "-" + re.sub(r"[^0-9a-z]", "", suffix.group(0)).upper(), "licence", False, span
            )
            continue
        found[m.span()] = Licence(
            text[m.start() : m.end()], normalized, "licence", bool(_LICENCE_WELL_FORMED.fullmatch(normalized)), m.span()
        )
    for end in cued_ends:
        value = _CUED_VALUE.match(folded, end)
        if value and not any(s <= value.start() < e for s, e in found):
            record = _cued_licence(text, folded, value.start(), value.end())
            if record:
                found[record.span] = record
    return sorted(found.values(), key=lambda r: r.span)


def find_isbns(text: str | None, folded: str | None = None) -> list[Isbn]:
    """ISBN-10 and ISBN-13 (after an ISBN cue, or bare 978/979 numbers) with check-digit validation."""
    if not text:
        return []
    folded = folded if folded is not None else fold(text)
    found: dict[int, Isbn] = {}
    for m in _ISBN_CUE.finditer(folded):
        start, end = _isbn_extent(folded, m.start(1), m.end(1))
        digits = re.sub(r"[^0-9x]", "", folded[start:end])
        found[start] = Isbn(text[start:end], digits, isbn_valid(digits), (start, end))
    for m in _BARE_ISBN13.finditer(folded):
        if m.start(1) not in found:
            digits = re.sub(r"[^0-9]", "", m.group(1))
            found[m.start(1)] = Isbn(text[m.start(1) : m.end(1)], digits, isbn_valid(digits), m.span(1))
    return [found[k] for k in sorted(found)]


def _isbn_extent(folded: str, start: int, end: int) -> tuple[int, int]:
    """ "ISBN 9787020090006 15元": the cue's loose pattern also takes the price after a space; keep the
    13 (or 10) digits that end before a space when the whole run has more."""
    if len(re.sub(r"[^0-9x]", "", folded[start:end])) in (10, 13):
        return start, end
    for size in (13, 10):
        count = 0
        for i in range(start, end):
            count += folded[i] in "0123456789x"
            if count == size and (i + 1 == end or folded[i + 1] == " "):
                return start, i + 1
    return start, end


def isbn_valid(digits: str) -> bool:
    """True when `digits` (no separators) is an ISBN-10 or ISBN-13 with a correct check digit."""
    digits = digits.upper()
    if len(digits) == 10 and re.fullmatch(r"[0-9]{9}[0-9X]", digits):
        total = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(digits))
        return total % 11 == 0
    if len(digits) == 13 and digits.isdigit() and digits[:3] in ("978", "979"):
        total = sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(digits))
        return total % 10 == 0
    return False


def find_serial_ids(text: str | None, folded: str | None = None) -> list[SerialId]:
    """ISSN (check digit validated), CN 刊号 (region 11-65) and pre-1987 统一书号."""
    if not text:
        return []
    folded = folded if folded is not None else fold(text)
    found = []
    for m in _ISSN.finditer(folded):
        value = f"{m.group(1)}-{m.group(2)}".upper()
        found.append(SerialId("issn", value, issn_valid(value), m.span()))
    for m in _CN.finditer(folded):
        region = int(m.group(1))
        value = f"CN {m.group(1)}-{m.group(2)}" + (f"/{m.group(3).upper()}" if m.group(3) else "")
        found.append(SerialId("cn", value, 11 <= region <= 65, m.span()))
    for m in _UNIFIED_BOOK_NO.finditer(folded):
        found.append(SerialId("unified_book_no", re.sub(r"\s", "", m.group(1)), True, m.span()))
    return sorted(found, key=lambda r: r.span)


def issn_valid(value: str) -> bool:
    chars = re.sub(r"[^0-9X]", "", value.upper())
    if len(chars) != 8 or not chars[:7].isdigit():
        return False
    total = sum(int(c) * (8 - i) for i, c in enumerate(chars[:7]))
    check = (11 - total % 11) % 11
    return chars[7] == ("X" if check == 10 else str(check))


def _cued_licence(text: str, folded: str, start: int, end: int) -> Licence | None:
    raw = folded[start:end]
    if _ICP.search(raw):
        return Licence(text[start:end], raw.upper(), "icp", False, (start, end))
    if _CREDIT_CODE.fullmatch(raw.rstrip("号")):
        return Licence(text[start:end], raw.upper(), "credit_code", False, (start, end))
    if not re.search(r"[0-9]{4,}", raw):
        return None  # "许可证齐全" and the like: a claim, not a number
    return Licence(text[start:end], raw.upper(), "other", False, (start, end))
