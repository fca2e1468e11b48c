"""One database session per request.

Views and services call `get_session()`; the session is committed once the view has produced a response
(so audit records written while refusing access with 403 are kept too) and rolled back when the view
raises. Committing before the response leaves the server means a failed commit becomes a 500 instead of
a success page for a change that was lost.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from core import db


def get_session() -> Session:
    s = g.get("_db_session")
    if s is None:
        s = db.session_factory(current_app.extensions["wangxun_cfg"])()
        g._db_session = s
    return s


def init_app(app: Flask) -> None:
    @app.after_request
    def _commit(response):
        s = g.get("_db_session")
        if s is not None:
            s.commit()
        return response

    @app.teardown_request
    def _close(exc):
        s = g.pop("_db_session", None)
        if s is not None:
            if exc is not None:
                s.rollback()
            s.close()
