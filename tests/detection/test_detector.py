"""The Detector interface the crawl pipeline calls, and the registry decisions behind the label."""

import pytest

from detection import Detector

AGENCIES = [
    {
        "name": "苏州中国青年旅行社有限公司",
        "license_no": "L-JS-CJ00017",
        "address": "苏州市姑苏区十全街311号",
        "lon": 120.63,
        "lat": 31.295,
    }
]
TOUR = "拙政园+狮子林一日游，含往返大巴、门票、导游，168元/人，报名加微信 tour_2024"


@pytest.fixture(scope="module")
def detector():
    return Detector.from_records(AGENCIES)


def _codes(result):
    return {r["code"] for r in result["reasons"]}


def test_result_has_exactly_the_agreed_shape(detector):
    result = detector.classify({"id": "1", "title": "纯玩一日游", "text": TOUR, "source_name": "姑苏户外"})
    assert set(result) == {"labels", "scores", "reasons", "location"}
    assert set(result["scores"]) == {"unlicensed_travel", "illegal_publication"}
    assert all(0.0 <= v <= 1.0 for v in result["scores"].values())
    assert set(result["location"]) == {"name", "lon", "lat", "grid_code", "grid_id", "level", "matched"}
    for reason in result["reasons"]:
        assert set(reason) == {"label", "code", "text", "spans", "field"}
        assert reason["field"] in ("title", "text")


def test_spans_point_into_the_named_field(detector):
    post = {"title": "出售盜版書 全套", "text": "高清彩印 非原版 纸张略薄，29元包邮", "source_name": "闲鱼"}
    result = detector.classify(post)
    assert result["labels"] == ["illegal_publication"]
    highlighted = [post[r["field"]][s:e] for r in result["reasons"] for s, e in r["spans"]]
    assert "盜版書" in highlighted and "非原版" in highlighted


def test_same_tour_differs_only_by_who_sells(detector):
    licensed = detector.classify({"title": "一日游", "text": TOUR + " 许可证L-JS-CJ00017", "source_name": "苏州青旅"})
    borrowed = detector.classify(
        {"title": "一日游", "text": TOUR + " 许可证L-JS-CJ00017", "source_name": "姑苏驴友俱乐部"}
    )
    assert licensed["labels"] == [] and "licensed_agency" in _codes(licensed)
    assert borrowed["labels"] == ["unlicensed_travel"] and "licence_held_by_other" in _codes(borrowed)


@pytest.mark.parametrize(
    "licence, code",
    [
        ("L-JS-CJ00999", "licence_not_in_registry"),
        ("L-JS-CJ0017", "malformed_licence"),
        ("91320508MA1XK3L45Q", "malformed_licence"),
        ("", "no_licence"),
    ],
)
def test_registry_outcomes_are_reasons(detector, licence, code):
    text = TOUR + (f" 旅行社许可证：{licence}" if licence else "")
    result = detector.classify({"title": "一日游", "text": text, "source_name": "苏城旅游"})
    assert result["labels"] == ["unlicensed_travel"] and code in _codes(result)


def test_near_miss_names_the_close_registry_number(detector):
    result = detector.classify({"title": "一日游", "text": TOUR + " 许可证L-JS-CJ00018", "source_name": "苏城旅游"})
    [reason] = [r for r in result["reasons"] if r["code"] == "licence_not_in_registry"]
    assert "L-JS-CJ00017" in reason["text"]


def test_hard_negatives(detector):
    for post in (
        {"title": "苏州两日游攻略", "text": "分享我们的路线，住观前街酒店一晚400，门票80元，人均800，推荐给大家"},
        {
            "title": "消费提示",
            "text": "文旅局提醒：警惕朋友圈198元纯玩一日游，含门票导游，报名加微信的广告，谨防上当",
            "source_name": "苏州市文化广电和旅游局",
        },
        {"title": "观前街酒店", "text": "大床房每晚298元含双早，可提前预订", "source_name": "某酒店"},
        {"title": "扫黄打非", "text": "护苗专项行动查获盗版教辅3000余册，依法收缴销毁"},
        {"title": "二手书", "text": "1983年版红楼梦，统一书号 10019·1234，品相九成，120元"},
    ):
        assert detector.classify(post)["labels"] == [], post["title"]


def test_bad_and_odd_input_does_not_crash(detector):
    for post in (
        {},
        {"title": None, "text": 123, "price": "abc"},
        {"text": "😀" * 1000},
        {"title": "盗版" * 100_000, "text": "x"},
        {"text": "\x00\ud800 混合 mixed ｆｕｌｌ"},
    ):
        result = detector.classify(post)
        assert set(result["scores"]) == {"unlicensed_travel", "illegal_publication"}
    with pytest.raises(TypeError):
        detector.classify("not a dict")


def test_from_config_on_empty_and_missing_database(cfg, tmp_path):
    from tests.conftest import make_config

    result = Detector.from_config(cfg).classify({"title": "杭州一日游", "text": TOUR})
    assert result["labels"] == ["unlicensed_travel"] and result["location"]["level"] == "city"
    missing = make_config(tmp_path / "other")
    assert len(Detector.from_config(missing).registry) == 0
    assert not (tmp_path / "other" / "var" / "wangxun.db").exists()


def test_from_config_is_cached_until_agencies_change(cfg, session):
    from tests.helpers import make_agency

    first = Detector.from_config(cfg)
    assert Detector.from_config(cfg) is first
    make_agency(session, name="苏州测试国际旅行社有限公司", licence_no="L-JS-CJ00001")
    session.commit()
    second = Detector.from_config(cfg)
    assert second is not first and len(second.registry) == 1


def test_threshold_comes_from_config(tmp_path):
    from core import db
    from tests.conftest import make_config

    strict = make_config(tmp_path, **{"detect.threshold_unlicensed_travel": 0.99})
    db.upgrade(strict)
    try:
        result = Detector.from_config(strict).classify({"title": "一日游", "text": TOUR})
        assert result["labels"] == [] and result["scores"]["unlicensed_travel"] > 0.5
    finally:
        db.dispose(strict)


def test_priced_bundle_without_tour_words_reaches_the_registry(detector):
    post = {
        "title": "太湖两天",
        "text": "民宿一晚+游船+向导，两人860，资质：苏ICP备2023011234号",
        "source_name": "湖边小院",
    }
    result = detector.classify(post)
    assert result["labels"] == ["unlicensed_travel"] and "malformed_licence" in _codes(result)
    borrowed = detector.classify(
        {"title": "太湖两天", "text": "民宿一晚+游船+向导，两人860，许可证L-JS-CJ00017", "source_name": "湖边小院"}
    )
    assert "licence_held_by_other" in _codes(borrowed) and borrowed["labels"] == ["unlicensed_travel"]


def test_negations_drop_offs_and_notices_are_not_offers(detector):
    for text, title in (
        ("高铁站接站送到酒店，每单150，只管接送不带玩", "接站服务"),
        ("园林门票在官方小程序买就行，千万别在门口找黄牛，成人票70", "门票怎么买"),
        ("即日起实行实名预约入园，旅行团请由导游统一预约购票，散客可在小程序购买", "预约入园公告"),
    ):
        result = detector.classify({"title": title, "text": text, "source_name": "路人甲"})
        assert "unlicensed_travel" not in result["labels"], text


def test_seats_left_outweigh_a_diary_opener(detector):
    text = "上次去的朋友都说好，本周六太湖一日游 车费门票午饭全包 158元/人 还剩五个位子"
    result = detector.classify({"title": "周六太湖", "text": text, "source_name": "老陈（朋友圈）"})
    assert result["labels"] == ["unlicensed_travel"]


def test_agency_staff_taking_private_orders_is_not_the_agency(detector):
    text = "我是苏州青旅的导游，接私单比门店便宜：车+住+讲解 450/人，钱直接付到我个人微信"
    result = detector.classify({"title": "周庄两日", "text": text, "source_name": "苏州青旅小李"})
    assert result["labels"] == ["unlicensed_travel"] and "private_order" in _codes(result)
    staff = detector.classify(
        {"title": "周庄一日游", "text": TOUR + " 许可证L-JS-CJ00017", "source_name": "苏州青旅小李"}
    )
    assert staff["labels"] == []


def test_publication_price_comparison_and_paired_signals(detector):
    compared = detector.classify(
        {"title": "考研数学全套", "text": "高清彩印，正版要六百多，我这里全套10本60元，私聊", "source_name": "学长书铺"}
    )
    assert compared["labels"] == ["illegal_publication"] and "genuine_channel" not in _codes(compared)
    paired = detector.classify(
        {"title": "哈利波特 全套", "text": "非原版，印刷还行，全套7本35", "price": 35, "source_name": "闲鱼"}
    )
    assert paired["labels"] == ["illegal_publication"]
    burned = detector.classify(
        {"title": "老磁带转CD", "text": "邓丽君磁带转录成CD，自制光盘，一张8元", "source_name": "怀旧小铺"}
    )
    assert burned["labels"] == ["illegal_publication"]
    platform = detector.classify(
        {"title": "电子书会员", "text": "正版授权电子书会员，十万本随心读，年卡198元", "source_name": "某读书App"}
    )
    assert platform["labels"] == []


def test_itemised_costs_and_venues_own_services_are_not_bundles(detector):
    diary = detector.classify(
        {
            "title": "周末黄山花费",
            "source_name": "旅行小白",
            "text": "两个人黄山两天，高铁票400，住宿300，门票380，吃饭200，人均650左右",
        }
    )
    assert diary["labels"] == []
    venue = detector.classify(
        {"title": "讲解服务", "text": "门票+讲解 每人40元，请提前预约", "source_name": "某某故居"}
    )
    assert venue["labels"] == []


def test_the_accounts_registered_subject_is_the_seller(detector):
    post = {"title": "周庄一日游", "text": TOUR, "source_name": "古镇周末游", "platform": "wechat"}
    assert detector.classify(post)["labels"] == ["unlicensed_travel"]
    agency = detector.classify({**post, "account_subject": "苏州中国青年旅行社有限公司"})
    assert agency["labels"] == [] and "licensed_agency" in _codes(agency)
    short = detector.classify({**post, "account_subject": "苏州青旅"})
    assert short["labels"] == []
    # An account named like the agency but registered to another company is that company.
    lookalike = detector.classify({**post, "source_name": "苏州青旅", "account_subject": "苏州某某文化传播有限公司"})
    assert lookalike["labels"] == ["unlicensed_travel"]
    borrowed = detector.classify(
        {**post, "text": TOUR + " 许可证L-JS-CJ00017", "account_subject": "苏州某某文化传播有限公司"}
    )
    assert "licence_held_by_other" in _codes(borrowed)
    # A person's name as the subject says nothing about an agency: the account name decides.
    staff = detector.classify({**post, "source_name": "苏州青旅小李", "account_subject": "李明"})
    assert staff["labels"] == []


def test_a_short_form_showing_its_own_licence_is_cleared():
    detector = Detector.from_records([{"name": "苏州熊猫之旅国际旅行社有限公司", "license_no": "L-JS-CJ00555"}])
    post = {"title": "周庄一日游", "text": TOUR + " 许可证L-JS-CJ00555"}
    for seller in ("熊猫之旅", "熊猫之旅旅行社", "闲鱼·熊猫之旅"):
        result = detector.classify({**post, "source_name": seller})
        assert result["labels"] == [] and "licensed_agency" in _codes(result), seller
    for seller in ("熊猫之旅文化传播", "熊猫之旅国际旅游"):
        result = detector.classify({**post, "source_name": seller})
        assert result["labels"] == ["unlicensed_travel"] and "licence_held_by_other" in _codes(result), seller


@pytest.mark.parametrize(
    "title, text, price, code",
    [
        ("5万本电子书 1.99", "5万本电子书合集 epub+pdf 拍下秒发 永久有效", 1.99, "ebook_resale"),
        ("《肖秀荣1000题》PDF 免费送", "完整PDF 关注+点赞 私信我“1000”自动发你网盘", None, "ebook_resale"),
        ("什么书都能找", "教材 专业书 你说书名我来找 找到发你电子版 5块一本 找不到不收钱", 5, "copy_service"),
        ("线性代数 打印装订", "PDF打印装订 线代复旦版 A4 胶装 12元一本", 12, "print_copy"),
        ("米小圈上学记 全套32册 全新", "全套32册 全新 出版社库存尾货 批量进 39.9包邮", 39.9, "cheap_complete_set"),
        ("三体 全套3册 全新 6.9元", "三体全集 1-3册 全新未拆 6.9元 手慢无", 6.9, "cheap_complete_set"),
        ("新概念英语 全4册", "不是出版社授权的影印 内容跟正版一样 四本38包邮", 38, "piracy_terms"),
        ("史记 全10册", "据中华书局本扫描重印 锁线装订 共10册 380元", 380, "piracy_terms"),
        ("教师职称论文 省级增刊", "省级期刊增刊 1个月见刊 版面费1200 可开录用通知", 1200, "illegal_periodical"),
        ("内刊快速发表", "《西南教育论坛》内刊，每月出刊，800元一篇，一周录用", 800, "illegal_periodical"),
        ("我自己印的诗集开售", "写了十年诗，自己印了一本诗集，没有书号，签名本38元", 38, "no_isbn"),
    ],
)
def test_publications_a_single_proven_signal_labels(detector, title, text, price, code):
    result = detector.classify({"title": title, "text": text, "price": price, "source_name": "某店"})
    assert result["labels"] == ["illegal_publication"] and code in _codes(result), result["reasons"]


@pytest.mark.parametrize(
    "title, text, source_name",
    [
        (
            "电子课本在哪下？别花冤枉钱",
            "国家中小学智慧教育平台上所有教材都能免费下载PDF。网上卖电子课本的千万别买。",
            "数学老师小唐",
        ),
        ("读者证可免费阅读百万电子书", "持读者证可免费阅读、下载超星电子书，请勿批量下载或转发传播。", "重庆图书馆"),
        (
            "《大学物理》配套资源下载说明",
            "购买本书的读者可刮开封底二维码，免费下载配套课件、习题答案PDF。",
            "重庆大学出版社",
        ),
        ("《道德经》全文 免费下载", "《道德经》原文 公版古籍 带拼音注音 PDF 免费下载", "国学小站"),
        (
            "水浒传 1975年 全三册",
            "人民文学出版社1975年版 统一书号10019·2231 没有ISBN很正常 八品 150元",
            "孔夫子·老书虫",
        ),
        ("我的读书笔记 PDF", "自己做的读书笔记，免费送，评论区留邮箱", "学习打卡"),
        ("周杰伦 范特西 正版CD", "正版CD 全新塑封 官方授权 收录10首歌曲 89元", "淘宝·唱片行"),
        ("《深度学习入门》电子书 PDF版", "本社电子书PDF版正式发售，官网购买39元，购买后下载。", "电子工业出版社"),
        ("我自己写的教案 电子版", "我自己写的小学语文教案 电子版word 19.9 拍下发邮箱", "语文老师小周"),
    ],
)
def test_lawful_sources_of_the_same_words_are_not_hits(detector, title, text, source_name):
    result = detector.classify({"title": title, "text": text, "source_name": source_name})
    assert "illegal_publication" not in result["labels"], result["reasons"]


def test_a_tour_that_hands_out_photocopies_of_a_guidebook_carries_both_labels(detector):
    post = {
        "title": "太湖一日游 送导游图册复印本",
        "text": "太湖一日游 含车、门票、午餐 158/人 报名送《太湖旅游图册》（出版社那本）复印本一份 私我",
        "price": 158,
        "source_name": "湖边老陈",
    }
    result = detector.classify(post)
    assert result["labels"] == ["unlicensed_travel", "illegal_publication"]
    assert {r["label"] for r in result["reasons"]} == {"unlicensed_travel", "illegal_publication"}


def test_diaries_complaints_questions_and_notices_are_not_offers(detector):
    for title, text, source_name in (
        (
            "苏州三日行记",
            "我们报了苏州青旅的周庄一日游，签了合同，人均168，很满意。观前街有人拉客说一日游99全包，千万别理。仅供参考。",
            "游记作者阿May",
        ),
        (
            "99元一日游 我被坑了",
            "上周报了个99元一日游，说含门票含午餐，结果拉去买玉，不买不让走，已打12345投诉。",
            "气到失眠",
        ),
        (
            "想带爸妈跟团去周庄，怎么报名稳妥？",
            "网上很多团，有的说加微信就能报名交定金，想问下要注意什么？",
            "贴吧用户",
        ),
        ("关于大雾停航的通知", "今日太湖游船航线暂停运营；旅游团队请联系所属旅行社调整行程。", "太湖游船公司"),
    ):
        result = detector.classify({"title": title, "text": text, "source_name": source_name})
        assert result["labels"] == [], title
        assert not {"act_offer"} & _codes(result), title
