"""Errors a user reads are Chinese message ids (#15 item 8): every refusal of the clue loop is a
core.i18n.Msg whose text has no English words, and says what to do."""

import re

import pytest

from core.errors import UserError
from core.i18n import Msg
from hits import clues
from tests.helpers import make_grid, make_hit, make_user, make_venue

ENGLISH = re.compile(r"[A-Za-z]{3,}")


def _refusal(call) -> UserError:
    with pytest.raises(UserError) as err:
        call()
    exc = err.value
    assert isinstance(exc.message, Msg), exc.message
    words = re.sub(r"%\(\w+\)[sdr]", "", exc.message.id)
    assert not ENGLISH.search(words), exc.message.id  # the words; parameters are the user's data
    return exc


def test_every_refusal_of_the_clue_loop_is_chinese(session, tmp_path):
    grid = make_grid(session, name="观前网格")
    west = make_grid(session, bounds=(121.0, 31.0, 121.1, 31.1))
    venue = make_venue(session, grid=grid)
    patrol = make_user(session, role="patrol")
    outsider = make_user(session, role="grid_manager", grids=[west])
    nowhere = make_hit(session, lon=100.0, lat=20.0)
    hit = make_hit(session, grid=grid, venue=venue)
    assert "排除理由" in str(_refusal(lambda: clues.dismiss_hit(session, hit.id, patrol, " ")))
    assert "接收单位" in str(_refusal(lambda: clues.transfer_hit(session, hit.id, patrol, "")))
    assert "手动选择网格" in str(_refusal(lambda: clues.confirm_hit(session, nowhere.id, patrol)))
    assert "没有编号为 999999 的网格" in str(_refusal(lambda: clues.confirm_hit(session, hit.id, patrol, 999999)))
    assert "没有编号为 999999 的线索" in str(_refusal(lambda: clues.get_clue(session, 999999, patrol)))
    clue = clues.confirm_hit(session, hit.id, patrol)
    again = _refusal(lambda: clues.dismiss_hit(session, hit.id, patrol, "误报"))
    assert str(again) == f"发现 #{hit.id} 已是“已转线索”，只有新发现可以排除"
    assert "不在您的网格范围内" in str(_refusal(lambda: clues.start_inspection(session, clue.id, outsider)))
    assert "检查结果必须是：未发现问题、责令整改、立案查处" in str(
        _refusal(lambda: clues.record_inspection(session, clue.id, patrol, "fine"))
    )
    assert "办结结果必须是：未发现违法、已整改、已立案" in str(
        _refusal(lambda: clues.close_clue(session, clue.id, patrol, "transferred"))
    )
    assert "立案号" in str(_refusal(lambda: clues.close_clue(session, clue.id, patrol, "case")))
    assert "请先记录检查" in str(_refusal(lambda: clues.close_clue(session, clue.id, patrol, "corrected")))
    photo = _refusal(lambda: clues.save_photo(session, 1, "a.txt", b"x", tmp_path))
    assert str(photo).startswith("a.txt：照片须是")
    clues.close_clue(session, clue.id, patrol, "no_violation")
    assert str(_refusal(lambda: clues.start_inspection(session, clue.id, patrol))) == (
        f"线索 #{clue.id} 当前为“已办结”，只有待处理的线索可以开始核查"
    )


def test_a_refusal_crosses_a_process_boundary(session):
    # The crawl's page workers (crawlers/procpool.py) hand exceptions back pickled; a Msg inside must survive.
    import copy
    import pickle

    hit = make_hit(session, grid=make_grid(session))
    exc = _refusal(lambda: clues.dismiss_hit(session, hit.id, make_user(session, role="patrol"), ""))
    back = pickle.loads(pickle.dumps(exc))
    assert isinstance(back, UserError) and back.message == exc.message and str(back) == str(exc)
    assert copy.deepcopy(exc.message) == exc.message
