"""Travel content that sells no package: diaries and 攻略, scenic-area notices, hotel-only and
ticket-only offers. They share the vocabulary of the offers, which is what makes them hard."""

from __future__ import annotations

from samplesite.generator.common import (
    LANDMARKS,
    STREETS,
    Context,
    date_after,
    listing_post,
    pick,
    street_of,
    timestamp,
    wechat_contact,
    wechat_post,
)
from samplesite.generator.travel_offers import FOODS, ROUTES

BLOGGERS = ["苏州吃喝玩乐指南", "一只爱旅行的猫", "周末去哪儿·苏州", "慢游江南", "背包客小安", "姑苏漫步手记"]
SCENIC_ACCOUNTS = {
    "拙政园": "拙政园管理处",
    "虎丘": "虎丘山风景名胜区",
    "苏州博物馆": "苏州博物馆",
    "留园": "留园管理处",
    "盘门": "盘门景区",
    "山塘街": "山塘历史文化街区",
}
# How a dish is ordered, so a diary says 一碗面 but 一份鳜鱼.
FOOD_PORTIONS = {
    "苏式汤面": "一碗",
    "生煎包": "一两",
    "蟹壳黄": "两个",
    "酱汁肉": "一块",
    "鸡头米": "一碗",
    "桂花糖藕": "一盘",
    "松鼠鳜鱼": "一条",
    "碧螺虾仁": "一盘",
    "苏式月饼": "两只",
}
HOTELS = ["平江客栈", "花间堂·探花府", "山塘人家民宿", "十全街精品酒店", "观前街亚朵酒店", "留园小筑民宿"]
DIARY_OPENINGS = [
    "这次国庆没敢去人挤人的大景点，选了一条小众路线，整体体验很好，记录一下给后来的朋友参考。",
    "第三次来苏州了，每次都有新发现。这篇就当是我的私人攻略，不含任何广告。",
    "带爸妈来苏州玩了两天，节奏很慢，老人家说比上次跟团舒服多了。",
    "下雨天的苏州真的太有味道了，撑把伞走在巷子里，整个人都安静下来。",
]
DIARY_TIPS = [
    "门票建议提前在官方小程序预约，节假日基本提前三天就约满了，千万别找黄牛。",
    "交通：地铁1号线、4号线基本能到各个景点，古城里骑共享单车最方便。",
    "住宿推荐住在平江路或者观前街附近，晚上出来逛很方便，价格比景区里面便宜。",
    "园林建议早上八点开门就进去，人少光线好，拍照不用排队。",
    "有同事报了旅行社的一日游，行程很赶，我更推荐自由行，慢慢逛。",
]

DIARY_MORE = [
    "苏州的园林讲究“移步换景”，同样一处假山，从不同的窗子看过去完全是两种景致。第一次来的朋友不要走太快，"
    "在每个亭子里坐一坐，看看对面的景，才能体会到造园的人花的心思。",
    "关于吃：苏帮菜偏甜，松鼠鳜鱼、响油鳝糊、樱桃肉都值得一试。早上一定要吃一碗头汤面，焖肉面和爆鱼面是经典，"
    "浇头可以多点几样。下午茶可以去平江路上的茶馆，点一壶碧螺春配几块苏式糕点。",
    "关于住：古城里的民宿很多，但旺季价格会翻倍，建议提前两周订。住在地铁站附近最省心，晚上回来也安全。",
    "关于时间：春天看花，秋天看银杏和桂花，冬天人最少，园林里下雪的时候美得不像话，就是有点冷。",
    "关于讲解：园林里的故事很多，没有讲解只能看个热闹。景区门口有官方讲解员，按团收费，"
    "也可以租讲解器。门口拉客的“导游”我们一律没理，听说有人被带去买了高价的丝绸和茶叶。",
    "最后说一句：苏州不大，但值得一去再去。每次来都走不同的小巷，总能遇到让人惊喜的小店和老房子。",
    "平江路是古城里保存得最完整的一条老街，河街并行，小桥一座接一座。主路上游客多，拐进两边的巷子，"
    "才是真正的老苏州：晾衣竿、老虎灶、门口择菜的阿婆，一下子就安静了。",
    "山塘街号称“七里山塘”，从阊门一直通到虎丘。前面一段商业味比较重，往虎丘方向多走一段，"
    "人少了很多，沿河的老房子也更有味道，傍晚坐船走一趟很舒服。",
    "虎丘的云岩寺塔是斜的，已经斜了几百年。剑池、千人石这些地方都有传说，带孩子去的话提前讲讲故事，"
    "他们会更有兴趣。山不高，老人也能轻松走完。",
]


def diary(ctx: Context, channel: str = "wechat", long: bool = False) -> dict:
    rng = ctx.rng
    route = pick(rng, ROUTES)
    paras = [rng.choice(DIARY_OPENINGS)]
    long = long or rng.random() < 0.3
    # Six sentence patterns, so at most six stops: more would repeat one.
    extra_stops = [p for p in rng.sample(LANDMARKS, 6) if p not in route][: 6 - len(route)] if long else []
    patterns = rng.sample(range(len(_STOP_PATTERNS)), len(_STOP_PATTERNS))
    paras += [_diary_stop(ctx, place, patterns[i]) for i, place in enumerate(route + extra_stops)]
    paras += rng.sample(DIARY_TIPS, k=rng.randint(2, 4))
    if long:
        paras += rng.sample(DIARY_MORE, k=rng.randint(4, len(DIARY_MORE)))
    paras.append(
        rng.choice(
            [
                "以上就是这次的行程，有问题可以在评论区问我。",
                "下次打算秋天再来，看看园林里的银杏。",
                "总之，苏州值得慢慢走。",
            ]
        )
    )
    author = pick(rng, BLOGGERS)
    title = rng.choice(
        [
            f"苏州两日游攻略｜{'→'.join(route)}，附避坑指南",
            f"{route[0]}游记：一个人的慢时光",
            f"带爸妈逛{route[0]}和{route[-1]}，这些细节要注意",
            f"雨中{route[0]}，比想象中更美",
        ]
    )
    return wechat_post(
        ctx,
        ctx.account(author, signature="只写自己走过的路。"),
        title,
        paras,
        ["travel_diary"],
        author=author,
        places=route,
    )


def scenic_notice(ctx: Context, channel: str = "wechat") -> dict:
    rng = ctx.rng
    place, owner = pick(rng, list(SCENIC_ACCOUNTS.items()))
    ts = timestamp(rng)
    day = date_after(ts, rng, 3, 20)
    kind = rng.choice(["booking", "hours", "closure"])
    title, paras = {
        "booking": (
            f"关于{place}实行分时预约游览的公告",
            [
                f"为保障游客游览体验，自{day}起，{place}实行实名制分时预约，每日限量接待。",
                "游客可通过官方微信小程序预约，每个证件每日限约一次，请勿通过第三方代约，谨防上当受骗。",
                "景区从未授权任何个人或旅行社代售门票，发现倒卖门票行为请拨打12345举报。",
            ],
        ),
        "hours": (
            f"{place}冬季开放时间调整通知",
            [
                f"自{day}起，{place}开放时间调整为8:00—17:00（16:30停止入园）。",
                "夜游项目暂停，恢复时间另行通知。给您带来的不便敬请谅解。",
            ],
        ),
        "closure": (
            f"{place}部分区域临时封闭维护的通知",
            [
                f"因古建筑修缮需要，{place}部分区域于{day}起临时封闭，预计持续两周。",
                "封闭期间门票价格不变，其余区域正常开放。请游客合理安排行程。",
            ],
        ),
    }[kind]
    acct = ctx.account(owner, owner=owner, verified=True, signature=f"{owner}官方微信。")
    return wechat_post(ctx, acct, title, paras, ["scenic_notice"], places=[place], published_at=ts)


def hotel_offer(ctx: Context, channel: str = "wechat") -> dict:
    rng = ctx.rng
    hotel = pick(rng, HOTELS)
    place = rng.choice(["平江路", "山塘街", "十全街", "观前街", "留园"])
    price = rng.choice([268, 328, 388, 458, 588, 699])
    paras = [
        f"{hotel}位于{place}旁，步行五分钟到景区，苏式庭院风格，房间干净安静。",
        f"周末大床房{price}元/晚，含双早；连住两晚第二晚八折。",
        "本店只提供住宿，不代办旅游行程、不代订门票，如需出游请自行安排。",
        f"预订电话或{wechat_contact(rng)}，入住需出示身份证。",
    ]
    title = f"{hotel}｜{place}边的苏式小院，{price}元/晚"
    if channel == "wechat":
        acct = ctx.account(hotel, owner=f"苏州{hotel}酒店管理有限公司", signature="住在苏州的老巷子里。")
        return wechat_post(ctx, acct, title, paras, ["hotel_only"], places=[place])
    return listing_post(
        ctx,
        channel,
        ctx.seller(hotel + "官方店", "4"),
        f"苏州{place} {hotel} 大床房 含双早",
        paras,
        price,
        ["hotel_only"],
        places=[place],
        sales=f"{rng.randint(5, 400)}人付款",
    )


def ticket_offer(ctx: Context, channel: str = "wechat") -> dict:
    """Tickets alone, with no trip around them: not travel-agency business."""
    rng = ctx.rng
    place = rng.choice(["拙政园", "留园", "虎丘", "狮子林", "网师园"])
    price = rng.choice([40, 55, 70, 80, 90, 120])
    paras = [
        f"{place}成人门票{'电子票' if rng.random() < 0.5 else '纸质票'}，{date_after(timestamp(rng), rng)}前有效。",
        f"单张{price}元，只卖门票，不含讲解不含接送，不提供任何行程服务。",
        rng.choice(["买多了用不完，原价转。", "公司发的福利票，自己去不了。", "可以当面交易，观前街附近。"]),
        f"联系{wechat_contact(rng)}。",
    ]
    title = f"转让{place}门票{rng.randint(1, 4)}张，{price}元一张"
    labels = ["ticket_only"]
    if channel == "wechat":
        name = rng.choice(["姑苏二手群", "苏州闲置转让", "园区宝妈闲置"])
        return wechat_post(ctx, ctx.account(name, signature="本地闲置信息。"), title, paras, labels, places=[place])
    seller = ctx.seller(rng.choice(["苏州小透明", "票务阿花", "热心市民陈先生"]), "5")
    return listing_post(ctx, channel, seller, title, paras, price, labels, location="苏州", places=[place])


def _diary_stop(ctx: Context, place: str, pattern: int) -> str:
    rng = ctx.rng
    food = pick(rng, FOODS)
    return _STOP_PATTERNS[pattern].format(
        place=place,
        street=street_of(place) or pick(rng, STREETS),
        when=rng.choice(["早上", "午后", "傍晚"]),
        food=food,
        portion=FOOD_PORTIONS.get(food, "一份"),
    )


# One sentence per stop of a diary; each pattern is used at most once in a post.
_STOP_PATTERNS = [
    "{place}在{street}，{when}去人不算多，沿着回廊慢慢走，每一扇花窗都是一幅画。",
    "从{place}出来，在附近的老店点了{portion}{food}，二十来块钱，味道很正。",
    "{place}最值得看的是细节：铺地的花纹、漏窗的形状、假山的层次，建议请个讲解器自己听。",
    "{place}附近的河边有几家茶馆，{when}坐下来听一段评弹，一壶碧螺春能喝很久。",
    "{place}拍照的人很多，想拍人少的画面就要早去，八点多的光线最柔和。",
    "在{place}遇到一位本地老先生，给我们讲了不少老苏州的故事，比导游词有意思多了。",
]
