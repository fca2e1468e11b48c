"""One vocabulary: every code the product stores, and the one Chinese name a user sees for it.

Codes are what the database, the index, URLs and the API carry (`unlicensed_travel`, `new`); names
are what pages, exports, e-mails and the evidence summary show. Both are defined here and nowhere
else, so a status cannot have two names on two pages. Models import their allowed codes from here.

    from core.vocabulary import HIT_STATUS, name
    name(HIT_STATUS, "new")  # "新发现"
"""

from __future__ import annotations

from collections.abc import Mapping

# ---------------------------------------------------------------- hits

HIT_LABEL = {"unlicensed_travel": "未经许可经营旅行社业务", "illegal_publication": "非法出版物"}
# Where space is short (search facets and filters, the map legend).
HIT_LABEL_SHORT = {"unlicensed_travel": "无证旅行社", "illegal_publication": "非法出版物"}
# The charge as the evidence summary (电子数据提取笔录) words it.
HIT_LABEL_CHARGE = {"unlicensed_travel": "涉嫌未经许可经营旅行社业务", "illegal_publication": "涉嫌经营非法出版物"}
HIT_STATUS = {"new": "新发现", "dismissed": "已排除", "clue": "已转线索", "transferred": "已移送外地"}
# A detector's reason code (detection: travel.py, seller.py, publication.py) and the concept it names.
# The search index holds these names, so 盗版 finds a hit flagged for piracy where the seller wrote 高仿.
REASON = {
    # unlicensed_travel
    "tour_product": "招揽组团旅游",
    "private_guide": "私人导游带团",
    "bundle": "打包销售旅游服务",
    "tour_logistics": "出团安排",
    "solicitation": "招揽报名或留联系方式",
    "guide_service": "有偿导游讲解服务",
    "not_a_tour": "非旅游产品",
    "training": "培训考证课程",
    "venue_seller": "景区场馆自营",
    "single_service": "单项旅游服务",
    "private_order": "以旅行社名义私下接单",
    "licensed_agency": "登记在册的旅行社",
    "licence_not_in_registry": "许可证号不在旅行社名录中",
    "licence_held_by_other": "冒用、借用他人旅行社许可证",
    "malformed_licence": "许可证号格式不正确或冒用",
    "lookalike_name": "名称近似登记旅行社",
    "no_licence": "无旅行社业务经营许可证",
    # illegal_publication
    "piracy_terms": "盗版、高仿、翻印",
    "reprint_hint": "影印翻印类说法",
    "price_comparison": "与正版比价招揽",
    "on_sale": "售卖或提供",
    "ebook_resale": "倒卖电子版图书",
    "print_copy": "电子版打印装订成书",
    "copy_service": "有偿代找电子书或教材",
    "no_isbn": "无书号刊号",
    "invalid_isbn": "ISBN校验位错误",
    "invalid_serial": "刊号无效",
    "illegal_periodical": "非法期刊收费发表",
    "paid_placement": "收费发表论文",
    "burned_media": "刻录光盘或预装U盘",
    "cheap_complete_set": "低价成套图书",
    "lawful_copy": "合法来源",
    "own_work": "本人原创作品",
    "genuine_seller": "出版社或书店自营",
    "licensed_platform": "正版电子书平台",
    "genuine_channel": "正版或授权渠道",
    "print_service": "打印复印服务",
    "secondhand": "二手旧书",
    # who speaks (detection/speech_act.py)
    "act_offer": "发帖人在招揽或售卖",
    "act_warning": "提醒、公告或通报，不是售卖",
    "act_complaint": "消费者投诉维权，不是卖家",
    "act_mention": "回顾、提问或建议，不是售卖",
}
PLATFORM = {"wechat": "微信公众号", "shop": "网店", "note": "笔记", "forum": "论坛", "web": "网页"}

# ---------------------------------------------------------------- clues, inspections and cases

CLUE_STATUS = {"open": "待处理", "inspecting": "核查中", "closed": "已办结"}
CLUE_OUTCOME = {"no_violation": "未发现违法", "corrected": "已整改", "case": "已立案", "transferred": "已移送外地"}
# The outcomes an officer closes a clue with; "transferred" comes only from 移送 (hits.clues.transfer_hit),
# which records the receiving authority.
CLOSE_OUTCOMES = ("no_violation", "corrected", "case")
# Inspection results are stored as these words (imported registers use them too).
INSPECTION_RESULTS = ("未发现问题", "责令整改", "立案查处")

# ---------------------------------------------------------------- grids, venues, grades

GRID_LEVEL = {"district": "区县", "street": "街道", "grid": "网格"}
# Venue categories are stored as their Chinese names (the registers use them).
VENUE_CATEGORIES = ("网吧", "歌舞娱乐", "游艺", "演出场所", "书店与出版物零售", "印刷", "旅行社", "泳池")
GRADE = {"A": "A级（低风险）", "B": "B级", "C": "C级", "D": "D级（高风险）"}
GRADE_FACTOR = {
    "no_recent_inspection": "近期检查不足",
    "violations": "违规记录",
    "penalties": "行政处罚金额",
    "complaints": "关联线索与投诉",
    "industry": "行业基础风险",
    "grid": "所在网格风险密度",
    "licence": "许可证状态",
}

# ---------------------------------------------------------------- people, jobs, audit

ROLE = {"admin": "管理员", "patrol": "巡查人员", "grid_manager": "网格员"}
JOB_RUN_STATUS = {"running": "运行中", "ok": "成功", "failed": "失败", "skipped": "已跳过（上次仍在运行）"}
AUDIT_ACTION = {
    "view": "查看",
    "export": "导出",
    "create": "新增",
    "update": "修改",
    "delete": "删除",
    "assign": "分配",
    "search": "检索",
    "dismiss": "排除",
    "confirm": "转为线索",
    "start": "开始核查",
    "inspect": "记录检查",
    "close": "办结",
    "draw": "抽查摇号",
    "publish": "公开",
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出",
    "denied": "越权访问被拒",
    "job_pause": "暂停任务",
    "job_resume": "恢复任务",
    "job_run": "立即运行任务",
}
# Search facets (the side panel's headings).
FACET = {"label": "类型", "platform": "平台", "grid": "网格", "source": "来源", "day": "日期"}

# ---------------------------------------------------------------- the codes, for models and checks

HIT_LABELS = tuple(HIT_LABEL)
# How a time zone is named beside a time (exports, e-mails, pages); others by their IANA name.
ZONE_NAME = {"Asia/Shanghai": "北京时间", "Asia/Chongqing": "北京时间", "Asia/Hong_Kong": "香港时间", "UTC": "UTC"}

HIT_STATUSES = tuple(HIT_STATUS)
PLATFORMS = tuple(PLATFORM)
CLUE_STATUSES = tuple(CLUE_STATUS)
CLUE_OUTCOMES = tuple(CLUE_OUTCOME)
GRID_LEVELS = tuple(GRID_LEVEL)
GRADES = tuple(GRADE)
ROLES = tuple(ROLE)


def name(names: Mapping[str, str], code: str | None) -> str:
    """The user-facing name of `code` in `names`; an unknown code shows as itself, never as an error
    (an old row may carry a code this version no longer has)."""
    if code is None:
        return ""
    return names.get(code, code)


def names(mapping: Mapping[str, str], codes) -> list[str]:
    return [name(mapping, c) for c in codes or ()]
