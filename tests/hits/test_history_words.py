"""A clue's history in words (#15 item 8): every step a sentence with grids and venues by name, the
routing explained, the photo count and the outcome named; old stored rows read the same way."""

import re

from core.i18n import Msg
from hits import clues
from tests.helpers import make_clue, make_grid, make_hit, make_user, make_venue

RAW = re.compile(r"=|routed|hit_grid|grid_id|photos|outcome|no_violation|\bcase\b|\[|\{")


def _texts(lines):
    return [f"{line['step_name']} {line['text']}" for line in lines]


def test_each_step_is_a_sentence_naming_what_it_touched(session, tmp_path):
    grid = make_grid(session, name="观前网格")
    venue = make_venue(session, grid=grid, name="观前网吧")
    patrol = make_user(session, role="patrol")
    hit = make_hit(session, grid=grid, venue=venue)
    clue = clues.confirm_hit(session, hit.id, patrol, note="疑似无证")
    clues.start_inspection(session, clue.id, patrol)
    clues.record_inspection(
        session,
        clue.id,
        patrol,
        "立案查处",
        photos=[("a.jpg", b"\xff\xd8one"), ("b.jpg", b"\xff\xd8two")],
        attachments_dir=tmp_path,
    )
    clues.close_clue(session, clue.id, patrol, "case", case_no="苏文执立〔2026〕12号")
    lines = clues.history_lines(session, clue)
    texts = _texts(lines)
    assert all(isinstance(line["text"], Msg) for line in lines)
    assert texts[0] == "转为线索 派发至网格 观前网格（按发现所属网格分派）；涉及场所 观前网吧；说明：疑似无证"
    assert texts[1] == "开始核查 —"
    assert "检查结果：立案查处" in texts[2] and "现场照片 2 张" in texts[2]
    assert texts[3] == "办结 办结结果：已立案；立案号 苏文执立〔2026〕12号"
    for text in texts:
        assert not RAW.search(text), text
    # The stored form stays machine-readable.
    assert clue.history[0]["routed"] == "hit_grid" and len(clue.history[2]["photos"]) == 2


def test_rows_stored_by_older_versions_read_as_words(session):
    grid = make_grid(session, name="平江网格")
    clue = make_clue(session, make_hit(session, grid=grid))
    clue.history = [
        {
            "at": "2026-05-01T01:00:00+00:00",
            "user": "li",
            "step": "confirmed",
            "grid_id": grid.id,
            "routed": "location",
        },
        {
            "at": "2026-05-02T01:00:00+00:00",
            "user": "li",
            "step": "inspected",
            "photos": ["ab" * 32],
            "result": "责令整改",
        },
        {"at": "2026-05-03T01:00:00+00:00", "user": "li", "step": "closed", "outcome": "corrected", "grid_id": 999999},
        {"at": "2026-05-04T01:00:00+00:00", "user": "li", "step": "reopened", "reason": "复核"},
    ]
    texts = _texts(clues.history_lines(session, clue))
    assert texts[0] == "转为线索 派发至网格 平江网格（按发现位置所在网格分派）"
    assert texts[1] == "检查记录 检查结果：责令整改；现场照片 1 张"
    assert texts[2] == "办结 派发至网格 编号 999999；办结结果：已整改"  # a grid since deleted: its number
    assert texts[3] == "reopened 理由：复核"  # an unknown step keeps its code; its fields are named
    for text in texts[:3]:
        assert not RAW.search(text), text


def test_the_api_summary_carries_the_words_too(session):
    grid = make_grid(session, name="沧浪网格")
    patrol = make_user(session, role="patrol")
    clue = clues.confirm_hit(session, make_hit(session, grid=grid).id, patrol)
    summary = clues.clue_summary(session, clue)
    assert summary["history"][0]["routed"] == "hit_grid"
    assert summary["history_text"][0]["text"] == "派发至网格 沧浪网格（按发现所属网格分派）"
    assert summary["history_text"][0]["step_name"] == "转为线索"
