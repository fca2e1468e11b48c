"""User-visible messages that carry parameters, translated where the user's locale is known.

Packages below webmap (core, grids, hits, jobs, search, evidence) have no request and no locale.
When they produce a sentence a user reads (a clue's history line, an audit entry, a grade factor, an
error), they return a `Msg`: a message id plus its parameters. The message id is the Chinese text,
which is also the zh_CN text, so `str(msg)` is what a Chinese user sees in logs, the CLI and e-mails.
webmap translates a Msg for the user's locale through Flask-Babel (the catalogues under
webmap/translations) before formatting it; parameters that are themselves a Msg are translated too.

Message ids use gettext's `%(name)s` placeholders, so pybabel extracts them as python-format and a
translator sees the names. `N_` only marks a literal for extraction (`pybabel extract -k N_`); it
returns its argument unchanged, because the translation happens later, at the edge.

    from core.i18n import Msg, N_
    Msg(N_("已移送%(authority)s"), authority="上海市文化执法总队")
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def N_(message_id: str) -> str:
    """Mark a message id for extraction; translation happens where the locale is known."""
    return message_id


class Msg:
    """A message id and its parameters; immutable, comparable, and readable as Chinese text."""

    __slots__ = ("id", "params")

    def __init__(self, message_id: str, **params: Any):
        object.__setattr__(self, "id", message_id)
        object.__setattr__(self, "params", dict(params))

    def __setattr__(self, name, value):
        raise AttributeError("Msg is immutable")

    def __reduce__(self):
        # Pickling and copying rebuild through __init__ (a UserError carrying a Msg may come back from a
        # worker process); the default slot restore would go through the refusing __setattr__.
        return (_rebuild, (self.id, self.params))

    def render(self, translate: Callable[[str], str]) -> str:
        """The text with `translate` applied to the id and to every Msg among the parameters."""
        text = translate(self.id)
        if not self.params:
            return text
        values = {
            key: value.render(translate) if isinstance(value, Msg) else value for key, value in self.params.items()
        }
        try:
            return text % values
        except (KeyError, ValueError, TypeError):
            # A catalogue entry with a broken placeholder must not break the page: fall back to the
            # untranslated id, whose placeholders are checked by tests/core/test_i18n.py.
            return self.id % values

    def __str__(self) -> str:
        return self.render(lambda message_id: message_id)

    def __repr__(self) -> str:
        return f"Msg({self.id!r}, {self.params!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Msg) and (self.id, self.params) == (other.id, other.params)

    def __hash__(self) -> int:
        return hash((self.id, tuple(sorted((k, str(v)) for k, v in self.params.items()))))


def _rebuild(message_id: str, params: Mapping[str, Any]) -> Msg:
    return Msg(message_id, **params)


def render(value: Any, translate: Callable[[str], str]) -> str:
    """A Msg rendered with `translate`; a plain string translated as a message id; anything else str()."""
    if isinstance(value, Msg):
        return value.render(translate)
    if isinstance(value, str):
        return translate(value)
    return str(value)


def params_of(message: Msg) -> Mapping[str, Any]:
    """A read-only view of a message's parameters (for tests and JSON output)."""
    return dict(message.params)
