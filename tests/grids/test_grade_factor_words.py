"""Grade factors in words (#15 item 8): every factor's basis is a Chinese sentence (a Msg), the
licence's stored "expired 2026-11-02" included, for grades stored by any version."""

import datetime as dt
import re

from sqlalchemy import select

from core import vocabulary
from core.i18n import Msg
from core.models import VenueGrade
from grids import grading
from tests.helpers import make_grid, make_inspection, make_venue

ENGLISH = re.compile(r"[A-Za-z]{3,}")


def test_every_factor_of_a_graded_venue_reads_as_a_chinese_sentence(cfg, session):
    grid = make_grid(session)
    venue = make_venue(session, grid=grid, category="歌舞娱乐", licence_expiry=dt.date(2026, 5, 1))
    make_inspection(session, venue, date=dt.date(2026, 1, 5), result="立案查处", penalty_yuan=20000)
    run = grading.grade_all(session, grading.GradingParams.from_config(cfg.grading), dt.date(2026, 6, 30))
    factors = session.scalar(select(VenueGrade).where(VenueGrade.run_id == run.id)).factors
    assert factors["licence"]["basis"] == "expired 2026-05-01"  # stored machine-readable, as before
    texts = {f: grading.basis_text(f, factors[f]["basis"]) for f in grading.FACTORS}
    assert all(isinstance(t, Msg) for t in texts.values())
    assert str(texts["licence"]) == "许可证已于 2026-05-01 过期"
    assert str(texts["penalties"]) == "统计期内罚款 20000 元"
    assert str(texts["industry"]) == "行业：歌舞娱乐"
    for factor, text in texts.items():
        assert not ENGLISH.search(str(text)), (factor, str(text))
        assert vocabulary.name(vocabulary.GRADE_FACTOR, factor) != factor  # every factor code has a name


def test_stored_licence_states_of_any_version_read_as_words():
    assert str(grading.basis_text("licence", "expires 2026-12-01")) == "许可证将于 2026-12-01 到期"
    assert str(grading.basis_text("licence", "valid until 2030-01-01")) == "许可证有效期至 2030-01-01"
    assert str(grading.basis_text("licence", "unknown")) == "许可证有效期不详"
    assert str(grading.basis_text("licence", None)) == "许可证有效期不详"
