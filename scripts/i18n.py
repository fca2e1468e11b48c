"""The web app's catalogues (webmap/translations): extract, update, merge English, compile.

    python scripts/i18n.py            extract every message id and update zh_CN and en (= `make i18n`)
    python scripts/i18n.py merge FILE  set English texts from a TSV (msgid<TAB>english; \\n for newlines;
                                       @context<TAB>msgid<TAB>english for a pgettext entry)
    python scripts/i18n.py missing     list the English entries still empty or fuzzy (exit 1 if any)
    python scripts/i18n.py compile     write the .mo files (the app also does this at start when stale)

Message ids are the Chinese texts, so zh_CN entries stay empty (gettext then returns the id itself).
Extraction follows babel.cfg: templates, every package's _()/gettext()/ngettext()/lazy_gettext()/N_()
and Msg() calls, and every name in core/vocabulary.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # babel.cfg's extractor lives in webmap.i18n

TRANSLATIONS = ROOT / "webmap" / "translations"
POT = TRANSLATIONS / "messages.pot"
PACKAGES = ("core", "webmap", "hits", "grids", "jobs", "search", "evidence", "crawlers", "detection")
KEYWORDS = ("_", "_l", "gettext", "ngettext:1,2", "pgettext:1c,2", "lazy_gettext", "N_", "Msg", "tr")
LOCALES = ("zh_CN", "en")


def pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def extract() -> None:
    args = ["extract", "-F", str(ROOT / "babel.cfg"), "-o", str(POT), "--no-location", "--sort-output"]
    args += ["--no-default-keywords", "--project", "wangxun", "--charset", "utf-8"]
    for k in KEYWORDS:
        args += ["-k", k]
    pybabel(*args, *(str(ROOT / p) for p in PACKAGES))


def update() -> None:
    extract()
    before = {p: p.read_bytes() for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")}
    for locale in LOCALES:
        po = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
        if po.exists():
            pybabel(
                "update",
                "-i",
                str(POT),
                "-d",
                str(TRANSLATIONS),
                "-l",
                locale,
                "--no-fuzzy-matching",
                "--ignore-obsolete",
            )
        else:
            pybabel("init", "-i", str(POT), "-d", str(TRANSLATIONS), "-l", locale)
    _tidy()
    for po, old in before.items():  # only the header's date changed: keep the file as it was (no churn)
        if _entries(po.read_bytes()) == _entries(old):
            po.write_bytes(old)


def _entries(data: bytes) -> list[bytes]:
    return [line for line in data.splitlines() if not line.startswith(b'"POT-Creation-Date:')]


def _tidy() -> None:
    """No fuzzy guesses and no obsolete entries: an English text is written by a person or not at all."""
    for locale in LOCALES:
        po = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
        catalog = _read(po)
        catalog.obsolete.clear()
        for message in catalog:
            if message.id and message.fuzzy:
                message.flags.discard("fuzzy")
                message.string = ("", "") if message.pluralizable else ""
        _write(po, catalog)


def _read(po: Path):
    with po.open("rb") as f:
        return read_po(f, locale=po.parent.parent.name)


def _write(po: Path, catalog) -> None:
    with po.open("wb") as f:
        write_po(f, catalog, width=0, no_location=True, sort_output=True, include_previous=False)


def merge(paths: list[str]) -> int:
    po = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
    catalog = _read(po)
    known, unknown = 0, []
    for path in paths:
        for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip() or line.startswith("#") or "\t" not in line:
                continue
            context = None
            if line.startswith("@"):
                context, line = line[1:].split("\t", 1)
            msgid, english = (part.replace("\\n", "\n").replace("\\t", "\t") for part in line.split("\t", 1))
            message = catalog.get(msgid, context=context)
            if message is None:
                unknown.append(f"{path}:{lineno}: {msgid[:60]}")
                continue
            message.string = english
            message.flags.discard("fuzzy")
            known += 1
    _write(po, catalog)
    print(f"merged {known} English texts into {po.relative_to(ROOT)}")
    for u in unknown:
        print(f"not in the catalogue (run `make i18n` first?): {u}")
    return 0


def _translated(message) -> bool:
    return bool(message.string) if isinstance(message.string, str) else all(message.string)


def missing() -> int:
    catalog = _read(TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po")
    empty = [m for m in catalog if m.id and (m.fuzzy or not _translated(m))]
    for message in empty:
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        print(f"@{message.context}\t{msgid}" if message.context else msgid)
    return 1 if empty else 0


def compile_all() -> int:
    from webmap.i18n import compiled

    compiled(TRANSLATIONS)
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] == "update":
        update()
        return 0
    if argv[0] == "merge":
        return merge(argv[1:])
    if argv[0] == "missing":
        return missing()
    if argv[0] == "compile":
        return compile_all()
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
