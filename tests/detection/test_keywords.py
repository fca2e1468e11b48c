"""Folding and the Aho-Corasick keyword matcher."""

import pytest

from core.errors import UserError
from detection.keywords import Matcher, library_from_terms, load_library
from detection.normalize import fold


def test_fold_keeps_length_and_offsets():
    for text in ("盜版書ＰＤＦ", "旅行社業務經營許可證Ｌ－ＪＳ", "emoji 😀🈲 mixed Ａｂｃ", "", "İstanbul"):
        assert len(fold(text)) == len(text)
    assert fold("盜版書ＰＤＦ") == "盗版书pdf"


@pytest.fixture(scope="module")
def matcher():
    return Matcher(load_library())


def _words(matcher, text):
    return {(m.category, m.keyword) for m in matcher.find(fold(text))}


def test_traditional_full_width_and_case_match_the_same_word(matcher):
    for text in ("出售盗版书", "出售盜版書", "ＤＶＤ刻录", "Dvd刻录"):
        assert _words(matcher, text) & {("piracy", "盗版书"), ("disc_media", "dvd")}


def test_evasions_pinyin_and_fillers(matcher):
    assert ("piracy", "盗版") in _words(matcher, "d版教辅")
    assert ("piracy", "盗版") in _words(matcher, "daoban资料")
    assert ("piracy", "盗版") in _words(matcher, "盗🔥版 盗 版 盗.版")
    assert ("tour_product", "跟团") in _words(matcher, "gen团")


def test_filler_match_spans_cover_the_original_characters(matcher):
    text = "出售盗 🔥 版"
    [m] = [m for m in matcher.find(fold(text)) if m.category == "piracy"]
    assert text[m.start : m.end] == "盗 🔥 版"


def test_longer_signal_hides_the_word_inside_it(matcher):
    words = _words(matcher, "非正版")
    assert ("piracy", "非正版") in words and ("pub_genuine", "正版") not in words


def test_context_words_are_kept_inside_longer_matches(matcher):
    words = _words(matcher, "盗版书")
    assert ("piracy", "盗版书") in words and ("pub_object", "书") in words


def test_repeated_word_is_capped_on_long_pages(matcher):
    matches = matcher.find(fold("盗版" * 10_000))
    assert 0 < len([m for m in matches if m.keyword == "盗版"]) <= 16


def test_library_from_terms_and_empty_text():
    m = Matcher(library_from_terms({"a": ["甲乙", "丙"]}))
    assert [(x.start, x.end) for x in m.find(fold("甲乙丙"))] == [(0, 2), (2, 3)]
    assert m.find("") == []


def test_broken_library_file_is_a_user_error(tmp_path):
    bad = tmp_path / "k.toml"
    bad.write_text('[categories.x]\nlabel = "nope"\nterms = ["a"]\n', encoding="utf-8")
    with pytest.raises(UserError, match="label"):
        load_library(bad)
    bad.write_text("not toml [", encoding="utf-8")
    with pytest.raises(UserError):
        load_library(bad)
    with pytest.raises(UserError):
        load_library(tmp_path / "missing.toml")


def test_edited_library_takes_effect_without_code(tmp_path):
    from detection import Detector

    path = tmp_path / "k.toml"
    source = load_library().categories  # the shipped file is the template
    text = (
        pytest.importorskip("pathlib").Path(__file__).resolve().parents[2] / "detection/data/keywords.toml"
    ).read_text(encoding="utf-8")
    path.write_text(text.replace('terms = ["盗版", ', 'terms = ["山寨书", "盗版", ', 1), encoding="utf-8")
    assert "piracy" in source
    detector = Detector.from_records([], library_path=path)
    result = detector.classify({"title": "山寨书 全套", "text": "包邮 29元"})
    assert "illegal_publication" in result["labels"]
