"""Login and logout."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext
from flask_limiter import RateLimitExceeded
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from webmap import audit, auth, i18n
from webmap.i18n import gettext as _

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(lazy_gettext("用户名"), validators=[DataRequired(), Length(max=50)])
    password = PasswordField(lazy_gettext("密码"), validators=[DataRequired(), Length(max=200)])


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status, error, headers = 200, None, {}
    if form.validate_on_submit():
        result = auth.authenticate(g.cfg, form.username.data, form.password.data, auth.client_address())
        if result.user is not None:
            auth.login_user(result.user)
            audit.record("login", "user", result.user.id)
            # Only a path of this site: an attacker's link must not bounce a fresh login elsewhere.
            return redirect(auth.safe_next(request.args.get("next")) or url_for("map.index"))
        audit.record("login_failed", "user", None, username=form.username.data[:50], status=result.status)
        status, error = result.status, result.error
        if result.retry_after:
            headers["Retry-After"] = str(result.retry_after)
    return render_template("auth/login.html", form=form, error=error), status, headers


@bp.errorhandler(RateLimitExceeded)
def login_rate_limited(exc: RateLimitExceeded):
    """auth.init_limiter's limit on POST /login: the form again, with the reason, instead of the generic
    error page."""
    username = (request.form.get("username") or "")[:50]
    audit.record("login_failed", "user", None, username=username, status=429)
    return render_template("auth/login.html", form=LoginForm(), error=auth.LOGIN_RATE_LIMITED), 429


@bp.route("/logout", methods=["POST"])
def logout():
    if auth.current_user() is not None:
        audit.record("logout", "user", auth.current_user().id)
    auth.logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/settings/locale", methods=["POST"])
@auth.login_required
def set_locale():
    """The user's language (users.locale), from the switch in the navigation; audited as `update`."""
    locale = request.form.get("locale", "")
    if locale not in i18n.LOCALES:
        abort(400, description=_("不支持的语言"))
    user = auth.current_user()
    if user.locale != locale:
        audit.record("update", "user", user.id, field="locale", old=user.locale or i18n.DEFAULT_LOCALE, new=locale)
        user.locale = locale
    return redirect(auth.safe_next(request.form.get("next")) or url_for("map.index"))
