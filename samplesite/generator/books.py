"""Publications: genuine book listings and pirated ones (高仿, 影印, A版, PDF/网盘, sets far too cheap,
wrong ISBN check digits), and burned discs or USB drives of films."""

from __future__ import annotations

from samplesite.generator.common import Context, isbn13, listing_post, pick, wechat_contact, wechat_post

# (title, author, press, list price, volumes) — real books a Suzhou bookshop stocks.
CATALOGUE = [
    ("苏州园林", "陈从周", "同济大学出版社", 68, 1),
    ("浮生六记", "沈复", "人民文学出版社", 29, 1),
    ("长物志", "文震亨", "中华书局", 48, 1),
    ("活着", "余华", "作家出版社", 45, 1),
    ("额尔古纳河右岸", "迟子建", "人民文学出版社", 42, 1),
    ("人类简史", "尤瓦尔·赫拉利", "中信出版社", 88, 1),
    ("苏州古城地图集", "苏州市地方志办公室", "古吴轩出版社", 128, 1),
    ("吴门画派研究", "王稼句", "古吴轩出版社", 96, 1),
    ("红楼梦", "曹雪芹", "人民文学出版社", 59.7, 2),
    ("三体", "刘慈欣", "重庆出版社", 93, 3),
    ("平凡的世界", "路遥", "北京十月文艺出版社", 108, 3),
    ("明朝那些事儿", "当年明月", "北京联合出版公司", 358, 9),
    ("哈利·波特", "J.K.罗琳", "人民文学出版社", 498, 7),
    ("金庸作品集", "金庸", "广州出版社", 1280, 36),
    ("鲁迅全集", "鲁迅", "人民文学出版社", 1980, 18),
]
# Textbooks and exam guides: what students copy whole (复印本) and pirates sell as 教辅.
TEXTBOOKS = [
    ("高等数学（第七版）", "同济大学数学系", "高等教育出版社", 47.6, 2),
    ("线性代数", "同济大学数学系", "高等教育出版社", 29.6, 1),
    ("五年高考三年模拟 高考数学", "曲一线", "首都师范大学出版社", 79.8, 1),
    ("大学英语综合教程", "李荫华", "上海外语教育出版社", 55, 1),
    ("新概念英语", "亚历山大", "外语教学与研究出版社", 149, 4),
]
QUALITIES = [(95, "九五品"), (90, "九品"), (85, "八五品"), (80, "八品"), (70, "七品")]
BOOK_AREAS = ["江苏省苏州市", "江苏省南京市", "上海市", "浙江省杭州市", "北京市", "江苏省无锡市"]
FILMS = ["经典老电影", "港台怀旧金曲MV", "高清动画片", "热门电视剧全集", "抖音热歌+高清电影"]


def genuine_book(ctx: Context, channel: str) -> dict:
    rng = ctx.rng
    title, author, press, list_price, volumes = pick(rng, CATALOGUE + (TEXTBOOKS if channel != "wechat" else []))
    isbn = isbn13(rng)
    labels = ["book_genuine"]
    if channel == "wechat":
        shop = pick(rng, ctx.registry.venues_of("书店与出版物零售"))
        paras = [
            f"新书到店｜《{title}》{author} 著，{press}出版，ISBN {isbn}，定价{list_price}元。",
            f"{shop['name']}本周全场九折，会员再享积分，地址：{shop['address']}。",
            rng.choice(
                [
                    "本店所售图书均为正版，由新华发行集团供货，可开具发票。",
                    "本店拒绝盗版，所有图书均从出版社和新华发行集团正规进货，欢迎查验。",
                ]
            ),
        ]
        acct = ctx.account(shop["name"], owner=shop["name"], signature="在老城里开一家书店。")
        return wechat_post(
            ctx, acct, f"新书推荐｜《{title}》到店", paras, labels, venue=shop["name"], book=_book(author, press, isbn)
        )
    if channel == "kongfz":
        return _kongfz(
            ctx,
            title,
            author,
            press,
            list_price,
            isbn,
            labels,
            note=rng.choice(
                [
                    "正版现货，书脊轻微磨损，内页干净无笔记。",
                    "库存书，自然旧，无划线。",
                    "一版一印，品相如图，实物拍摄。",
                ]
            ),
        )
    price = round(list_price * rng.uniform(0.6, 0.95), 1)
    paras = [
        f"《{title}》{author} 著，{press}，{'全' + str(volumes) + '册' if volumes > 1 else '平装'}，ISBN：{isbn}。",
        "正版图书，出版社直供，支持官方验证，假一赔十。",
        f"定价{list_price}元，现价{price}元，包邮。",
    ]
    seller = ctx.seller(rng.choice(["博库书城官方店", "新华文轩旗舰店", "姑苏书局", "文学山房旧书"]), "6")
    if channel == "goofish":
        price = round(list_price * rng.uniform(0.2, 0.5), 1)
        paras = [f"自己看过的《{title}》，{author}，{press}，九成新，ISBN {isbn}。", f"{price}元，苏州同城可自提。"]
        seller = ctx.seller(rng.choice(["爱看书的小林", "苏大毕业清仓", "书虫阿May"]), "7")
    return listing_post(
        ctx,
        channel,
        seller,
        f"{title} {author} {press} 正版",
        paras,
        price,
        labels,
        book=_book(author, press, isbn),
        sales=f"{rng.randint(10, 3000)}人付款",
    )


def pirated_book(ctx: Context, channel: str) -> dict:
    rng = ctx.rng
    title, author, press, list_price, volumes = pick(
        rng, [b for b in CATALOGUE if b[4] > 1] + CATALOGUE[:4] + TEXTBOOKS
    )
    isbn = isbn13(rng, valid=rng.random() < 0.3)
    labels = ["illegal_publication", "book_pirated"] + ([] if _isbn_ok(isbn) else ["invalid_isbn"])
    # Sets go for a few percent of their list price; single copies for a third or so.
    cheap = round(list_price * (rng.uniform(0.03, 0.12) if volumes > 1 else rng.uniform(0.25, 0.5)), 1)
    if volumes > 1 and cheap < list_price * 0.15:
        labels.append("too_cheap_set")
    kinds = {"wechat": ["copy", "netdisk"], "goofish": ["copy", "netdisk"], "shop": ["copy", "copy", "netdisk"]}
    if rng.choice(kinds.get(channel, ["copy"])) == "netdisk":
        labels, cheap, isbn = (
            ["illegal_publication", "book_pirated", "netdisk_pdf"],
            rng.choice([2.9, 5.8, 9.9, 19.9]),
            "",
        )
        paras = [
            f"《{title}》{'全' + str(volumes) + '册' if volumes > 1 else ''}高清PDF电子版，{author}作品，"
            f"另有{rng.randint(3, 50)}万本电子书打包。",
            "百度网盘/夸克网盘秒发，永久有效，拍下自动发货。",
            f"只要{cheap}元，{wechat_contact(rng)}。",
        ]
    else:
        paras = [
            f"《{title}》{author}，{rng.choice(['高仿精装', '高仿', '影印版', 'A版', '原版复刻', '复印本'])}，"
            f"{'全套' + str(volumes) + '册' if volumes > 1 else '单册'}，ISBN {isbn}。",
            f"和正版一模一样，纸张略薄，介意勿拍。{'全套' if volumes > 1 else ''}只要{cheap}元，书店里要{list_price}元。",
            rng.choice(
                ["量大从优，可做书店货源。", "不开发票，不退换。", "私聊发实拍图。", "教辅教材都有，开学季现货。"]
            ),
        ]
    title_text = (
        f"{title}{'全套' + str(volumes) + '册' if volumes > 1 else ''} {rng.choice(['特价', '清仓', '便宜出'])}"
    )
    book = _book(author, press, isbn)
    if channel == "wechat" and "netdisk_pdf" not in labels and rng.random() < 0.4:
        return _print_shop_copies(ctx, title, author, volumes, labels, book)
    if channel == "wechat":
        acct = ctx.account(rng.choice(["书香小铺", "图书批发直营", "电子书分享站"]), signature="好书不贵。")
        return wechat_post(ctx, acct, title_text, paras, labels, book=book)
    if channel == "kongfz":
        note = rng.choice(["影印本，仅供收藏参考。", "影印本，胶装，内容完整。", "教材复印本，清晰不缺页。"])
        return _kongfz(ctx, title, author, press, cheap, isbn, labels, note=note + paras[1])
    seller = ctx.seller(rng.choice(["特价图书批发", "书多多清仓店", "好书9块9"]), "8")
    return listing_post(
        ctx,
        channel,
        seller,
        title_text,
        paras,
        cheap,
        labels,
        book=book,
        location=rng.choice(["河北 廊坊", "江苏 苏州", "河南 郑州"]),
        sales=f"{rng.randint(50, 9000)}人付款",
    )


def pirated_disc(ctx: Context, channel: str) -> dict:
    rng = ctx.rng
    film = rng.choice(FILMS)
    medium = rng.choice(["车载U盘64G", "DVD光盘 刻录", "移动硬盘 1T", "U盘32G"])
    count = rng.choice([300, 800, 1000, 3000, 5000])
    price = rng.choice([19.9, 29.9, 39, 58, 88])
    labels = ["illegal_publication", "pirated_disc"]
    paras = [
        f"{film}{count}部合集，{medium}，插上就能看，支持电视/车载/电脑。",
        "全部高清，新片每周更新，可按清单定制刻录。",
        f"{price}元包邮，{wechat_contact(rng)}。",
    ]
    title = f"{film} {count}部 {medium}"
    if channel == "wechat":
        return wechat_post(ctx, ctx.account("影音小站", signature="老电影，新感动。"), title, paras, labels)
    seller = ctx.seller(rng.choice(["影音数码专营", "车载音乐小铺"]), "9")
    return listing_post(
        ctx,
        channel,
        seller,
        title,
        paras,
        price,
        labels,
        location=rng.choice(["广东 深圳", "江苏 苏州"]),
        sales=f"{rng.randint(20, 5000)}人付款",
    )


def _print_shop_copies(ctx: Context, title: str, author: str, volumes: int, labels: list[str], book: dict) -> dict:
    """A registered print shop (印刷 venue) offering whole-book copies: piracy at a licensed venue."""
    rng = ctx.rng
    shop = pick(rng, ctx.registry.venues_of("印刷"))
    price = rng.choice([15, 20, 25, 35])
    paras = [
        f"{shop['name']}承接整本复印、胶装，学生党福利！《{title}》{author}{'全' + str(volumes) + '册' if volumes > 1 else ''}"
        f"现货复印本{price}元一本。",
        "教材、教辅、考研资料都可以整本印，彩印黑白都行，当天取件。",
        f"地址：{shop['address']}。",
    ]
    acct = ctx.account(shop["name"], owner=shop["name"], signature="图文快印，立等可取。")
    return wechat_post(ctx, acct, f"整本复印《{title}》，{price}元一本", paras, labels, venue=shop["name"], book=book)


def _kongfz(
    ctx: Context, title: str, author: str, press: str, price: float, isbn: str, labels: list[str], note: str
) -> dict:
    rng = ctx.rng
    quality, quality_text = rng.choice(QUALITIES)
    area = rng.choice(BOOK_AREAS)
    shop = ctx.seller(
        rng.choice(["姑苏旧书坊", "平江路书虫", "百花洲旧书店", "三味书屋", "文庙旧书摊", "拾遗书斋"]),
        "2",
        length=5,
        area=area,
        nick=rng.choice(["老陈", "书虫", "云鹏", "阿福"]),
    )
    book = _book(author, press, isbn) | {
        "pub_date": f"{rng.randint(1985, 2024)}-{rng.randint(1, 12):02d}",
        "quality": quality,
        "quality_text": quality_text,
    }
    return listing_post(
        ctx,
        "kongfz",
        shop,
        f"{title}",
        [note, f"品相{quality_text}，{author}著，{press}。"],
        price if "book_pirated" in labels else round(price * rng.uniform(0.3, 0.8), 1),
        labels,
        location=area,
        book=book,
        shipping_fee=rng.choice([5.0, 8.0, 10.0]),
    )


def _book(author: str, press: str, isbn: str) -> dict:
    return {"author": author, "press": press, "isbn": isbn, "pub_date": "", "quality": 100, "quality_text": "全新"}


def _isbn_ok(isbn: str) -> bool:
    from samplesite.generator.common import isbn_check_digit

    return len(isbn) == 13 and isbn_check_digit(isbn[:12]) == int(isbn[12])
