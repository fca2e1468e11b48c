"""hits.neardup: reposts of one listing (another phone number, a price, a line added, full-width
characters) share a group; different listings do not."""

from hits import neardup

LISTING = (
    "苏州私人导游，带你深度玩狮子林、拙政园、平江路，不进店不购物。2-6人小包团，一天450元起，"
    "含讲解和七座商务车接送，门票另算也可代订，节假日需提前三天预约。预约请加微信sz1234，电话19412347203。"
)
REPOSTS = [
    LISTING.replace("19412347203", "13800001111"),  # another account's number
    LISTING.replace("450元", "480元") + "另有太湖一日游。",  # a price and a line added
    LISTING.replace("，", ",").replace("。", "."),  # half-width punctuation
]
OTHER = (
    "全新正版中小学教辅，人教版、北师大版各科同步练习册，学校统一订购，开具发票，"
    "支持新华书店渠道验证，批量订购请联系学校采购部门，本店不零售复印本或电子版。"
)


def test_reposts_are_near_and_other_listings_far():
    base = neardup.simhash("私人导游", LISTING)
    for repost in REPOSTS:
        assert neardup.distance(base, neardup.simhash("私人导游", repost)) <= neardup.MAX_DISTANCE
    assert neardup.distance(base, neardup.simhash("教辅", OTHER)) > 10
    assert neardup.simhash("", "短") != neardup.simhash("", "长")  # short texts get a hash of their own
    assert -(2**63) <= base < 2**63  # fits a BIGINT


def test_group_keeps_display_order_and_reposts_together():
    rows = [(10, neardup.simhash("教辅", OTHER)), (11, neardup.simhash("导游", LISTING)), (12, None)]
    rows += [(20 + n, neardup.simhash("导游", text)) for n, text in enumerate(REPOSTS)]
    groups = neardup.group(rows)
    assert groups[10] == 10 and groups[12] == 12  # its own group; no hash, alone
    assert {groups[i] for i in (11, 20, 21, 22)} == {11}  # the first shown represents the group


def test_many_identical_hashes_group_in_bounded_work():
    sig = neardup.simhash("导游", LISTING)
    groups = neardup.group([(i, sig) for i in range(20000)])
    assert set(groups.values()) == {0}
