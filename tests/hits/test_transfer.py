"""移送外地 (#15 item 3): a hit that belongs to another authority is handed over with the receiving
authority and a note; it leaves the local to-do lists and the clue's history keeps the hand-over."""

import pytest

from core.errors import UserError
from hits import clues
from tests.helpers import make_grid, make_hit, make_user


def test_a_transfer_records_the_authority_and_closes_the_local_work(session):
    patrol = make_user(session, role="patrol")
    hit = make_hit(session, None, None, "杭州西湖一日游 散客拼团", 120.15, 30.25)  # another city: no grid
    with pytest.raises(UserError, match="请填写接收单位"):
        clues.transfer_hit(session, hit.id, patrol, "  ")
    clue = clues.transfer_hit(session, hit.id, patrol, "杭州市文化市场综合行政执法队", "卖家与线路均在杭州")
    assert hit.status == "transferred"
    assert (clue.status, clue.outcome, clue.hit_id) == ("closed", "transferred", hit.id)
    step = clue.history[-1]
    assert step["step"] == "transferred" and step["authority"] == "杭州市文化市场综合行政执法队"
    assert step["note"] == "卖家与线路均在杭州" and step["user"]
    with pytest.raises(UserError, match="已是“已移送外地”"):  # once only
        clues.transfer_hit(session, hit.id, patrol, "苏州")
    local = make_hit(session, make_grid(session), None, "平江路一日游", 120.605, 31.305)
    other = clues.confirm_hit(session, local.id, patrol)
    with pytest.raises(UserError, match="办结结果必须是"):  # closing never claims a transfer
        clues.close_clue(session, other.id, patrol, "transferred")
