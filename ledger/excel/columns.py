"""What ledger files call things: the header aliases, the status words and the deadline words, in one place.

Extend these tables when an office's ledger brings a new wording; nothing else needs to change. Header matching
ignores spaces, asterisks, brackets and a trailing colon (「责任领导（职务）」 matches 「责任领导」), so list each
wording once.

Status mapping (also in docs/ledger-import.md):

| 整改状态（措施）               | 措施状态        |
|-------------------------------|-----------------|
| 已完成 / 已整改 / 整改完成 …    | 已完成 done      |
| 正在推进 / 正在整改 / 逾期未完成 | 推进中 in_progress |
| 长期坚持                       | 推进中 in_progress（措施持续推进）|
| 未启动 / 未开始                 | 未启动 not_started |
| （空）                         | 新问题：已销号/申请销号时为已完成，否则未启动；已有问题：不变 |

| 销号情况                 | 问题状态                                   |
|-------------------------|-------------------------------------------|
| 已销号                   | 已销号 closed                              |
| 申请销号 / 待核查         | 待核查 pending_review                       |
| 未销号 / （空）           | 有牵头单位：整改中 in_progress；没有：待分派 draft |
| 待分派                   | 待分派 draft                               |
| 已作废                   | 已作废 voided                              |
"""

from __future__ import annotations

from core.xlsx import Column, normalize_header
from ledger.models import MeasureStatus, ProblemStatus, RectificationType

# The columns a ledger may have. `key` is what the code uses; the label is what errors and the export show.
LEDGER_COLUMNS: tuple[Column, ...] = (
    Column("seq", "序号", ("问题序号", "序", "编号序号")),
    # Our own number (an export of this system); a value that is not one of ours is taken as the office's 原编号.
    Column("number", "编号", ("问题编号", "系统编号", "台账编号", "问题台账编号", "清单编号")),
    Column("source_number", "原编号",
        ("序号编号", "原问题编号", "问题原编号", "本单位编号", "单位编号", "自编号", "原序号"),
    ),
    Column("source", "问题来源",
        ("来源", "问题出处", "发现渠道", "问题发现渠道", "反馈渠道", "线索来源", "发现途径", "问题渠道"),
    ),
    Column(
        "category", "问题类别",
        ("问题类型", "问题分类", "类别", "所属类别", "问题表现类别", "类别编码", "问题性质", "问题表现形式", "所属领域",
         "问题领域", "表现类型"),
    ),
    Column("summary", "问题概述", ("问题名称", "问题摘要", "问题标题", "问题简述", "问题概要", "问题简要")),
    Column(
        "description", "问题描述",
        ("问题内容", "具体表现", "问题表现", "存在问题", "问题描述具体表现", "问题具体表现", "主要问题", "问题",
         "具体问题", "问题清单", "问题详情", "问题及表现", "反馈问题", "存在的问题", "问题事项", "问题情况"),
        required=True,
    ),
    Column("discovered_on", "发现日期",
        ("发现时间", "交办时间", "交办日期", "反馈时间", "反馈日期", "受理时间", "登记日期"),
    ),
    Column("found_by", "发现单位", ("发现部门", "反馈单位", "交办单位", "检查单位", "督查单位")),
    Column("rectification_type", "整改类型", ("整改方式", "整改要求", "整改类别", "整改性质")),
    Column("responsible_leader", "责任领导",
        ("责任领导职务", "分管领导", "包保领导", "牵头领导", "分管县领导", "责任县领导"),
    ),
    Column(
        "lead_unit", "牵头单位",
        ("责任单位", "责任部门", "牵头部门", "主责单位", "牵头责任单位", "整改责任单位", "责任主体", "整改单位",
         "主办单位", "承办单位", "牵头单位责任单位", "牵头股室"),
    ),
    Column("co_units", "配合单位", ("配合部门", "协办单位", "参与单位", "协同单位", "协助单位", "配合责任单位")),
    Column("measures", "整改措施",
        ("措施", "整改举措", "具体措施", "整改措施及目标", "整改目标及措施", "整改措施及要求", "整改方案"),
    ),
    Column(
        "measure_unit", "措施责任单位",
        ("落实单位", "措施落实单位", "措施牵头单位", "具体责任单位", "具体责任部门", "具体实施单位"),
    ),
    Column("responsible_person", "责任人", ("具体责任人", "直接责任人", "责任人员", "整改责任人", "经办人")),
    Column(
        "deadline", "整改时限",
        ("完成时限", "整改期限", "时限", "完成时间", "整改时间", "完成期限", "整改完成时限", "计划完成时间",
         "整改完成时间", "时限要求", "时间节点"),
    ),
    Column(
        "progress", "整改进展",
        ("进展情况", "整改进度", "整改情况", "完成情况", "工作进展", "整改落实情况", "整改完成情况", "整改进展情况",
         "落实情况", "推进情况", "整改成效", "整改结果", "办理情况"),
    ),
    Column("status", "整改状态", ("完成状态", "进展状态", "状态", "是否完成", "是否整改完成", "是否完成整改")),
    Column("closure", "销号情况", ("是否销号", "销号状态", "销号", "销号情况说明")),
    # What the export writes from the system's own figures: recognised, never imported.
    Column("light", "红黄绿灯", ("亮灯", "预警", "亮灯情况", "逾期天数"), read=False),
)

# Columns whose cell belongs to the problem (merged down across its measures in the one-row-per-measure layout);
# the others belong to each measure.
PROBLEM_KEYS = frozenset({
    "seq", "number", "source_number", "source", "category", "summary", "description", "discovered_on", "found_by",
        "rectification_type", "responsible_leader", "lead_unit", "co_units", "closure",
})
MEASURE_KEYS = frozenset({"measures", "measure_unit", "responsible_person", "deadline", "progress", "status"})

# 整改类型
RECTIFICATION_TYPE_WORDS: dict[str, str] = {
    "立行立改": RectificationType.IMMEDIATE,
    "即知即改": RectificationType.IMMEDIATE,
    "立即整改": RectificationType.IMMEDIATE,
    "限期整改": RectificationType.TIME_LIMITED,
    "限时整改": RectificationType.TIME_LIMITED,
    "长期坚持": RectificationType.LONG_TERM,
    "长期整改": RectificationType.LONG_TERM,
    "持续整改": RectificationType.LONG_TERM,
    "分阶段整改": RectificationType.TIME_LIMITED,
}

# Words in the deadline column that are not dates.
DEADLINE_LONG_TERM = ("长期坚持", "长期", "持续推进", "常态化")
DEADLINE_IMMEDIATE = ("立行立改", "立即整改", "即知即改")

# 整改状态 → the measures' status.
MEASURE_STATUS_WORDS: dict[str, str] = {
    "已完成": MeasureStatus.DONE,
    "已整改": MeasureStatus.DONE,
    "整改完成": MeasureStatus.DONE,
    "已完成整改": MeasureStatus.DONE,
    "已整改完成": MeasureStatus.DONE,
    "完成": MeasureStatus.DONE,
    "已办结": MeasureStatus.DONE,
    "正在推进": MeasureStatus.IN_PROGRESS,
    "正在整改": MeasureStatus.IN_PROGRESS,
    "推进中": MeasureStatus.IN_PROGRESS,
    "整改中": MeasureStatus.IN_PROGRESS,
    "持续推进": MeasureStatus.IN_PROGRESS,
    "逾期未完成": MeasureStatus.IN_PROGRESS,
    "长期坚持": MeasureStatus.IN_PROGRESS,
    "未启动": MeasureStatus.NOT_STARTED,
    "未开始": MeasureStatus.NOT_STARTED,
    # 是否完成 / 是否整改完成
    "是": MeasureStatus.DONE,
    "否": MeasureStatus.IN_PROGRESS,
    "已完成整改并长期坚持": MeasureStatus.DONE,
    "基本完成": MeasureStatus.IN_PROGRESS,
    "整改中长期坚持": MeasureStatus.IN_PROGRESS,
    "未完成": MeasureStatus.IN_PROGRESS,
    "持续整改": MeasureStatus.IN_PROGRESS,
    "完成整改": MeasureStatus.DONE,
    "已整改到位": MeasureStatus.DONE,
    "部分整改": MeasureStatus.IN_PROGRESS,
    "正在办理": MeasureStatus.IN_PROGRESS,
    "长期整改": MeasureStatus.IN_PROGRESS,
}

# 销号情况 → the problem's status. None: 整改中 when the problem has a lead unit, else 待分派.
CLOSURE_WORDS: dict[str, str | None] = {
    "已销号": ProblemStatus.CLOSED,
    "销号": ProblemStatus.CLOSED,
    "已验收销号": ProblemStatus.CLOSED,
    "申请销号": ProblemStatus.PENDING_REVIEW,
    "已申请销号": ProblemStatus.PENDING_REVIEW,
    "待核查": ProblemStatus.PENDING_REVIEW,
    "待销号": ProblemStatus.PENDING_REVIEW,
    "未销号": None,
    "整改中": None,
    "待分派": ProblemStatus.DRAFT,
    "已作废": ProblemStatus.VOIDED,
    "作废": ProblemStatus.VOIDED,
    # 是否销号
    "是": ProblemStatus.CLOSED,
    "否": None,
    "已完成销号": ProblemStatus.CLOSED,
    "同意销号": ProblemStatus.CLOSED,
}

# What the export writes (and the import reads back to the same state).
EXPORT_CLOSURE_WORD: dict[str, str] = {
    ProblemStatus.DRAFT: "待分派",
    ProblemStatus.IN_PROGRESS: "未销号",
    ProblemStatus.PENDING_REVIEW: "申请销号",
    ProblemStatus.CLOSED: "已销号",
    ProblemStatus.VOIDED: "已作废",
}


def export_status_word(status: str, *, is_long_term: bool) -> str:
    """The 整改状态 word the export writes for a measure."""
    if status == MeasureStatus.DONE:
        return "已完成"
    if status == MeasureStatus.IN_PROGRESS:
        return "长期坚持" if is_long_term else "正在推进"
    return "未启动"


def _lookup(table: dict[str, object], word: str) -> tuple[bool, object]:
    key = normalize_header(word)
    for k, v in table.items():
        if normalize_header(k) == key:
            return True, v
    return False, None


def measure_status_for(word: str) -> str:
    """A 整改状态 word → MeasureStatus value; KeyError for an unknown word."""
    found, value = _lookup(MEASURE_STATUS_WORDS, word)  # type: ignore[arg-type]
    if not found:
        raise KeyError(word)
    return str(value)


def closure_status_for(word: str) -> str | None:
    """A 销号情况 word → ProblemStatus value, or None for "open" (整改中 / 待分派 by lead unit); KeyError if unknown."""
    found, value = _lookup(CLOSURE_WORDS, word)  # type: ignore[arg-type]
    if not found:
        raise KeyError(word)
    return None if value is None else str(value)


def rectification_type_for(word: str) -> str:
    found, value = _lookup(RECTIFICATION_TYPE_WORDS, word)  # type: ignore[arg-type]
    if not found:
        for t in RectificationType:
            if normalize_header(word) in (t.value, normalize_header(t.label)):
                return t.value
        raise KeyError(word)
    return str(value)


def words(table: dict[str, object]) -> str:
    """The accepted words of a table, for error messages."""
    return "、".join(table)


# The export's columns, in order: those of the offices' template, our 编号 and the office's 原编号 after 序号, and
# the 红黄绿灯 the system works out (written, never imported: LEDGER_COLUMNS reads it with read=False). Widths are
# chosen for A4 landscape fitted to the page width: about 230 characters in all.
EXPORT_COLUMNS: tuple[tuple[str, str, float], ...] = (
    # key, header, width (characters)
    ("seq", "序号", 5),
    ("number", "编号", 12),
    ("source_number", "原编号", 10),
    ("source", "问题来源", 8),
    ("category", "问题类别", 12),
    ("summary", "问题概述", 14),
    ("description", "问题描述（具体表现）", 26),
    ("rectification_type", "整改类型", 8),
    ("responsible_leader", "责任领导", 10),
    ("lead_unit", "牵头单位", 12),
    ("co_units", "配合单位", 12),
    ("measures", "整改措施", 26),
    ("measure_unit", "措施责任单位", 12),
    ("responsible_person", "责任人", 8),
    ("deadline", "整改时限", 11),
    ("progress", "整改进展", 20),
    ("status", "整改状态", 8),
    ("closure", "销号情况", 8),
    ("light", "红黄绿灯", 10),
)

__all__ = [
    "CLOSURE_WORDS", "DEADLINE_IMMEDIATE", "DEADLINE_LONG_TERM", "EXPORT_CLOSURE_WORD", "EXPORT_COLUMNS",
    "LEDGER_COLUMNS", "MEASURE_KEYS", "MEASURE_STATUS_WORDS", "PROBLEM_KEYS", "RECTIFICATION_TYPE_WORDS",
    "closure_status_for", "export_status_word", "measure_status_for", "rectification_type_for", "words",
]


# 问题来源 as offices write it → the standard source it is (campaigns.models.DEFAULT_SOURCES). Applied only when the
# campaign has that source; a campaign's own words are learnt on its sources (`Source.aliases`). Where each wording
# was seen: docs/import-aliases.md.
SOURCE_SYNONYMS: dict[str, str] = {
    # seen in published ledgers (docs/import-aliases.md, 四)
    "区委巡察": "巡视巡察", "常规巡察": "巡视巡察", "专项巡察": "巡视巡察", "经责审计": "审计监督",
    "专项审计调查": "审计监督", "审计发现问题": "审计监督", "审计查出问题": "审计监督", "省长信箱": "群众反映",
    "书记市长信箱": "群众反映", "书记县长信箱": "群众反映", "市长公开电话": "群众反映",
        "人民网地方领导留言板": "群众反映",
    "随手拍": "群众反映", "群众上访": "群众反映", "电视问政": "群众反映", "专项自查": "自查自纠",
        "查摆问题": "自查自纠",
    "督查通报": "督查反馈", "督察通报": "督查反馈", "海洋督察": "督查反馈",
    # 自查自纠
    "自查": "自查自纠", "自查发现": "自查自纠", "单位自查": "自查自纠", "自我检查": "自查自纠", "自查自改": "自查自纠",
    "作风整顿自查": "自查自纠", "对照检查": "自查自纠", "自查自纠发现": "自查自纠", "查摆": "自查自纠",
    "自我查摆": "自查自纠", "民主生活会查摆": "自查自纠", "组织生活会查摆": "自查自纠",
    # 上级通报
    "上级通报": "上级通报", "通报": "上级通报", "上级交办": "上级通报", "上级反馈": "上级通报", "市级通报": "上级通报",
    "省级通报": "上级通报", "上级督办": "上级通报", "上级转办": "上级通报", "省委通报": "上级通报",
    "市委通报": "上级通报",
    # 督查反馈
    "督查": "督查反馈", "督查督办": "督查反馈", "督查发现": "督查反馈", "督导反馈": "督查反馈", "督导检查": "督查反馈",
    "专项督查": "督查反馈", "作风督查": "督查反馈", "督查检查": "督查反馈", "督察": "督查反馈",
    "督察反馈": "督查反馈", "生态环境保护督察": "督查反馈", "环保督察": "督查反馈",
    "中央生态环境保护督察": "督查反馈", "省生态环境保护督察": "督查反馈", "纪委监督检查": "督查反馈",
    "监督检查": "督查反馈",
    # 巡视巡察
    "巡视": "巡视巡察", "巡察": "巡视巡察", "巡视反馈": "巡视巡察", "巡察反馈": "巡视巡察", "县委巡察": "巡视巡察",
    "市委巡察": "巡视巡察", "省委巡视": "巡视巡察", "省委巡视反馈": "巡视巡察", "中央巡视": "巡视巡察",
    "中央巡视反馈": "巡视巡察", "巡视整改": "巡视巡察", "巡察整改": "巡视巡察", "巡察发现": "巡视巡察",
    "巡视发现": "巡视巡察", "巡察反馈问题": "巡视巡察", "巡视反馈问题": "巡视巡察",
    # 审计监督
    "审计": "审计监督", "审计反馈": "审计监督", "审计发现": "审计监督", "经济责任审计": "审计监督",
    "审计整改": "审计监督", "专项审计": "审计监督", "财政审计": "审计监督", "离任审计": "审计监督",
    "审计查出": "审计监督", "审计署审计": "审计监督",
    # 明察暗访
    "暗访": "明察暗访", "明察": "明察暗访", "明查暗访": "明察暗访", "暗访发现": "明察暗访", "作风专项检查": "明察暗访",
    "作风暗访": "明察暗访", "专项检查": "明察暗访", "随机抽查": "明察暗访", "暗查暗访": "明察暗访",
    "四不两直": "明察暗访",
    # 群众反映
    "12345": "群众反映", "12345热线": "群众反映", "12345政务服务热线": "群众反映", "信访": "群众反映",
    "信访举报": "群众反映", "市长信箱": "群众反映", "县长信箱": "群众反映", "书记信箱": "群众反映",
    "群众来信来访": "群众反映", "来信来访": "群众反映", "群众举报": "群众反映", "群众投诉": "群众反映",
    "投诉举报": "群众反映", "网民留言": "群众反映", "网络舆情": "群众反映", "媒体曝光": "群众反映",
    "舆情": "群众反映", "群众反映": "群众反映", "12388": "群众反映", "政务服务热线": "群众反映",
    "民意调查": "群众反映", "问卷调查": "群众反映",
}

# Fragments that suggest a standard source for a word the table lacks (shown as the preview's suggestion, never
# applied without a decision). First match wins.
SOURCE_HINTS: tuple[tuple[str, str], ...] = (
    ("巡视", "巡视巡察"), ("巡察", "巡视巡察"), ("审计", "审计监督"), ("暗访", "明察暗访"), ("明察", "明察暗访"),
    ("12345", "群众反映"), ("信访", "群众反映"), ("信箱", "群众反映"), ("热线", "群众反映"), ("举报", "群众反映"),
    ("投诉", "群众反映"), ("来信", "群众反映"), ("舆情", "群众反映"), ("群众", "群众反映"), ("督察", "督查反馈"),
    ("督查", "督查反馈"), ("督导", "督查反馈"), ("督办", "督查反馈"), ("自查", "自查自纠"), ("查摆", "自查自纠"),
    ("通报", "上级通报"), ("交办", "上级通报"), ("检查", "明察暗访"),
)
