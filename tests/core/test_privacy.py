"""Contacts are masked for display without moving any character (highlight spans stay valid)."""

import pytest

from core.privacy import mask_contacts


@pytest.mark.parametrize(
    "text, hidden, shown",
    [
        ("需要的私信wx：sz4760，报身份证号", "sz4760", "sz**60"),
        ("电话13812345678咨询", "13812345678", "138****5678"),
        ("座机0512-65551234", "65551234", "0512-******34"),
        ("加V：travel515814 咨询", "travel515814", "tr********14"),
        ("＋86 13812345678", "13812345678", "138****5678"),
        ("微信号: Abc_123-xyz", "Abc_123-xyz", "Ab*******yz"),
    ],
)
def test_contacts_masked_same_length(text, hidden, shown):
    masked = mask_contacts(text)
    assert len(masked) == len(text) and hidden not in masked and shown in masked


@pytest.mark.parametrize("text", ["ISBN 9787020002207 定价39元", "L-JS-CJ00123 旅行社", "", "全套12册 ¥85", "🙂" * 50])
def test_non_contacts_untouched(text):
    assert mask_contacts(text) == text


def test_search_snippets_mask_contacts_but_keep_highlights():
    from search.analysis import term_pattern
    from search.highlight import snippet

    text = "拙政园一日游，跟团价199，私信wx：sz4760 报名"
    snip = snippet("text", text, [term_pattern("跟团")])
    assert "sz4760" not in snip.text and "sz**60" in snip.text
    assert "<mark>跟团</mark>" in snip.html
