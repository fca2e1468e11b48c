"""The web app's catalogues (webmap/translations): complete, consistent and up to date with the code.

Message ids are the Chinese texts. Every English entry must be written (not empty, not fuzzy) and keep
the id's placeholders; the catalogue must hold every id the code and templates use, so a string added
without `make i18n` fails here instead of showing in Chinese to an English user.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from core import vocabulary
from webmap import i18n

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdrf]|%%")


def _catalog(locale: str):
    with (i18n.TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=locale)


def _placeholders(text: str) -> list[str]:
    return sorted(m.group(0) for m in PLACEHOLDER.finditer(text))


def test_every_english_entry_is_written_and_keeps_its_placeholders():
    catalog = _catalog("en")
    empty, fuzzy, mismatched = [], [], []
    for message in catalog:
        if not message.id:
            continue
        if message.fuzzy:
            fuzzy.append(message.id)
        if not message.string:
            empty.append(message.id)
        elif _placeholders(message.id) != _placeholders(message.string):
            mismatched.append(f"{message.id!r} -> {message.string!r}")
    assert (empty, fuzzy, mismatched) == ([], [], []), "run `make i18n`, then write the English for these"
    assert len(catalog) > 500


def test_english_catalogue_checks_fail_on_a_broken_entry():
    """The checks above see what they look for."""
    assert _placeholders("共 %(n)s 条") != _placeholders("%(count)s in total")
    assert _placeholders("共 %(n)s 条") == _placeholders("%(n)s in total")


def test_every_vocabulary_name_is_in_both_catalogues():
    names = set()
    for value in vars(vocabulary).values():
        if isinstance(value, dict):
            names.update(v for v in value.values() if isinstance(v, str))
        elif isinstance(value, tuple):
            names.update(v for v in value if isinstance(v, str))
    names = {n for n in names if re.search(r"[\u4e00-\u9fff]", n)}  # names, not codes (GRADES, ROLES…)
    assert "新发现" in names and "网吧" in names
    for locale in i18n.LOCALES:
        ids = {m.id for m in _catalog(locale) if m.id}
        assert sorted(names - ids) == [], f"{locale}: vocabulary names missing; run `make i18n`"


@pytest.mark.timeout(300)
def test_catalogues_hold_every_id_the_code_uses(tmp_path):
    """Extraction (babel.cfg) run afresh finds no message id the catalogues lack."""
    pot = tmp_path / "messages.pot"
    script = (
        "import sys; sys.argv[0] = 'i18n'; sys.path.insert(0, 'scripts'); import i18n as s; "
        f"s.POT = __import__('pathlib').Path({str(pot)!r}); s.extract()"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=240)
    with pot.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    assert len(wanted) > 500 and "研判台" in wanted
    for locale in i18n.LOCALES:
        have = {m.id for m in _catalog(locale) if m.id}
        missing = sorted(str(x) for x in wanted - have)
        assert missing == [], f"{locale}: {len(missing)} ids not in the catalogue; run `make i18n`: {missing[:20]}"


def test_missing_or_stale_mo_files_are_compiled_at_start(tmp_path, monkeypatch):
    """A clean clone has no .mo files: the app writes them; a read-only package gets them under data_dir."""
    src = tmp_path / "translations"
    for po in i18n.TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        target = src / po.relative_to(i18n.TRANSLATIONS)
        target.parent.mkdir(parents=True)
        target.write_bytes(po.read_bytes())
    assert i18n.compiled(src) == src
    mo = src / "en" / "LC_MESSAGES" / "messages.mo"
    assert mo.stat().st_size > 1000
    assert i18n.compiled(src) == src and mo.stat().st_mtime >= (mo.with_suffix(".po")).stat().st_mtime
    # An installed, read-only package (the suite may run as root, so refuse writes there by hand):
    # the .mo files go under the fallback directory (data_dir) instead.
    mo.unlink()
    real = i18n._compile

    def read_only(po, out):
        if src in out.parents:
            raise PermissionError(f"read-only: {out}")
        real(po, out)

    monkeypatch.setattr(i18n, "_compile", read_only)
    fallback = tmp_path / "data" / "translations"
    assert i18n.compiled(src, fallback) == fallback
    assert (fallback / "en" / "LC_MESSAGES" / "messages.mo").exists()
    assert (fallback / "zh_CN" / "LC_MESSAGES" / "messages.mo").exists()
