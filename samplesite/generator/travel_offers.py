"""Travel offers: packages from licensed agencies and from sellers without a licence.

Unlicensed sellers come in the kinds enforcement teams meet (户外俱乐部, private guides, 黄牛/代购,
研学营) and quote their licence in four ways: not at all, a well-formed number nobody issued, a
malformed number, or a real agency's number borrowed. Labels record which.
"""

from __future__ import annotations

from samplesite.generator.common import (
    LANDMARKS,
    Context,
    date_after,
    listing_post,
    phone,
    pick,
    timestamp,
    wechat_contact,
    wechat_post,
)

ROUTES = [
    ["拙政园", "狮子林", "平江路"],
    ["虎丘", "山塘街", "留园"],
    ["盘门", "沧浪亭", "网师园", "十全街"],
    ["苏州博物馆", "拙政园", "观前街"],
    ["留园", "石路", "山塘街"],
    ["网师园", "十全街", "平江路"],
    ["虎丘", "留园", "拙政园", "观前街"],
    ["狮子林", "苏州博物馆", "平江路", "山塘街"],
]
FOODS = ["松鼠鳜鱼", "苏式汤面", "生煎包", "蟹壳黄", "酱汁肉", "桂花糖藕", "鸡头米", "碧螺虾仁", "苏式月饼"]
CLUBS = ["姑苏行者户外俱乐部", "吴门驴友户外", "苏城悦跑户外俱乐部", "江南徒步群", "古城骑行社"]
GUIDES = ["金牌导游小李", "苏州本地向导阿杰", "园林讲解员老周", "苏州地陪小美"]
SCALPERS = ["苏州门票代抢", "姑苏票务小助手", "园林代约黄牛哥"]
CAMPS = ["小小书童研学营", "江南园林少年研学社", "吴文化游学营"]
# What each kind of unlicensed seller charges (yuan per person, per day for guides).
PRICES = {
    "club": [99, 129, 150, 199, 260],
    "guide": [300, 450, 600, 800],
    "scalper": [150, 199, 260, 380],
    "camp": [1280, 2680, 3980],
}
LICENCE_PHRASES = ["旅行社业务经营许可证号：{}", "许可证编号 {}", "经营许可证：{}", "许可证号{}", "旅行社许可证 {}"]


def licensed_offer(ctx: Context, channel: str = "wechat") -> dict:
    rng = ctx.rng
    agency = pick(rng, ctx.registry.agencies)
    route, price = pick(rng, ROUTES), rng.choice([128, 168, 198, 238, 268, 298, 358, 399, 458])
    shown_no = _styled_licence(ctx, agency["license_no"])
    labels = ["travel_offer", "licensed_agency"]
    ts = timestamp(rng)
    body = _itinerary(ctx, route, price, days=rng.choice([1, 1, 1, 2]), ts=ts)
    licence = rng.choice(LICENCE_PHRASES).format(shown_no)
    paras = (
        [f"{agency['name']}官方组团，{licence}，签订正规旅游合同，全程持证导游，无强制购物。"]
        + body
        + [
            "报名须知：报名即签订《江苏省国内旅游合同》，出发前请携带身份证原件，本社已投保旅行社责任险。",
            f"报名地址：{agency['address']}；咨询电话：0512-6{rng.randint(1000000, 9999999)}。",
        ]
    )
    extra = {
        "agency": {"name": agency["name"], "license_no": agency["license_no"]},
        "licence_quoted": shown_no,
        "published_at": ts,
    }
    title = _offer_title(ctx, route, price)
    if channel == "wechat":
        acct = ctx.account(
            _short_agency(agency["name"]),
            owner=agency["name"],
            verified=True,
            signature=f"{agency['name']}官方服务号，许可证号{agency['license_no']}。",
        )
        return wechat_post(ctx, acct, title, paras, labels, places=route, **extra)
    seller = ctx.seller(_short_agency(agency["name"]) + "旅游旗舰店", "2")
    return listing_post(
        ctx,
        channel,
        seller,
        _listing_title(route, price),
        paras,
        price,
        labels,
        places=route,
        sales=f"{rng.randint(3, 900)}人付款",
        **extra,
    )


def unlicensed_offer(ctx: Context, channel: str = "wechat") -> dict:
    rng = ctx.rng
    kind = rng.choice(["club", "guide", "scalper", "camp"])
    seller_name = pick(rng, {"club": CLUBS, "guide": GUIDES, "scalper": SCALPERS, "camp": CAMPS}[kind])
    route = pick(rng, ROUTES)
    licence_text, licence_label, extra = _unlicensed_licence(ctx)
    ts = timestamp(rng)
    price = float(rng.choice(PRICES[kind]))
    paras = [p.replace("{price}", f"{price:.0f}") for p in _unlicensed_body(ctx, kind, seller_name, route, ts)]
    if licence_text:
        paras.insert(rng.randint(1, len(paras) - 1), licence_text)
    labels = ["travel_offer", "unlicensed_travel", licence_label]
    extra["published_at"] = ts
    title = _unlicensed_title(ctx, kind, route, price)
    if channel == "wechat":
        acct = ctx.account(seller_name, signature=f"{seller_name}，带你玩转苏州。")
        return wechat_post(ctx, acct, title, paras, labels, places=route, seller_kind=kind, **extra)
    seller = ctx.seller(seller_name, "3")
    listing_title = _listing_title(route, price, unlicensed=True) if kind in ("guide", "scalper") else title
    return listing_post(
        ctx,
        channel,
        seller,
        listing_title,
        paras,
        price,
        labels,
        location="江苏 苏州",
        places=route,
        seller_kind=kind,
        sales=f"{rng.randint(0, 300)}人付款",
        **extra,
    )


def _itinerary(ctx: Context, route: list[str], price: int, days: int, ts: int) -> list[str]:
    rng = ctx.rng
    first, *rest = route
    lines = [
        f"{rng.choice(['每周六', '每周日', '每天', date_after(ts, rng)])}发团，{days}天行程，{len(route)}大经典景点一次游遍。",
        f"行程安排：上午游览{first}，听导游讲解园林造园艺术；中午品尝{rng.choice(FOODS)}等苏帮菜；"
        f"下午前往{'、'.join(rest)}，傍晚自由活动。",
    ]
    if days == 2:
        lines.append(
            f"第二天：早餐后乘船游古运河，午后游览{rng.choice(LANDMARKS)}，下午返程。住宿为携程四钻酒店双人间。"
        )
    child = max(60, price - rng.choice([40, 60, 80]))
    lines.append(
        f"费用：成人{price}元/人，儿童（1.2米以下）{child}元/人，含景点首道门票、空调旅游车、导游讲解、旅游意外险；"
        "不含个人消费。"
    )
    return lines


def _unlicensed_body(ctx: Context, kind: str, seller: str, route: list[str], ts: int) -> list[str]:
    rng = ctx.rng
    date, contact, places = date_after(ts, rng), wechat_contact(rng), "、".join(route)
    food = rng.choice(FOODS)
    if kind == "club":
        return [
            f"周末约起！{seller}{date}组织{places}古城徒步+夜游，老领队带队，新人友好。",
            f"费用AA：{{price}}元/人（{rng.choice(['拼团价', '早鸟价', '老会员价'])}），包含往返大巴、景点门票、领队服务和一顿{food}午餐。满20人发车，限30人。",
            f"报名方式：加领队{contact}，转定金100元锁定名额，活动前三天不退。",
            "温馨提示：穿舒适的鞋子，自备雨具，本活动为自愿参加的户外活动。",
        ]
    if kind == "guide":
        return [
            f"我是苏州本地人，做导游十年了，可以带大家深度玩{places}，不进店不购物。",
            "2-6人小包团，一天{price}元起（含讲解+七座商务车接送，门票另算也可代订），节假日需提前三天预约。",
            f"路线可以按你的时间定制，中午带你去本地人才知道的老店吃{food}。",
            f"预约请加{contact}或电话{phone(rng)}。",
        ]
    if kind == "scalper":
        return [
            f"{route[0]}门票约不到？找我！每天都有余票，{date}之前的都能约。",
            f"门票+半天讲解+酒店接送一口价{{price}}元/人，{places}一条龙，比跟团自由，两人拼团再减20。",
            f"需要的私信{contact}，报身份证号和日期，先付款后出票，出票不退。",
        ]
    return [
        f"{seller}{date}开营：苏州园林研学营5天4晚，走进{places}，学习园林造园与吴文化。",
        "招收8-14岁学员，营费{price}元/人，含住宿（4人间）、一日三餐、景点门票、研学导师和保险。",
        "营地老师全程陪同，每晚向家长反馈孩子情况，结营颁发研学证书。",
        f"报名咨询：{contact}，名额有限，早鸟优惠截止本月底。",
    ]


def _unlicensed_licence(ctx: Context) -> tuple[str, str, dict]:
    """The licence sentence an unlicensed seller writes, its label, and record fields."""
    rng = ctx.rng
    roll = rng.random()
    if roll < 0.4:
        return "", "no_licence_number", {}
    if roll < 0.6:
        number = _unissued_number(ctx)
        return f"资质齐全，许可证号：{number}", "fake_licence_number", {"licence_quoted": number}
    if roll < 0.8:
        number = _malformed_number(ctx)
        return (
            f"正规经营，{rng.choice(['许可证', '经营许可', '旅行社许可证号'])}：{number}",
            "malformed_licence_number",
            {"licence_quoted": number},
        )
    agency = pick(rng, ctx.registry.agencies)
    text = rng.choice(
        [
            f"本团由合作旅行社出团，许可证号{agency['license_no']}，放心报名。",
            f"旅行社许可证：{agency['license_no']}（挂靠正规旅行社）",
        ]
    )
    return (
        text,
        "borrowed_licence_number",
        {
            "licence_quoted": agency["license_no"],
            "agency": {"name": agency["name"], "license_no": agency["license_no"]},
        },
    )


def _unissued_number(ctx: Context) -> str:
    issued = ctx.registry.licence_numbers()
    while True:
        number = f"L-JS-{ctx.rng.choice(['CJ', 'GJ'])}{ctx.rng.randint(100, 1999):05d}"
        if number not in issued:
            return number


def _malformed_number(ctx: Context) -> str:
    rng = ctx.rng
    real = pick(rng, ctx.registry.agencies)["license_no"]
    digits = real[-5:]
    return rng.choice(
        [
            f"L-JS-CJ{digits[1:]}",
            f"LJS-CJ{digits}",
            f"L-JS-CJ{digits}{rng.randint(0, 9)}",
            f"L-SJ-CJ{digits}",
            f"苏旅许字（2021）第{rng.randint(10, 400)}号",
            f"JS-L-{digits}",
        ]
    )


def _styled_licence(ctx: Context, number: str) -> str:
    """The registered number as sellers type it: mostly plain, sometimes full-width or with odd dashes."""
    roll = ctx.rng.random()
    if roll < 0.75:
        return number
    if roll < 0.88:
        return number.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    return number.replace("-", ctx.rng.choice(["—", "－", "–"]))


def _short_agency(name: str) -> str:
    for suffix in (
        "国际旅行社有限公司",
        "青年旅行社有限公司",
        "旅行社有限责任公司",
        "旅行社有限公司",
        "国际旅游有限公司",
    ):
        name = name.replace(suffix, "")
    return name + "旅游"


def _offer_title(ctx: Context, route: list[str], price: int) -> str:
    return ctx.rng.choice(
        [
            f"{'+'.join(route)}一日游，{price}元纯玩团报名中",
            f"【周末出发】苏州古城经典线路：{'、'.join(route)}",
            f"跟着导游游{route[0]}｜{price}元含门票，正规合同团",
            f"秋季特惠｜{route[0]}·{route[-1]}精品小团",
        ]
    )


def _unlicensed_title(ctx: Context, kind: str, route: list[str], price: float) -> str:
    return {
        "club": f"周末活动｜{route[0]}+{route[-1]}古城徒步，AA{price:.0f}元",
        "guide": f"苏州私人导游，带你深度玩{route[0]}，{price:.0f}元/天",
        "scalper": f"{route[0]}门票代约+讲解，一口价{price:.0f}",
        "camp": f"{route[0]}园林研学营招生啦（5天4晚）",
    }[kind]


def _listing_title(route: list[str], price: float, unlicensed: bool = False) -> str:
    tail = "私人定制 本地导游 包车" if unlicensed else "纯玩0购物 含门票 正规旅行社"
    return f"苏州一日游 {'+'.join(route)} {tail}"
