"""Prices, set counts, contacts (masked) and business names, including adversarial input."""

from detection.extract_text import (
    find_business_names,
    find_contacts,
    find_prices,
    find_set_counts,
    mask_wechat,
    parse_count,
)


def test_prices_in_common_forms():
    text = "¥198/人，团费300元，仅需45，１２８元／位，19.9全部打包，35包邮"
    found = [(p.value, p.unit) for p in find_prices(text)]
    assert (198.0, "人") in found and (300.0, None) in found and (45.0, None) in found
    assert (128.0, "位") in found and (19.9, None) in found and (35.0, None) in found


def test_phone_digits_are_not_prices():
    assert find_prices("电话13912345678") == []


def test_set_counts_arabic_and_chinese_numerals():
    assert [c.volumes for c in find_set_counts("全套12册，共二十本，56册全套，一百零八本全")] == [12, 20, 56, 108]
    assert parse_count("十") == 10 and parse_count("二十五") == 25 and parse_count("两百") == 200
    assert parse_count("abc") is None


def test_contacts_are_found_and_masked():
    found = find_contacts("电话138-1234-5678，座机0512-65221234，微信：abc_12345，加v travel2024")
    phones = [c for c in found if c.kind == "phone"]
    wechats = [c for c in found if c.kind == "wechat"]
    assert [c.masked for c in phones] == ["138****5678", "0512****34"]
    assert [c.value for c in wechats] == ["abc_12345", "travel2024"]
    assert all("****" in c.masked and c.value not in c.masked for c in found)
    assert mask_wechat("abc") == "****"


def test_full_width_phone_is_found_with_original_span():
    text = "报名：１３９１２３４５６７８"
    [phone] = find_contacts(text)
    assert phone.value == "13912345678" and text[phone.span[0] : phone.span[1]] == "１３９１２３４５６７８"


def test_business_names_are_trimmed_of_leading_words():
    names = [
        b.name
        for b in find_business_names(
            "本活动由苏州中国青年旅行社有限公司承办，我们是苏州青旅，合作方苏州古城户外俱乐部。"
        )
    ]
    assert names == ["苏州中国青年旅行社有限公司", "苏州青旅", "苏州古城户外俱乐部"]


def test_traditional_business_name_keeps_original_text():
    [name] = find_business_names("由蘇州康輝國際旅行社承辦")
    assert name.name == "蘇州康輝國際旅行社"


def test_empty_emoji_and_long_input():
    for fn in (find_prices, find_set_counts, find_contacts, find_business_names):
        assert fn("") == [] and fn(None) == [] and fn("🔥🔥🔥📚") == []
    long_text = "随便写写" * 25_000 + "¥99"
    assert [p.value for p in find_prices(long_text)] == [99.0]
