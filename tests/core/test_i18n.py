"""core.i18n.Msg: Chinese by default, translated id and nested parameters, safe on a broken catalogue."""

import pytest

from core.i18n import N_, Msg, render


def test_str_is_the_chinese_text_with_parameters():
    assert str(Msg(N_("已移送%(authority)s"), authority="上海市文化执法总队")) == "已移送上海市文化执法总队"
    assert str(Msg("已排除")) == "已排除"


def test_render_translates_the_id_and_nested_messages():
    english = {
        "已移送%(authority)s，状态：%(status)s": "Transferred to %(authority)s, status: %(status)s",
        "已移送外地": "transferred",
    }
    message = Msg("已移送%(authority)s，状态：%(status)s", authority="A", status=Msg("已移送外地"))
    assert message.render(lambda m: english.get(m, m)) == "Transferred to A, status: transferred"


def test_a_broken_catalogue_entry_falls_back_to_the_id():
    message = Msg("共%(count)d条", count=3)
    assert message.render(lambda m: "%(cuont)d items") == "共3条"


def test_plain_strings_are_translated_as_ids_and_others_stringified():
    assert render("已排除", {"已排除": "dismissed"}.get) == "dismissed"
    assert render(7, str) == "7"


def test_messages_are_values():
    assert Msg("a%(x)s", x=1) == Msg("a%(x)s", x=1)
    assert len({Msg("a%(x)s", x=1), Msg("a%(x)s", x=1)}) == 1
    with pytest.raises(AttributeError):
        Msg("a").id = "b"
