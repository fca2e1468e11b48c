"""One vocabulary: every code the product stores, and the one Chinese name a user sees for it.

Codes are what the database, the index, URLs and the API carry (`unlicensed_travel`, `new`); names
are what pages, exports, e-mails and the evidence summary show. Both are defined here and nowhere
else, so a status cannot have two names on two pages. Models import their allowed codes from here.

    from core.vocabulary import HIT_STATUS, name
    name(HIT_STATUS, "new")  # "新发现"
"""

from __future__ import annotations

from collections.abc import Mapping

from core.i18n import N_

# ---------------------------------------------------------------- hits

HIT_LABEL = {"unlicensed_travel": N_("未经许可经营旅行社业务"), "illegal_publication": N_("非法出版物")}
# Where space is short (search facets and filters, the map legend).
HIT_LABEL_SHORT = {"unlicensed_travel": N_("无证旅行社"), "illegal_publication": N_("非法出版物")}
# The charge as the evidence summary (电子数据提取笔录) words it.
HIT_LABEL_CHARGE = {
    "unlicensed_travel": N_("涉嫌未经许可经营旅行社业务"),
    "illegal_publication": N_("涉嫌经营非法出版物"),
}
HIT_STATUS = {"new": N_("新发现"), "dismissed": N_("已排除"), "clue": N_("已转线索"), "transferred": N_("已移送外地")}
# A detector's reason code (detection: travel.py, seller.py, publication.py) and the concept it names.
# The search index holds these names, so 盗版 finds a hit flagged for piracy where the seller wrote 高仿.
REASON = {
    # unlicensed_travel
    "tour_product": N_("招揽组团旅游"),
    "private_guide": N_("私人导游带团"),
    "bundle": N_("打包销售旅游服务"),
    "tour_logistics": N_("出团安排"),
    "solicitation": N_("招揽报名或留联系方式"),
    "guide_service": N_("有偿导游讲解服务"),
    "not_a_tour": N_("非旅游产品"),
    "training": N_("培训考证课程"),
    "venue_seller": N_("景区场馆自营"),
    "single_service": N_("单项旅游服务"),
    "private_order": N_("以旅行社名义私下接单"),
    "licensed_agency": N_("登记在册的旅行社"),
    "licence_not_in_registry": N_("许可证号不在旅行社名录中"),
    "licence_held_by_other": N_("冒用、借用他人旅行社许可证"),
    "malformed_licence": N_("许可证号格式不正确或冒用"),
    "lookalike_name": N_("名称近似登记旅行社"),
    "no_licence": N_("无旅行社业务经营许可证"),
    # illegal_publication
    "piracy_terms": N_("盗版、高仿、翻印"),
    "reprint_hint": N_("影印翻印类说法"),
    "price_comparison": N_("与正版比价招揽"),
    "on_sale": N_("售卖或提供"),
    "ebook_resale": N_("倒卖电子版图书"),
    "print_copy": N_("电子版打印装订成书"),
    "copy_service": N_("有偿代找电子书或教材"),
    "no_isbn": N_("无书号刊号"),
    "invalid_isbn": N_("ISBN校验位错误"),
    "invalid_serial": N_("刊号无效"),
    "illegal_periodical": N_("非法期刊收费发表"),
    "paid_placement": N_("收费发表论文"),
    "burned_media": N_("刻录光盘或预装U盘"),
    "cheap_complete_set": N_("低价成套图书"),
    "lawful_copy": N_("合法来源"),
    "own_work": N_("本人原创作品"),
    "genuine_seller": N_("出版社或书店自营"),
    "licensed_platform": N_("正版电子书平台"),
    "genuine_channel": N_("正版或授权渠道"),
    "print_service": N_("打印复印服务"),
    "secondhand": N_("二手旧书"),
    # who speaks (detection/speech_act.py)
    "act_offer": N_("发帖人在招揽或售卖"),
    "act_warning": N_("提醒、公告或通报，不是售卖"),
    "act_complaint": N_("消费者投诉维权，不是卖家"),
    "act_mention": N_("回顾、提问或建议，不是售卖"),
}
PLATFORM = {"wechat": N_("微信公众号"), "shop": N_("网店"), "note": N_("笔记"), "forum": N_("论坛"), "web": N_("网页")}

# ---------------------------------------------------------------- clues, inspections and cases

CLUE_STATUS = {"open": N_("待处理"), "inspecting": N_("核查中"), "closed": N_("已办结")}
CLUE_OUTCOME = {
    "no_violation": N_("未发现违法"),
    "corrected": N_("已整改"),
    "case": N_("已立案"),
    "transferred": N_("已移送外地"),
}
# The outcomes an officer closes a clue with; "transferred" comes only from 移送 (hits.clues.transfer_hit),
# which records the receiving authority.
CLOSE_OUTCOMES = ("no_violation", "corrected", "case")
# The steps of a clue's history (hits.clues: Clue.history[*].step).
CLUE_STEP = {
    "confirmed": N_("转为线索"),
    "inspecting": N_("开始核查"),
    "inspected": N_("检查记录"),
    "closed": N_("办结"),
    "transferred": N_("移送外地"),
}
# How a confirmed hit's clue found its grid (hits.clues.route; Clue.history[*].routed).
ROUTED = {
    "hit_grid": N_("按发现所属网格分派"),
    "location": N_("按发现位置所在网格分派"),
    "chosen": N_("人工指定网格"),
}
# Inspection results are stored as these words (imported registers use them too).
INSPECTION_RESULTS = (N_("未发现问题"), N_("责令整改"), N_("立案查处"))

# ---------------------------------------------------------------- grids, venues, grades

GRID_LEVEL = {"district": N_("区县"), "street": N_("街道"), "grid": N_("网格")}
# Venue categories are stored as their Chinese names (the registers use them).
VENUE_CATEGORIES = (
    N_("网吧"),
    N_("歌舞娱乐"),
    N_("游艺"),
    N_("演出场所"),
    N_("书店与出版物零售"),
    N_("印刷"),
    N_("旅行社"),
    N_("泳池"),
)
GRADE = {"A": N_("A级（低风险）"), "B": N_("B级"), "C": N_("C级"), "D": N_("D级（高风险）")}
GRADE_FACTOR = {
    "no_recent_inspection": N_("近期检查不足"),
    "violations": N_("违规记录"),
    "penalties": N_("行政处罚金额"),
    "complaints": N_("关联线索与投诉"),
    "industry": N_("行业基础风险"),
    "grid": N_("所在网格风险密度"),
    "licence": N_("许可证状态"),
}

# ---------------------------------------------------------------- people, jobs, audit

ROLE = {"admin": N_("管理员"), "patrol": N_("巡查人员"), "grid_manager": N_("网格员")}
# Scheduled tasks (jobs.tasks.TASKS) and the jobs config.toml ships ([[jobs.schedule]] ids); a crawl
# job "crawl:<source>" is named by its source.
JOB_TASK = {
    "crawl": N_("采集"),
    "check_alerts": N_("关键词监控检查"),
    "grade_venues": N_("风险分级"),
    "run_draw": N_("双随机抽查摇号"),
    "verify_evidence": N_("证据完整性核验"),
}
JOB_NAME = {"alerts": N_("关键词监控检查"), "grading": N_("每晚风险分级"), "draw": N_("每月双随机抽查")}
JOB_RUN_STATUS = {
    "running": N_("运行中"),
    "ok": N_("成功"),
    "failed": N_("失败"),
    "skipped": N_("已跳过（上次仍在运行）"),
}
AUDIT_ACTION = {
    "view": N_("查看"),
    "export": N_("导出"),
    "create": N_("新增"),
    "update": N_("修改"),
    "delete": N_("删除"),
    "assign": N_("分配"),
    "search": N_("检索"),
    "dismiss": N_("排除"),
    "confirm": N_("转为线索"),
    "start": N_("开始核查"),
    "inspect": N_("记录检查"),
    "close": N_("办结"),
    "draw": N_("抽查摇号"),
    "publish": N_("公开"),
    "login": N_("登录"),
    "login_failed": N_("登录失败"),
    "logout": N_("退出"),
    "denied": N_("越权访问被拒"),
    "job_pause": N_("暂停任务"),
    "job_resume": N_("恢复任务"),
    "job_run": N_("立即运行任务"),
    "transfer": N_("移送外地"),
    "bulk_confirm": N_("批量转为线索"),
    "bulk_dismiss": N_("批量排除"),
    "bulk_transfer": N_("批量移送外地"),
    "alert_query_failed": N_("关键词监控查询失败"),
    "alert_delivery_failed": N_("关键词监控通知发送失败"),
}
# What an audit entry is about (AuditLog.object_type).
OBJECT_TYPE = {
    "hit": N_("发现"),
    "hits": N_("发现列表"),
    "search": N_("检索结果"),
    "clue": N_("线索"),
    "venue": N_("场所"),
    "venues": N_("场所台账"),
    "inspection": N_("检查记录"),
    "inspections": N_("检查记录台账"),
    "attachment": N_("现场照片"),
    "user": N_("用户"),
    "saved_search": N_("关键词监控"),
    "spot_check_draw": N_("双随机抽查"),
    "job": N_("定时任务"),
    "grid": N_("网格"),
}
# The fields an audit entry's details carry (webmap.audit.record's keyword arguments), by name.
AUDIT_FIELD = {
    "via": N_("页面"),
    "reason": N_("理由"),
    "note": N_("说明"),
    "hit_id": N_("发现"),
    "hit_ids": N_("发现"),
    "clue_id": N_("线索"),
    "venue_id": N_("场所"),
    "grid_id": N_("网格"),
    "inspection_id": N_("检查记录"),
    "from_grid": N_("原网格"),
    "to_grid": N_("新网格"),
    "routed": N_("分派方式"),
    "authority": N_("接收单位"),
    "result": N_("检查结果"),
    "outcome": N_("办结结果"),
    "case_no": N_("立案号"),
    "party": N_("当事人"),
    "date": N_("日期"),
    "format": N_("格式"),
    "count": N_("条数"),
    "total": N_("结果数"),
    "query": N_("检索词"),
    "filters": N_("筛选条件"),
    "ledger": N_("台账"),
    "name": N_("名称"),
    "username": N_("用户名"),
    "status": N_("状态码"),
    "sha256": N_("SHA-256"),
    "seed": N_("随机种子"),
    "campaign": N_("专项行动"),
    "user_id": N_("用户编号"),
    "error": N_("错误"),
    "alerts": N_("提醒条数"),
    "field": N_("设置项"),
    "old": N_("原值"),
    "new": N_("新值"),
    # an evidence package export (evidence/export.py)
    "seq": N_("证据序号"),
    "record_hash": N_("记录哈希"),
    "package": N_("证据包目录"),
    "zip": N_("证据包文件"),
    "zip_sha256": N_("证据包 SHA-256"),
    "manifest_sha256": N_("清单 SHA-256"),
    "pdf_written": N_("已生成 PDF"),
}
# A user's settings as the audit log names them (the "field" of an update), and the languages.
SETTING = {"locale": N_("界面语言")}
LANGUAGE = {"zh_CN": N_("中文"), "en": "English"}
# The pages an audit entry's "via" names (Flask endpoints); others show as they are.
PAGE = {
    "hits.show": N_("发现详情页"),
    "hits.popup": N_("地图弹窗"),
    "hits.api_show": N_("发现接口"),
    "venues.show": N_("一户一档"),
    "venues.popup": N_("地图弹窗"),
    "venues.api_show": N_("场所接口"),
    "search.hit": N_("检索结果"),
}
# Export formats as the audit log names them.
EXPORT_FORMAT = {"csv": "CSV", "xlsx": "Excel", "geojson": "GeoJSON", "zip": "ZIP", "pdf": "PDF"}
# Search facets (the side panel's headings).
FACET = {"label": N_("类型"), "platform": N_("平台"), "grid": N_("网格"), "source": N_("来源"), "day": N_("日期")}

# ---------------------------------------------------------------- the codes, for models and checks

HIT_LABELS = tuple(HIT_LABEL)
# How a time zone is named beside a time (exports, e-mails, pages); others by their IANA name.
ZONE_NAME = {
    "Asia/Shanghai": N_("北京时间"),
    "Asia/Chongqing": N_("北京时间"),
    "Asia/Hong_Kong": N_("香港时间"),
    "UTC": "UTC",
}

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
