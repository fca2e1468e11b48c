"""The web app's languages: Flask-Babel with zh_CN as the default and English ("en") chosen per user.

Message ids are the Chinese texts (core/i18n.py), so the zh_CN catalogue is the identity and a string
missing from a catalogue still reads as Chinese. Catalogues live in webmap/translations/<locale>/
LC_MESSAGES/messages.po; `make i18n` (scripts/i18n.py) extracts every id from the templates, the views,
the packages' `N_`/`Msg` ids and core/vocabulary.py, and updates both catalogues. The .mo files are
build output: `compiled()` writes them when missing or older than their .po (at app start), so a clean
clone needs no extra step.

Where the locale comes from: the logged-in user's `users.locale`; anonymous pages (the login form, the
public draw pages, error pages before login) are zh_CN.

Templates:
    {{ _('研判台') }}                         a literal
    {{ value|t }}                            a message id from a service (a vocabulary name) or a core.i18n.Msg
    {{ code_name('platform', h.platform) }}  a stored code by its kind (core.vocabulary), translated
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, has_request_context
from flask_babel import Babel
from flask_babel import gettext as _gettext
from markupsafe import Markup

from core import i18n as core_i18n
from core import vocabulary
from core.i18n import N_
from core.tempnames import temporary_beside

log = logging.getLogger(__name__)

DEFAULT_LOCALE = "zh_CN"
# Locale code -> the language's own name (shown in that language in the switch).
LOCALES = {"zh_CN": "中文", "en": "English"}
# The `lang` attribute of the page for each locale.
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
TRANSLATIONS = Path(__file__).parent / "translations"

# The files of an evidence record (evidence/record.py), by their key in Evidence.files.
EVIDENCE_FILE = {
    "headers": N_("响应头"),
    "body": N_("网页原文"),
    "text": N_("提取的正文"),
    "screenshot": N_("网页截图"),
    "warc": "WARC",
}

# A venue's status as the registers write it (Venue.status), stored in Chinese.
VENUE_STATUS = (N_("营业"), N_("停业"), N_("注销"))

# A stored code's kind -> its names in core.vocabulary (the message ids).
KINDS: dict[str, Mapping[str, str]] = {
    "label": vocabulary.HIT_LABEL,
    "label_short": vocabulary.HIT_LABEL_SHORT,
    "hit_status": vocabulary.HIT_STATUS,
    "reason": vocabulary.REASON,
    "platform": vocabulary.PLATFORM,
    "clue_status": vocabulary.CLUE_STATUS,
    "clue_outcome": vocabulary.CLUE_OUTCOME,
    "grid_level": vocabulary.GRID_LEVEL,
    "grade": vocabulary.GRADE,
    "grade_factor": vocabulary.GRADE_FACTOR,
    "role": vocabulary.ROLE,
    "job_run_status": vocabulary.JOB_RUN_STATUS,
    "audit_action": vocabulary.AUDIT_ACTION,
    "facet": vocabulary.FACET,
    "evidence_file": EVIDENCE_FILE,
}


def gettext(message_id: str, **params: Any) -> str:
    """The message in the request's locale (an empty id stays empty: gettext("") is the catalogue header)."""
    if not message_id:
        return ""
    return _gettext(message_id, **params) if params else _gettext(message_id)


def translate(value: Any) -> str:
    """A Msg, a message id or any value as text in the request's locale (the `t` filter)."""
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    return core_i18n.render(value, gettext)


def error_text(exc: BaseException) -> str:
    """A user's mistake (core.errors.UserError) in the request's locale: its message is a Msg or a
    message id; a message that is neither shows as it is."""
    first = exc.args[0] if exc.args else ""
    if isinstance(first, core_i18n.Msg):
        return translate(first)
    return translate(str(exc))


def code_name(kind: str, code: str | None) -> str:
    """The name of a stored code of `kind` (a KINDS key) in the request's locale; an unknown code as itself."""
    return translate(vocabulary.name(KINDS[kind], code))


def source_name(code: str | None) -> str:
    """A crawl source's description from the sources file (configuration text, shown as it is written);
    a source the file no longer has shows as its name."""
    if not code:
        return ""
    return source_names().get(code, code)


def source_names() -> dict[str, str]:
    """{source name: its description} of the configured sources file, read once per app."""
    from flask import current_app

    names = current_app.extensions.get("wangxun_source_names")
    if names is None:
        from crawlers.sources import load_sources

        try:
            sources = load_sources(current_app.extensions["wangxun_cfg"])
            names = {name: (src.description or name) for name, src in sources.items()}
        except Exception:  # a broken sources file is the crawler's error to report, not the page's
            log.warning("sources file unreadable; sources show by name", exc_info=True)
            names = {}
        current_app.extensions["wangxun_source_names"] = names
    return names


def job_name(job_id: str | None, task: str | None = None) -> str | core_i18n.Msg:
    """A scheduled job by its id: the shipped jobs by name (core.vocabulary.JOB_NAME), a crawl job
    ("crawl:<source>") by its source, another job (one an administrator added) by its task's name,
    or by its id when the task is not known."""
    names = getattr(vocabulary, "JOB_NAME", {})
    if not job_id:
        return ""
    if job_id in names:
        return names[job_id]
    if job_id.startswith("crawl:"):
        return core_i18n.Msg(N_("采集：%(source)s"), source=source_name(job_id.split(":", 1)[1]))
    if task and task in getattr(vocabulary, "JOB_TASK", {}):
        return vocabulary.JOB_TASK[task]
    return job_id


def task_name(task: str | None) -> str:
    """A task of jobs.tasks.TASKS by its name (core.vocabulary.JOB_TASK)."""
    return vocabulary.name(getattr(vocabulary, "JOB_TASK", {}), task)


def arg_text(key: str, value: Any) -> core_i18n.Msg:
    """One argument of a scheduled job as "name: value" (a source by its description)."""
    fields = getattr(vocabulary, "AUDIT_FIELD", {})
    if key == "source":
        value = source_name(str(value))
    return core_i18n.Msg(N_("%(field)s：%(value)s"), field=fields.get(key, key), value=value)


_JS_ID = re.compile(r'\btr\("((?:[^"\\]|\\.)*)"')


@functools.cache
def _js_ids(path: Path) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_JS_ID.findall(path.read_text(encoding="utf-8"))))


def js_strings(script: str = "map.js") -> dict[str, str]:
    """{message id: text in the request's locale} for a static script: every `tr("…")` id in it and
    every vocabulary name (popups show label names), for the page to hand over as JSON; a crawl
    source's name maps to its description (popups name the source)."""
    ids = list(_js_ids(Path(__file__).parent / "static" / "js" / script))
    for mapping in KINDS.values():
        ids.extend(v for v in mapping.values() if v)
    return {**{i: gettext(i) for i in ids}, **source_names()}


def current_locale() -> str:
    """The request's locale as a code of LOCALES (Babel's own name for zh_CN is zh_Hans_CN)."""
    return select_locale() if has_request_context() else DEFAULT_LOCALE


def select_locale() -> str:
    from webmap import auth

    cached = g.get("_locale")
    if cached:
        return cached
    user = auth.current_user()
    locale = getattr(user, "locale", None) if user is not None else None
    g._locale = locale if locale in LOCALES else DEFAULT_LOCALE
    return g._locale


def compiled(directory: Path = TRANSLATIONS, fallback: Path | None = None) -> Path:
    """The directory holding up-to-date .mo files: each catalogue's .mo is (re)written beside its .po
    when missing or older; when that directory cannot be written (an installed, read-only package) the
    .mo files go under `fallback` instead. Writes go to a temporary name and are renamed, so workers
    starting together never read half a file."""
    target = directory
    for po in sorted(directory.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        try:
            _compile(po, mo)
        except OSError:
            if fallback is None:
                raise
            target = fallback
            _compile(po, fallback / po.relative_to(directory).with_suffix(".mo"))
    if target is not directory:
        # Flask-Babel reads one directory per domain: copy the .po files' .mo there for every locale.
        for po in sorted(directory.glob("*/LC_MESSAGES/*.po")):
            out = fallback / po.relative_to(directory).with_suffix(".mo")
            if not out.exists() or out.stat().st_mtime < po.stat().st_mtime:
                _compile(po, out)
    return target


def _compile(po: Path, mo: Path) -> None:
    with po.open("rb") as f:
        catalog = read_po(f, locale=po.parent.parent.name)
    mo.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_beside(mo)
    with tmp.open("wb") as f:
        write_mo(f, catalog, use_fuzzy=False)
    os.replace(tmp, mo)
    log.info("compiled %s", mo)


def init_app(app: Flask, fallback_dir: Path | None = None) -> None:
    directory = compiled(TRANSLATIONS, fallback_dir)
    Babel(
        app,
        locale_selector=select_locale,
        default_locale=DEFAULT_LOCALE,
        default_translation_directories=str(directory),
    )
    app.jinja_env.filters["t"] = translate

    @app.context_processor
    def _i18n_globals():
        return {
            "code_name": code_name,
            "source_name": source_name,
            "job_name": job_name,
            "task_name": task_name,
            "arg_text": arg_text,
            "js_strings": js_strings,
            "current_locale": current_locale,
            "html_lang": lambda: HTML_LANG.get(current_locale(), "zh-CN"),
            "locales": LOCALES,
            "N_": core_i18n.N_,  # marks a literal for extraction; render it with |t
        }


def extract_vocabulary(fileobj, keywords, comment_tags, options):
    """A Babel extractor for core/vocabulary.py (babel.cfg): every string of its module-level dicts'
    values and tuples is a message id (a name a user sees), whether or not it is wrapped in N_."""
    import ast

    tree = ast.parse(fileobj.read())

    def strings(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "N_" and node.args:
            yield from strings(node.args[0])

    for stmt in tree.body:
        value = getattr(stmt, "value", None)
        if not isinstance(stmt, ast.Assign | ast.AnnAssign) or value is None:
            continue
        if isinstance(value, ast.Dict):
            items = value.values
        elif isinstance(value, ast.Tuple | ast.List):
            items = value.elts
        else:
            continue
        for item in items:
            for lineno, text in strings(item):
                yield lineno, None, text, []
