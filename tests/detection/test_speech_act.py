"""The speech act of a post: a seller offering, a writer recounting or asking, an authority warning,
a victim complaining. One case per genre, and the sentences inside an offer that are not the offer."""

import pytest

from detection import speech_act
from detection.keywords import Matcher, load_library
from detection.signals import collect


@pytest.fixture(scope="module")
def matcher():
    return Matcher(load_library())


def read(matcher, title="", text="", source_name="", platform="note", price=None):
    post = {"title": title, "text": text, "source_name": source_name, "platform": platform, "price": price}
    signals = collect(post, matcher)
    signals.act = speech_act.read(signals)
    return signals.act, signals


def counted_words(signals, category):
    return {f.text[m.start : m.end] for f, m in signals.offered(category)}


# ------------------------------------------------------------------ offers


def test_a_terse_listing_is_an_offer(matcher):
    act, _ = read(matcher, "武侯祠+锦里 讲解+带路 150", "武侯祠讲解 2小时 带逛锦里 150 一个团最多6人", platform="shop")
    assert act.act == "offer" and act.speaker == "seller" and act.factor == 1.0


def test_a_call_to_the_reader_is_an_offer_whatever_else_the_post_says(matcher):
    act, _ = read(
        matcher,
        "周末去哪？跟我们去武隆！",
        "周六出发 天坑+地缝 含车含门票 一人258 还有6个位置 想来的评论区扣1",
    )
    assert act.act == "offer"
    code, text = act.reason()
    assert code == "act_offer" and "扣1" in text


def test_terms_of_sale_outweigh_one_genre_word(matcher):
    act, _ = read(matcher, "九寨沟三日游攻略+行程", "九寨沟黄龙三日 含车含住含门票 699/人 每天发团", price=699)
    assert act.act == "offer"


def test_a_rhetorical_question_in_a_priced_ad_is_not_a_question(matcher):
    act, _ = read(
        matcher,
        "想要纸质书但太贵？",
        "把网上的PDF发给我们，胶装成册！A4胶装一本20元起",
        source_name="某打印店",
    )
    assert act.act == "offer"


def test_a_long_text_with_its_sale_at_the_end_is_an_offer_from_there_on(matcher):
    body = "读书这件事，最怕的是读了很多却什么也没留下。今年我重读了五本书，想和你们聊聊一日游般轻松的阅读。" * 6
    text = body + "\n——\n最后，这五本的电子版我整理成了网盘合集，打包9.9元，需要的朋友加我微信 yedu_shufang"
    act, signals = read(matcher, "这五本书，改变了我看世界的方式", text, source_name="夜读书房")
    assert act.act == "offer" and act.offer_from is not None and act.offer_from > len(body) * 0.9
    assert "一日游" not in counted_words(signals, "tour_product")  # the innocent body is not the offer
    assert "网盘" in counted_words(signals, "ebook_resale")
    assert "长文末尾" in act.reason()[1]


# ------------------------------------------------------------------ mentions (a writer recounting, advising, asking)


def test_a_diary_that_joined_a_licensed_tour_and_warns_about_touts_is_a_mention(matcher):
    text = (
        "这次来重庆一共五天。前两天我们报了一家老牌旅行社的武隆两日游，签了合同，人均1180，整体很满意。"
        "朝天门码头附近有很多拉客的，说什么三峡一日游一百块全包，千万别理。想跟团的一定找有许可证的旅行社。以上，仅供参考。"
    )
    act, _ = read(matcher, "重庆五日行记：跟团两天，自由行三天", text, source_name="山城老饕", platform="forum")
    assert act.act == "mention" and act.speaker == "writer" and act.factor < 0.5
    assert act.reason()[0] == "act_mention"


def test_a_travel_guide_advising_readers_is_a_mention(matcher):
    text = "武隆一日游价格从198到398都有。建议大家报名前问清楚费用包含什么，最好签电子合同。"
    act, _ = read(matcher, "武隆天坑攻略｜一日游怎么选不踩坑", text, source_name="小鹿爱旅行")
    assert act.act == "mention"


def test_a_forum_question_about_joining_a_tour_is_a_mention(matcher):
    text = "爸妈快七十了，想让他们跟团坐游轮走三峡。有的说加微信就能报名交定金。想问下大家，报名要注意什么？"
    act, _ = read(matcher, "想带爸妈跟团去三峡，怎么报名比较稳妥？", text, source_name="贴吧用户", platform="forum")
    assert act.act == "mention" and act.genre == "提问"


def test_a_review_is_a_mention(matcher):
    text = "读完《活着》哭了一晚上。有人问我要电子版，不好意思我不分享盗版，大家可以在微信读书看正版。"
    act, _ = read(matcher, "《活着》读后感", text, source_name="读书笔记君")
    assert act.act == "mention" and act.genre == "书评或测评"


def test_a_diary_quoting_a_touts_offer_does_not_make_it_the_posters(matcher):
    text = "磁器口门口有很多举牌子的，喊着“一日游80元 含车含导游 私我”，别理他们。中午吃了毛血旺，一天花了不到200。"
    act, signals = read(matcher, "洪崖洞到磁器口一日自由行路线", text, source_name="网友北风", platform="forum")
    assert act.act == "mention"
    assert act.quoted("text", text.index("一日游"))
    assert not counted_words(signals, "tour_product")


# ------------------------------------------------------------------ complaints


def test_a_victims_complaint_about_a_cheap_tour_is_a_complaint(matcher):
    text = (
        "上周报了个99元的三峡一日游，说是含船票含午餐。结果导游让补200，下午拉去玉器店，不买不让走。"
        "我已经打了12345投诉。"
    )
    act, _ = read(matcher, "99元三峡游 结果被拉去买玉", text, source_name="气到失眠", price=99)
    assert act.act == "complaint" and act.speaker == "victim" and act.factor < 0.5
    assert act.reason()[0] == "act_complaint"


def test_a_victim_exposing_the_scammers_contact_is_a_complaint(matcher):
    text = "九寨沟一日游说好含门票含车，结果到了让我们自己买门票。\n这个骗子的微信：jzg_travel88\n大家千万别信！"
    act, _ = read(matcher, "避雷这家！九寨沟一日游骗子", text, source_name="被骗的阿花")
    assert act.act == "complaint"


def test_a_buyer_who_got_a_pirated_book_is_not_selling_it(matcher):
    text = "在某多多买的9.9一套四大名著，到手纸张很薄，错字连篇，明显是盗版。商家链接我就不放了，大家别贪便宜。"
    act, _ = read(matcher, "9.9一套的四大名著 别买", text, source_name="买书踩雷")
    assert act.act in ("complaint", "mention") and not act.is_offer


# ------------------------------------------------------------------ warnings (an authority warning, ruling, reporting)


def test_an_operators_notice_telling_tour_groups_to_contact_their_agency_is_a_warning(matcher):
    text = "受大雾影响，今日朝天门至磁器口航线暂停运营。已购票的散客可办理退票；旅游团队请联系所属旅行社调整行程。"
    act, _ = read(matcher, "关于因大雾暂停部分航班的通知", text, source_name="重庆长江轮渡公司", platform="wechat")
    assert act.act == "warning" and act.speaker == "authority"
    assert act.reason()[0] == "act_warning"


def test_a_museum_announcement_is_a_warning(matcher):
    text = (
        "本馆提供官方人工讲解，收费按物价部门核定执行。本馆未授权任何个人在馆外招揽讲解业务。"
        "旅游团队讲解请联系所属旅行社。"
    )
    act, _ = read(matcher, "关于讲解服务的公告", text, source_name="三星堆博物馆", platform="web")
    assert act.act == "warning"


def test_a_scenic_areas_rules_for_visitors_are_a_warning(matcher):
    text = "景区实行实名预约，门票125元；旅游团队请由导游统一办理入园；景区内严禁无证人员有偿带客讲解。"
    act, _ = read(matcher, "游客须知", text, source_name="武隆喀斯特旅游区", platform="web")
    assert act.act == "warning"


def test_a_school_letter_against_pirated_workbooks_is_a_warning(matcher):
    text = "各位家长：近期有人在家长群推销“平替版”“复印版”教辅，实为盗版。请通过正规书店购买，不要向个人购买。"
    act, _ = read(matcher, "致全体家长的一封信", text, source_name="重庆市第一中学校", platform="wechat")
    assert act.act == "warning" and "不要向个人购买" in act.reason()[1]


def test_a_librarys_photocopy_rules_are_a_warning(matcher):
    text = "本馆提供复印服务，0.15元/页。复印馆藏图书不得超过全书三分之一，禁止整本复印，复印件不得出售。"
    act, _ = read(matcher, "复印服务须知", text, source_name="重庆大学图书馆", platform="web")
    assert act.act == "warning"


def test_enforcement_news_quoting_an_offer_is_a_warning(matcher):
    text = "近日，执法人员查处一起案件，当事人发布“熊猫基地一日游，每人168元，含车、门票、导游”等信息，被依法罚款。"
    act, _ = read(matcher, "执法动态｜查处一起非法一日游案", text, source_name="某区融媒体中心", platform="web")
    assert act.act == "warning"


# ------------------------------------------------------------------ sentences inside an offer


def test_a_warning_inside_an_offer_is_not_part_of_the_offer(matcher):
    text = "官网约不上的找我！\n兵马俑门票+讲解+往返车 一人180\n别在景区门口找黄牛 我这个靠谱"
    act, signals = read(matcher, "兵马俑门票+讲解", text, source_name="票务小马", platform="shop")
    assert act.act == "offer"
    assert "黄牛" not in counted_words(signals, "private_guide")
    assert "门票" in {
        signals.fields[1].text[m.start : m.end] for _, pairs in signals.components().items() for _, m in pairs
    }


def test_a_story_of_paying_a_deposit_is_not_a_term_of_sale(matcher):
    story, _ = read(
        matcher, "泰国游", "我们上个月交了500定金，结果出发前一周人联系不上了，现在怎么办", source_name="网友"
    )
    assert story.act != "offer"
    offer, _ = read(matcher, "泰国6日", "定金500锁位 尾款出发前付清", source_name="樱花小团")
    assert offer.act == "offer"


def test_acts_of_posts_without_text_are_offers_by_default(matcher):
    act, _ = read(matcher)
    assert act.act == "offer" and act.sentences == []
