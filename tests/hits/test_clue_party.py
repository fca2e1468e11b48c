"""A clue whose hit has no venue (#15): the inspection names a party, and a case (立案) is filed on it."""

import pytest

from core.errors import UserError
from grids.inspections import Party
from hits import clues
from tests.helpers import make_grid, make_hit, make_user


def test_a_hit_without_a_venue_is_inspected_as_a_named_party_and_filed_as_a_case(session):
    grid = make_grid(session)
    elsewhere = make_grid(session, bounds=(120.62, 31.30, 120.63, 31.31))
    patrol = make_user(session, role="patrol")
    manager = make_user(session, role="grid_manager", grids=[grid])
    outsider = make_user(session, role="grid_manager", grids=[elsewhere])
    hit = make_hit(session, grid, None, "低价港澳游，无需资质")
    clue = clues.confirm_hit(session, hit.id, patrol)
    with pytest.raises(UserError, match="场所"):  # neither a venue nor a party
        clues.record_inspection(session, clue.id, manager, "立案查处")
    party = Party.parse("某某旅游工作室", "微信：zzly2026", "138****0000", "姑苏区某路")
    with pytest.raises(clues.NotInZone):
        clues.record_inspection(session, clue.id, outsider, "立案查处", party=party)
    inspection = clues.record_inspection(
        session, clue.id, manager, "立案查处", violations="未经许可经营旅行社业务", party=party
    )
    assert inspection.venue_id is None and inspection.grid_id == grid.id
    assert (inspection.party_name, inspection.party_account) == ("某某旅游工作室", "微信：zzly2026")
    closed = clues.close_clue(session, clue.id, manager, "case", case_no="姑文旅罚〔2026〕15号")
    assert (closed.outcome, closed.case_no, closed.venue_id) == ("case", "姑文旅罚〔2026〕15号", None)
    summary = clues.clue_summary(session, closed)
    assert summary["venue"] is None and summary["inspection"]["party"]["name"] == "某某旅游工作室"
    assert closed.history[-2]["party"] == "某某旅游工作室"
