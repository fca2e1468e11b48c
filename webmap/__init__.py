"""The web app: `create_app()` builds a Flask app from core configuration.

Blueprints are listed in webmap/views/__init__.py (BLUEPRINTS); each feature adds one line there.
Every request gets `g.cfg` (the core Config) and, on demand, one database session
(`webmap.dbsession.get_session()`), committed after the view returns a response and rolled back when
the view raises.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, g, url_for
from flask_wtf.csrf import CSRFProtect

from core import config as core_config
from core import vocabulary
from core.errors import ServiceUnavailable
from core.i18n import N_, Msg

csrf = CSRFProtect()
log = logging.getLogger(__name__)


def create_app(test_config: dict[str, Any] | None = None, config=None) -> Flask:
    """Build the app.

    `config` is a core Config (the `serve` verb passes the one it loaded); `test_config` holds dotted
    core settings ("webmap.tile_provider": "none") and Flask keys ("TESTING": True), told apart by the dot.
    """
    test_config = dict(test_config or {})
    dotted = {k: v for k, v in test_config.items() if "." in k}
    flask_keys = {k: v for k, v in test_config.items() if "." not in k}
    cfg = _load_config(config, dotted)

    from webmap.views import params

    app = Flask(__name__)
    # Ids SQLite can hold, app-wide: an oversized one in a path is a 404, in a query or form a 400.
    app.request_class = params.Request
    app.url_map.converters["int"] = params.IdConverter  # before any route is added
    app.config.update(
        SECRET_KEY=_secret_key(cfg),
        # The cookie's own expiry (idle); the server checks both lifetimes on its session rows.
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=int(cfg.webmap.session_lifetime_minutes)),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(cfg.webmap.secure_cookies),
        MAX_CONTENT_LENGTH=int(cfg.webmap.max_request_mb) * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session, which already expires
        JSON_AS_ASCII=False,
    )
    app.config.update(flask_keys)
    app.extensions["wangxun_cfg"] = cfg
    app.json.ensure_ascii = False
    if int(cfg.webmap.proxy_count):
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = int(cfg.webmap.proxy_count)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)
    csrf.init_app(app)

    from webmap import dbsession
    from webmap.headers import init_headers

    dbsession.init_app(app)
    init_headers(app, cfg)
    _register_blueprints(app)
    from webmap.auth import init_limiter

    init_limiter(app, cfg)  # after the blueprints: it limits the auth.login view
    from webmap import i18n

    # Catalogues compiled beside their .po, or under data_dir when the package is read-only.
    i18n.init_app(app, fallback_dir=Path(cfg.resolve(cfg.data_dir / "translations")))
    _register_template_helpers(app)
    _register_error_pages(app)

    @app.before_request
    def _bind_config():
        g.cfg = cfg

    return app


def _load_config(config, dotted: dict[str, Any]):
    if config is None:
        return core_config.load(overrides=dotted)
    return core_config.with_overrides(config, dotted) if dotted else config


def _secret_key(cfg) -> str:
    """Read the key file under data_dir, creating it (owner-only) the first time."""
    path = Path(cfg.resolve(cfg.data_dir / cfg.webmap.secret_key_file))
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32), encoding="ascii")
        path.chmod(0o600)
        log.info("generated web app secret key in %s", path)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise core_config.ConfigError(f"secret key in {path} is too short (need 32+ characters)")
    return key


def _register_blueprints(app: Flask) -> None:
    from webmap.views import BLUEPRINTS

    for bp in BLUEPRINTS:
        app.register_blueprint(bp)


def _register_template_helpers(app: Flask) -> None:
    from webmap import auth
    from webmap.views import links

    links.init_app(app)  # the safe_href filter: crawled and user URLs link only when http(s)

    def nav_url(endpoint: str, **values) -> str | None:
        """A link only when the endpoint exists, so the nav works while features are still missing."""
        if endpoint not in app.view_functions:
            return None
        return url_for(endpoint, **values)

    @app.context_processor
    def _globals():
        # `vocab` is core.vocabulary: templates show a code as `vocab.name(vocab.HIT_STATUS, code)`,
        # never as the code itself.
        return {
            "nav_url": nav_url,
            "current_user": auth.current_user(),
            "vocab": vocabulary,
        }


SERVICE_UNAVAILABLE = N_("检索服务暂时不可用（索引服务器没有响应），请稍后再试；新发现的线索已保存，不会丢失")
ERROR_MESSAGES = {
    400: N_("请求无效"),
    401: N_("请先登录"),
    403: N_("无权访问：该内容不在您的管辖范围内"),
    404: N_("页面不存在"),
    405: N_("不支持该请求方式"),
    413: N_("上传的内容过大（每次最多 %(max_mb)s MB），请压缩照片或分几次上传"),
    429: N_("请求过于频繁，请稍后再试"),
    500: N_("系统内部错误，已记录日志；请稍后再试，或联系管理员"),
}


def _register_error_pages(app: Flask) -> None:
    from flask import jsonify, render_template, request
    from werkzeug.exceptions import HTTPException

    from webmap.i18n import translate

    def answer(code: int, message):
        message = translate(message)  # a message id or a core.i18n.Msg, in the user's language
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            return jsonify(error=message, status=code), code
        return render_template("error.html", code=code, message=message), code

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = exc.code or 500
        message = ERROR_MESSAGES.get(code, exc.description or "")
        if code == 413:
            message = Msg(message, max_mb=(app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024))
        return answer(code, message)

    @app.errorhandler(ServiceUnavailable)
    def _service_unavailable(exc: ServiceUnavailable):
        # The search cluster (or another service) did not answer: say so, keep the details in the log.
        log.warning("service unavailable on %s: %s", request.path, exc)
        return answer(503, SERVICE_UNAVAILABLE)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # A bug: the user gets a page in Chinese, the log gets the traceback; never a bare 500.
        log.exception("unhandled error on %s", request.path)
        return answer(500, ERROR_MESSAGES[500])
