"""Posts that have nothing to enforce: food, events, neighbourhood news and second-hand goods.

They name the same streets and landmarks as the offers, so keyword search alone cannot tell them apart.
"""

from __future__ import annotations

from samplesite.generator.common import (
    LANDMARKS,
    STREETS,
    Context,
    date_after,
    listing_post,
    pick,
    timestamp,
    wechat_post,
)
from samplesite.generator.travel_offers import FOODS

LOCAL_ACCOUNTS = ["姑苏生活圈", "苏州美食探店", "平江路小事", "苏城周末", "吴门桥社区"]
GOODS = [
    ("九成新山地自行车", 450),
    ("宝宝推车 可折叠", 180),
    ("实木书桌", 300),
    ("空气炸锅 用过三次", 120),
    ("吉他 初学者", 260),
    ("电动车电池", 350),
    ("猫爬架", 80),
    ("二手显示器 27寸", 520),
]


def food_post(ctx: Context, channel: str = "wechat") -> dict:
    rng = ctx.rng
    place, food = pick(rng, LANDMARKS), pick(rng, FOODS)
    shop = rng.choice(["同得兴", "朱鸿兴", "哑巴生煎", "黄天源", "采芝斋", "一家无名小店"])
    paras = [
        f"{place}附近的{shop}，{food}是招牌，早上七点开门就有人排队。",
        f"人均{rng.randint(18, 120)}元，{rng.choice(['汤头浓郁', '皮薄馅大', '甜而不腻', '火候刚好'])}，本地阿姨天天来。",
        rng.choice(["周一店休，去之前看一下。", "不接受预订，只能现场排队。", "停车不方便，建议坐地铁。"]),
    ]
    title = rng.choice(
        [
            f"{place}这家{food}，苏州人吃了三十年",
            f"探店｜{shop}的{food}到底值不值得排队？",
            f"在{place}吃到了今年最好吃的{food}",
        ]
    )
    return wechat_post(ctx, ctx.account(pick(rng, LOCAL_ACCOUNTS)), title, paras, ["unrelated"], places=[place])


def event_post(ctx: Context, channel: str = "wechat") -> dict:
    rng = ctx.rng
    ts = timestamp(rng)
    street = pick(rng, STREETS)
    kind = rng.choice(["market", "run", "volunteer", "traffic", "school"])
    day = date_after(ts, rng, 2, 15)
    title, paras = {
        "market": (
            f"{day}，{street}周末市集来啦",
            [
                f"{day}上午九点，{street}文化广场举办周末市集，手作、花艺、咖啡摊位三十余个。",
                "免费入场，欢迎带娃参加，现场还有非遗剪纸体验。",
            ],
        ),
        "run": (
            "古城环城跑报名开启",
            [f"{day}早上七点鸣枪，全程10公里，沿护城河一圈。", "报名费80元，含完赛奖牌和T恤，名额2000个。"],
        ),
        "volunteer": (
            f"{street}招募社区志愿者",
            ["社区垃圾分类督导志愿者招募中，每周两次，每次两小时。", "参与满20小时可获得志愿服务证明。"],
        ),
        "traffic": (
            f"{day}起{street}部分道路交通管制",
            ["因管线施工，相关路段实行单向通行，请绕行。", "公交线路临时调整，详见公交公司公告。"],
        ),
        "school": (
            "秋季学期开学通知",
            [f"{street}中心小学{day}正式开学，新生报到请携带户口簿。", "开学第一周中午12点放学。"],
        ),
    }[kind]
    acct = ctx.account(pick(rng, LOCAL_ACCOUNTS))
    return wechat_post(ctx, acct, title, paras, ["unrelated"], published_at=ts)


def secondhand_goods(ctx: Context) -> dict:
    rng = ctx.rng
    goods, base = pick(rng, GOODS)
    price = round(base * rng.uniform(0.7, 1.2))
    place = pick(rng, STREETS)
    paras = [f"{goods}，搬家出，成色很好。", f"{place}附近自提，{price}元不议价。"]
    seller = ctx.seller(rng.choice(["搬家清仓的小王", "苏州宝妈", "毕业生甩卖", "热心市民陈先生"]), "7")
    return listing_post(ctx, "goofish", seller, goods, paras, price, ["unrelated"], location="苏州 姑苏区")
