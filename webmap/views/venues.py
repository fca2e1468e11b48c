"""一户一档: the venue page, recording an inspection, and the venue export."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from core.errors import UserError
from webmap import audit, zones
from webmap.auth import current_user, login_required
from webmap.dbsession import get_session
from webmap.i18n import error_text
from webmap.i18n import gettext as _
from webmap.services import clock, exports
from webmap.services import venues as venue_service
from webmap.views import downloads, params
from webmap.views.loaders import load_venue

bp = Blueprint("venues", __name__)


class InspectionForm(FlaskForm):
    subject = RadioField(
        _l("被检查对象"),
        choices=[("venue", _l("本场所")), ("party", _l("无登记场所的当事人（网店、无证经营者等）"))],
        default="venue",
    )
    party_name = StringField(_l("当事人名称"), validators=[Optional(), Length(max=200)])
    party_account = StringField(_l("平台账号"), validators=[Optional(), Length(max=200)])
    party_contact = StringField(_l("联系方式"), validators=[Optional(), Length(max=100)])
    party_address = StringField(_l("地址"), validators=[Optional(), Length(max=300)])
    date = DateField(_l("检查日期"), validators=[DataRequired()], default=dt.date.today)
    inspectors = StringField(_l("执法人员"), validators=[DataRequired(), Length(max=200)])
    # Stored as the Chinese words (core.vocabulary.INSPECTION_RESULTS), shown in the user's language.
    result = SelectField(_l("检查结果"), choices=[(r, _l(r)) for r in venue_service.INSPECTION_RESULTS])
    violations = TextAreaField(_l("发现问题"), validators=[Optional(), Length(max=2000)])
    penalty_yuan = DecimalField(_l("罚款（元）"), validators=[Optional(), NumberRange(min=0)])
    notes = TextAreaField(_l("备注"), validators=[Optional(), Length(max=2000)])


@bp.route("/venues/<int:venue_id>")
@login_required
def show(venue_id: int):
    v = load_venue(venue_id)
    return render_template(
        "venues/show.html", form=InspectionForm(), **venue_service.page(get_session(), v, g.cfg.core.timezone)
    )


@bp.route("/venues/<int:venue_id>/inspections", methods=["POST"])
@login_required
def add_inspection(venue_id: int):
    v = load_venue(venue_id, action=None)
    form = InspectionForm()
    if not form.validate_on_submit():
        flash(
            _("检查记录未保存：")
            + _("；").join(f"{form[k].label.text}{_('：')}{_('、').join(e)}" for k, e in form.errors.items()),
            "error",
        )
        return redirect(url_for("venues.show", venue_id=v.id))
    data = venue_service.InspectionInput(
        date=form.date.data,
        inspectors=form.inspectors.data,
        result=form.result.data,
        violations=form.violations.data,
        notes=form.notes.data,
        penalty_yuan=float(form.penalty_yuan.data) if form.penalty_yuan.data is not None else None,
    )
    try:
        data.party = venue_service.parse_party(
            form.subject.data,
            form.party_name.data,
            form.party_account.data,
            form.party_contact.data,
            form.party_address.data,
        )
        insp = venue_service.record_inspection(get_session(), v, current_user(), data)
    except UserError as exc:
        flash(_("检查记录未保存：") + error_text(exc), "error")
        return redirect(url_for("venues.show", venue_id=v.id))
    subject = {"venue_id": v.id} if insp.venue_id else {"grid_id": insp.grid_id, "party": insp.party_name}
    audit.record("create", "inspection", insp.id, **subject, result=insp.result, date=insp.date.isoformat())
    flash(_("检查记录已保存"), "ok")
    return redirect(url_for("venues.show", venue_id=v.id))


@bp.route("/export/venues.<any(csv, xlsx, geojson):fmt>")
@login_required
def export(fmt: str):
    records = exports.venue_records(get_session(), zones.allowed_grid_ids(), params.filters(request.args))
    out = exports.render("venues", records, fmt, clock.stamp(g.cfg.core.timezone), g.cfg.core.timezone, _)
    audit.record("export", "venues", None, format=fmt, count=out.count, filters=params.passthrough(request.args))
    return downloads.attachment(out)
