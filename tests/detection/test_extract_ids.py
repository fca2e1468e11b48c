"""Licence numbers, ISBN, ISSN, CN 刊号 and 统一书号, including malformed and adversarial input."""

from detection.extract_ids import (
    find_isbns,
    find_licences,
    find_serial_ids,
    isbn_valid,
    issn_valid,
    licence_key,
    normalize_licence,
)


def test_licence_variants_normalise_to_one_form():
    for written in (
        "L-JS-CJ00123",
        "l-js-cj00123",
        "Ｌ－ＪＳ－ＣＪ００１２３",
        "L - JS - CJ 00123",
        "LJSCJ00123",
        "L一JS一CJ00123",
        "L–JS—CJ00123",
    ):
        found = find_licences(f"许可证号：{written}，欢迎报名")
        assert [lic.normalized for lic in found] == ["L-JS-CJ00123"], written
        assert found[0].well_formed and found[0].kind == "licence"


def test_licence_span_points_at_what_the_seller_wrote():
    text = "旅行社业务经营许可证：Ｌ－ＪＳ－００１２３。"
    [lic] = find_licences(text)
    assert text[lic.span[0] : lic.span[1]] == "Ｌ－ＪＳ－００１２３"
    assert lic.normalized == "L-JS-00123"


def test_wrong_digit_count_is_malformed():
    [short] = find_licences("许可证 L-JS-CJ0012 报名")
    [long] = find_licences("许可证 L-JS-CJ001234 报名")
    assert not short.well_formed and not long.well_formed


def test_credit_code_and_icp_shown_as_licence():
    [credit] = find_licences("经营许可证：91320508MA1XK3L45Q（营业执照可查）")
    [icp] = find_licences("经营许可证：苏ICP备20231234号")
    assert credit.kind == "credit_code" and icp.kind == "icp"
    assert not credit.well_formed and not icp.well_formed


def test_cue_without_number_is_not_a_licence():
    assert find_licences("我们许可证齐全，资质正规") == []


def test_clothing_sizes_and_model_numbers_are_not_licences():
    assert find_licences("尺码 L-XL 20元，型号 LX-2000") == []


def test_licence_key_ignores_case_dashes_and_width():
    assert licence_key("Ｌ－ｊｓ－ＣＪ００１２３") == licence_key("L-JS-CJ00123") == "LJSCJ00123"
    assert normalize_licence("ljs cj 00123") == "L-JS-CJ00123"


def test_isbn13_and_isbn10_check_digits():
    assert isbn_valid("9787020002207") and isbn_valid("702000220X") and isbn_valid("702000220x")
    assert not isbn_valid("9787020002208") and not isbn_valid("7020002201")
    assert not isbn_valid("978702000220") and not isbn_valid("") and not isbn_valid("abcdefghij")


def test_find_isbns_with_cue_and_bare_978():
    found = find_isbns("ISBN 978-7-02-000220-7；另一本 9787302405835；旧版 ISBN：7-02-000220-X")
    assert [(i.digits, i.valid) for i in found] == [
        ("9787020002207", True),
        ("9787302405835", False),
        ("702000220x", True),
    ]


def test_isbn_with_full_width_digits_and_dashes():
    [isbn] = find_isbns("ＩＳＢＮ　９７８－７－０２－０００２２０－７")
    assert isbn.valid


def test_isbn_with_wrong_length_after_cue_is_invalid():
    [isbn] = find_isbns("ISBN 978-7-02-00022")
    assert not isbn.valid


def test_issn_cn_and_unified_book_number():
    found = {s.kind: s for s in find_serial_ids("ISSN 1002-9656 CN11-1234/G4 统一书号 10019·1234")}
    assert found["issn"].valid and found["cn"].valid and found["unified_book_no"].valid
    assert found["cn"].value == "CN 11-1234/G4"
    bad = {s.kind: s for s in find_serial_ids("ISSN 1234-5678 CN 99-1234/G4")}
    assert not bad["issn"].valid and not bad["cn"].valid
    assert issn_valid("0378-5955") and not issn_valid("0378-5954")


def test_empty_none_emoji_and_long_input():
    for text in ("", None, "😀🔥📚", "盗版" * 50_000):
        assert find_licences(text) == [] and find_isbns(text) == [] and find_serial_ids(text) == []
    long_text = "无关文字" * 30_000 + "许可证L-JS-CJ00123"
    assert [lic.normalized for lic in find_licences(long_text)] == ["L-JS-CJ00123"]


def test_mixed_scripts_around_numbers():
    [lic] = find_licences("營業許可證號碼：L-JS-CJ00123（蘇州）")
    assert lic.normalized == "L-JS-CJ00123"
    [isbn] = find_isbns("書號ISBN9787020002207定價")
    assert isbn.valid


def test_licence_with_a_suffix_is_malformed():
    from detection.extract_ids import find_licences

    for text in ("许可证L-JS-０００１７-2，欢迎报名", "L-JS-CJ-00017-1 报名"):
        (lic,) = find_licences(text)
        assert not lic.well_formed and lic.normalized.endswith(("-2", "-1")), text
    (lic,) = find_licences("许可证号L-JS-CJ00017。")
    assert lic.well_formed and lic.normalized == "L-JS-CJ00017"


def test_isbn_cue_does_not_swallow_a_following_price():
    from detection.extract_ids import find_isbns

    (isbn,) = find_isbns("正版 ISBN 9787020090006 15元")
    assert isbn.digits == "9787020090006" and isbn.valid
