"""Seller names against the registry: registered names, short forms, branches, look-alikes."""

from detection.registry import Registry, name_core, name_cores

AGENCIES = [
    {"name": "苏州中国青年旅行社有限公司", "license_no": "L-JS-CJ00017"},
    {"name": "苏州姑苏国际旅行社有限公司", "license_no": "L-JS-CJ00101"},
    {"name": "苏州康辉国际旅行社有限公司", "licence_no": "L-JS-CJ00045"},
    {"name": "南京中国旅行社有限公司", "license_no": "L-JS-CJ00009"},
]


def test_short_forms_reduce_to_the_same_core():
    assert name_core("苏州中国青年旅行社有限公司") == name_core("苏州青旅") == name_core("苏州中青旅")
    assert set(name_cores("苏州姑苏国际旅行社有限公司")) & set(name_cores("姑苏国旅"))
    assert name_core("南京中国旅行社有限公司") == name_core("南京中旅")


def test_generic_cores_keep_their_city():
    assert name_core("苏州旅行社") != name_core("无锡旅行社")
    assert name_core("无锡青旅") != name_core("苏州中国青年旅行社有限公司")


def test_registered_names_short_forms_and_branches_match():
    registry = Registry(AGENCIES)
    for name in (
        "苏州中国青年旅行社有限公司",
        "苏州青旅",
        "蘇州青旅",
        "姑苏国旅",
        "苏州康辉国旅",
        "康辉国际旅行社",
        "苏州青旅观前门市部",
        "苏州康辉国际旅行社有限公司石路营业部",
        "南京中旅",
    ):
        match = registry.match_name(name)
        assert match and match.same, name


def test_other_businesses_do_not_match():
    registry = Registry(AGENCIES)
    for name in ("苏州青旅户外俱乐部", "苏州小众旅行工作室", "康辉旅游服务部", "无锡青旅", "苏州旅行社", ""):
        match = registry.match_name(name)
        assert not (match and match.same), name


def test_licence_lookup_and_near_miss():
    registry = Registry(AGENCIES)
    assert registry.by_licence("l-js-cj 00017").name == "苏州中国青年旅行社有限公司"
    assert registry.by_licence("Ｌ－ＪＳ－ＣＪ００１０１").name.startswith("苏州姑苏")
    assert registry.by_licence("L-JS-CJ00999") is None
    assert registry.near_licence("L-JS-CJ00018").licence_no == "L-JS-CJ00017"
    assert registry.near_licence("L-SH-00555") is None


def test_holder_check_uses_short_forms():
    registry = Registry(AGENCIES)
    holder = registry.by_licence("L-JS-CJ00017")
    assert registry.is_holder("苏州青旅", holder)
    assert not registry.is_holder("姑苏国旅", holder)


def test_empty_and_incomplete_registry():
    assert len(Registry([{"name": "", "license_no": "L-JS-00001"}, {"name": "x"}])) == 0
    empty = Registry([])
    assert empty.match_name("苏州青旅") is None and empty.by_licence("L-JS-00001") is None
    assert empty.near_licence("L-JS-00001") is None


def test_brand_only_seller_name_matches_a_single_agency():
    registry = Registry([{"name": "苏州文旅假期国际旅行社有限公司", "license_no": "L-JS-CJ00888"}] + AGENCIES)
    assert registry.match_name("苏州文旅假期").same
    assert registry.is_holder("文旅假期", registry.by_licence("L-JS-CJ00888"))
    for other in ("文旅假期户外部", "苏州", "苏州康辉旅游", "康辉假期苏州店"):
        match = registry.match_name(other)
        assert not (match and match.same), other


def test_marketplace_shop_and_staff_decorations_are_dropped():
    registry = Registry(AGENCIES + [{"name": "苏州吴江太湖旅行社有限公司", "license_no": "L-JS-00321"}])
    for name in (
        "淘宝·苏州青旅",
        "京东|姑苏国旅官方店",
        "天猫 康辉国旅专营店",
        "抖音：苏州青旅旗舰店",
        "苏州青旅小李",
        "姑苏国旅客服",
        "南京中旅门店",
        "南京中旅王姐",
        "太湖旅行社",
    ):
        match = registry.match_name(name)
        assert match and match.same, name
    assert registry.is_holder("闲鱼·苏州青旅小李", registry.by_licence("L-JS-CJ00017"))


def test_a_different_trade_word_is_a_lookalike_not_the_holder():
    registry = Registry(AGENCIES)
    holder = registry.by_licence("L-JS-CJ00101")
    for name in ("苏州姑苏国际旅游有限公司", "姑苏旅游", "苏州青旅户外", "小红书·苏州青旅户外分会"):
        assert not registry.is_holder(name, holder), name
        match = registry.match_name(name)
        assert not (match and match.same), name


def test_a_seller_showing_its_own_number_under_a_short_form_is_the_holder():
    registry = Registry(
        [
            {"name": "四川熊猫之旅国际旅行社有限公司", "license_no": "L-SC-CJ00058"},
            {"name": "成都锦城国际旅行社有限公司", "license_no": "L-SC-CJ00023"},
            {"name": "西安曲江文旅国际旅行社有限公司", "license_no": "L-SN-CJ00077"},
            {"name": "宁波天一旅游有限公司", "license_no": "L-ZJ-01042"},
        ]
    )
    panda, jincheng = registry.by_licence("L-SC-CJ00058"), registry.by_licence("L-SC-CJ00023")
    for name in ("熊猫之旅", "熊猫之旅旅行社", "四川熊猫之旅国旅", "闲鱼·熊猫之旅官方店"):
        assert registry.is_short_form(name, panda), name
    for name in ("锦城旅行社", "锦城国旅", "成都锦城"):
        assert registry.is_short_form(name, jincheng), name
    assert registry.is_short_form("曲江文旅", registry.by_licence("L-SN-CJ00077"))
    # Another kind of business borrowing the number is not the holder, whatever its brand.
    for name in ("熊猫之旅文化传播", "熊猫之旅国际旅游有限公司", "熊猫之旅户外俱乐部", "熊猫之旅合作门店", "锦城旅游"):
        assert not registry.is_short_form(name, panda if "熊猫" in name else jincheng), name
    # 旅行社 is not 旅游有限公司 the other way round either, nor a typo of it.
    tianyi = registry.by_licence("L-ZJ-01042")
    assert not registry.is_short_form("宁波天一旅行社", tianyi)
    typo = registry.match_name("宁波天一国际旅行社")
    assert not (typo and typo.same)
