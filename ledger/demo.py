"""Demo ledger: the campaign 「2026年深化机关作风整顿」 (ZF2026) in the demo county 示范县, with its category
catalogue and about forty problems in every state, so that the pages and the reports have something to show.

Everything goes through the services and the workflow, as the pages do: nothing sets a status directly. The
campaign began about eight months before the day the demo is loaded, and the ledger has the history of those
months: problems entered and assigned in different months, measures and progress dated as they were reported,
sign-offs (销号) in every month since the first (on time and late), applications returned and made again, a
problem the office reopened, a duplicate voided, 长期坚持 problems signed off for their stage, 挂牌督办, 典型案例,
追责问责 and the 整改成效 units reported. Each step is dated with `at=`: last month's 月调度 and last quarter's 季通报
count what happened then. A moment is "the `day` of the month `months` before this one" or "`days` ago", so the
history moves with the day of loading; the open problems' deadlines are days from today, so red, yellow and green
lights stay mixed. Today's 回头看 finds one relapse.

Run by `python manage.py load_demo` after the units (see units/demo.py). Idempotent: does nothing when campaign
ZF2026 exists, and skips itself when the demo county or the office's demo account is missing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from campaigns import services as campaign_services
from campaigns.models import Campaign, CampaignStatus, Category, PhaseKind, Source
from units import demo as units_demo
from units.models import Role, Unit, User
from units.services import user_create

from . import lookback, services, workflow
from .models import (
    AccountabilityForm,
    Evidence,
    Exemplar,
    LookbackCheck,
    MeasureStatus,
    Problem,
    RectificationType,
    Transition,
    TransitionAction,
)

CAMPAIGN_CODE = "ZF2026"
CAMPAIGN_NAME = "2026年深化机关作风整顿"
OFFICE_UNIT = "示范县作风建设工作领导小组办公室"

# The 问题表现清单 in the layout of the offices' files: (类别编码, 类别名称, 上级类别编码).
CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("1", "政治责任方面", ""),
    ("1.01", "学习贯彻党的创新理论不深不实，学用脱节", "1"),
    ("1.02", "落实上级决策部署打折扣、搞变通", "1"),
    ("1.03", "重要指示批示精神落实不到位、不能举一反三", "1"),
    ("2", "担当尽责方面", ""),
    ("2.04", "遇到矛盾绕着走，推诿扯皮、敷衍塞责", "2"),
    ("2.05", "工作标准不高、作风漂浮，“躺平”懈怠", "2"),
    ("2.06", "服务企业不主动，涉企诉求办理不及时", "2"),
    ("2.07", "安全生产等重点领域风险隐患排查整治不力", "2"),
    ("3", "人民立场方面", ""),
    ("3.08", "窗口服务态度生硬，“门难进、脸难看、事难办”", "3"),
    ("3.09", "群众诉求回应不及时，12345热线、信访件办理走过场", "3"),
    ("3.10", "惠民政策落实打折扣，群众获得感不强", "3"),
    ("4", "基层减负方面", ""),
    ("4.11", "文山会海反弹回潮，层层发文、层层开会", "4"),
    ("4.12", "督查检查考核过多过频，过度留痕", "4"),
    ("4.13", "政务APP和工作群过多，“指尖上的形式主义”", "4"),
    ("5", "清正廉洁方面", ""),
    ("5.14", "违规吃喝、违规收送礼品礼金", "5"),
    ("5.15", "公车私用、办公用房超标", "5"),
    ("5.16", "政商交往失度，“亲”而不“清”", "5"),
)

# Liaisons for the lead units that have no demo account: created with a one-time password nobody knows, as an
# administrator would before handing accounts out.
LIAISONS: dict[str, tuple[str, str]] = {
    "示范县卫生健康委员会": ("wjw_lly", "陈晓燕"),
    "示范县政务服务和大数据管理局": ("zwfw_lly", "刘洋"),
    "示范县住房和城乡建设局": ("zjj_lly", "黄志强"),
    "示范县市场监督管理局": ("scjg_lly", "吴敏"),
    "示范县信访局": ("xfj_lly", "郑丽"),
    "示范县城关街道办事处": ("cgjd_lly", "马超"),
    "示范县青石镇人民政府": ("qsz_lly", "何静"),
    "示范县人力资源和社会保障局": ("rsj_lly", "高峰"),
    "示范县交通运输局": ("jtj_lly", "林涛"),
    "示范县人民政府办公室": ("zfb_lly", "罗佳"),
    "示范县自然资源局": ("zrzy_lly", "梁文"),
    "示范县医疗保障局": ("ybj_lly", "宋洁"),
}

# What a problem should end up as. The open problems' deadlines are days from today, so that their lights stay
# mixed; the others' are moments of the history, so that their sign-offs were on time or late as the 通报 says.
DRAFT, RED, YELLOW, GREEN, LONG_TERM = "draft", "red", "yellow", "green", "long_term"
PENDING, RETURNED, CLOSED, CLOSED_AFTER_RETURN = "pending", "returned", "closed", "closed_after_return"
STAGE_CLOSED, VOIDED, RELAPSED, REOPENED = "stage_closed", "voided", "relapsed", "reopened"

# The steps each end state is reached by, in order; a problem's `when` dates them one for one.
ENTER, ASSIGN, APPLY, RETURN, REAPPLY = "enter", "assign", "apply", "return", "reapply"
APPROVE, REOPEN, VOID = "approve", "reopen", "void"
STEPS: dict[str, tuple[str, ...]] = {
    DRAFT: (ENTER,),
    RED: (ENTER, ASSIGN),
    YELLOW: (ENTER, ASSIGN),
    GREEN: (ENTER, ASSIGN),
    LONG_TERM: (ENTER, ASSIGN),
    PENDING: (ENTER, ASSIGN, APPLY),
    RETURNED: (ENTER, ASSIGN, APPLY, RETURN, REAPPLY),
    CLOSED: (ENTER, ASSIGN, APPLY, APPROVE),
    STAGE_CLOSED: (ENTER, ASSIGN, APPLY, APPROVE),
    RELAPSED: (ENTER, ASSIGN, APPLY, APPROVE),
    CLOSED_AFTER_RETURN: (ENTER, ASSIGN, APPLY, RETURN, REAPPLY, APPROVE),
    REOPENED: (ENTER, ASSIGN, APPLY, APPROVE, REOPEN),
    VOIDED: (ENTER, ASSIGN, VOID),
}
# The hour of the day each step is taken at.
HOURS = {ENTER: 9, ASSIGN: 15, APPLY: 16, RETURN: 10, REAPPLY: 16, APPROVE: 11, REOPEN: 10, VOID: 10}

# The campaign began this many months before the month the demo is loaded in.
CAMPAIGN_MONTHS = 8


@dataclass(frozen=True)
class When:
    """A moment of the history, relative to the day of loading: the `day` of the month `months` before this one
    (1 = last month), or `days_ago` days before today."""

    months: int = 0
    day: int = 1
    days_ago: int | None = None


def M(months: int, day: int) -> When:
    return When(months=months, day=day)


def D(days: int) -> When:
    return When(days_ago=days)


@dataclass(frozen=True)
class Held:
    """A 追责问责 record, entered at `when`; decided the day before."""

    person: str
    post: str
    form: str
    decided_by: str
    when: When
    note: str = ""


@dataclass(frozen=True)
class DemoProblem:
    summary: str
    category: str
    source: str
    lead: str
    state: str
    due: int | When | None  # days from today, a moment of the history, or None for 长期坚持
    when: tuple[When, ...]  # the moments of the state's STEPS
    measures: tuple[str, ...]
    description: str = ""
    co: tuple[str, ...] = ()
    leader: str = ""
    person: str = ""
    kind: str = RectificationType.TIME_LIMITED
    progress: tuple[str, ...] = field(default=())
    rules: str = ""  # 建章立制 reported with the application, one name a line
    funds: str = ""  # 挽回经济损失（元） reported with the application
    reopen_due: When | None = None  # the new deadline of a problem the office reopened
    listed: When | None = None  # 挂牌督办 by hand at that moment
    exemplar: str = ""  # 典型案例: Exemplar.POSITIVE / NEGATIVE, with its note
    exemplar_note: str = ""
    held: tuple[Held, ...] = ()


P = DemoProblem
EDU, FIN, HEALTH = "示范县教育体育局", "示范县财政局", "示范县卫生健康委员会"
GOV_SERVICE, HOUSING, MARKET = "示范县政务服务和大数据管理局", "示范县住房和城乡建设局", "示范县市场监督管理局"
PETITION, CHENGGUAN, QINGSHI = "示范县信访局", "示范县城关街道办事处", "示范县青石镇人民政府"
HR, TRANSPORT, GOV_OFFICE = "示范县人力资源和社会保障局", "示范县交通运输局", "示范县人民政府办公室"
LAND, MEDICAL_INS = "示范县自然资源局", "示范县医疗保障局"
SCHOOL, PRIMARY, HOSPITAL = "示范县第一高级中学", "示范县实验小学", "示范县人民医院"
OFFICE_BODY, DISCIPLINE = "县作风建设工作领导小组办公室", "县纪委监委"

PROBLEMS: tuple[DemoProblem, ...] = (
    # ---- 待分派: found lately, not yet given to a unit
    P("部分村级公益性岗位人员长期不在岗，存在“吃空饷”现象", "3.10", "群众反映", QINGSHI, DRAFT, 30, (D(4),), (),
      "群众反映青石村、柳林村公益性岗位人员长期外出务工，工资照常发放。"),
    P("土地征收补偿款发放进度滞后，群众多次到县反映", "3.09", "群众反映", LAND, DRAFT, 45, (M(1, 24),), (),
      "城东片区征收项目补偿款拖欠近半年。"),
    P("交通建设项目招标文件设置不合理门槛", "5.16", "审计监督", TRANSPORT, DRAFT, 60, (D(2),), (),
      "审计发现两个项目招标文件设置与项目无关的业绩要求，限制潜在投标人。"),
    P("医保报销窗口一次性告知不到位，群众反复跑", "3.08", "明察暗访", MEDICAL_INS, DRAFT, 20, (D(6),), ()),
    P("个别单位仍在使用已明令清理的政务APP打卡", "4.13", "督查反馈", HR, DRAFT, 25, (D(1),), ()),
    # ---- 整改中, overdue (red)
    P("12345热线转办件签收后长期无回复，部分诉求一转了之", "3.09", "群众反映", PETITION, RED, M(4, 28),
      (M(7, 3), M(7, 6)), ("对积压转办件逐件回访办结", "建立转办件催办督办机制"),
      "一季度转办件超期未回复38件，回访满意率不足六成。", leader="局长 许文", person="郑丽",
      progress=("已梳理积压件38件，回访办结21件",), listed=M(3, 6),
      exemplar=Exemplar.NEGATIVE, exemplar_note="转办件签收后长期不回复，逾期未完成整改，已挂牌督办。",
      held=(Held("李某", "信访局办信科科长", AccountabilityForm.REMINDER, OFFICE_BODY, M(3, 10),
                 "转办件长期未回复，对责任科室负责人提醒谈话。"),)),
    P("老旧小区改造项目进度滞后，群众意见较大", "2.05", "上级通报", HOUSING, RED, M(1, 15),
      (M(6, 10), M(6, 14)), ("倒排工期，每周调度项目进度", "对施工单位约谈并督促增加作业面"),
      "城关片区老旧小区改造完成率仅40%，低于全市平均水平。", co=(CHENGGUAN,), leader="副局长 周涛",
      person="黄志强", progress=("已召开调度会3次，约谈施工单位2家",)),
    P("学校食堂食材采购台账不规范", "5.16", "督查反馈", SCHOOL, RED, -8, (M(3, 5), M(3, 8)),
      ("建立食材采购验收台账", "公开招标确定配送企业"), leader="校长 王海", person="赵敏",
      progress=("已建立采购验收台账",)),
    P("重大项目审批环节多、时限长，企业反映强烈", "2.06", "上级通报", GOV_SERVICE, RED, -3, (M(2, 16), M(2, 20)),
      ("梳理项目审批事项，压减办理时限三分之一", "推行并联审批、容缺受理"),
      "企业反映项目从立项到施工许可平均耗时超过120个工作日。", co=("示范县发展和改革局",),
      leader="局长 孙明", person="刘洋", progress=("已完成审批事项梳理，正在修订流程",)),
    P("工程建设领域欠薪问题处置不及时", "3.09", "群众反映", HR, RED, M(2, 28), (M(5, 2), M(5, 6)),
      ("建立欠薪线索台账，实行清零销号", "对重点项目实行工资专户管理"), leader="局长 邓刚", person="高峰",
      progress=("已处置欠薪线索12条",)),
    P("乡镇卫生院夜间值班缺岗", "2.05", "明察暗访", HEALTH, RED, -1, (M(1, 16), M(1, 20)),
      ("完善夜间值班制度并严格考勤",), leader="副主任 许宁", person="陈晓燕"),
    # ---- 整改中, due soon (yellow)
    P("文件会议过多，一季度发文量同比不降反升", "4.11", "自查自纠", GOV_OFFICE, YELLOW, 2, (M(4, 18), M(4, 22)),
      ("建立发文计划审核制度，严控发文数量", "对一季度文件逐件清理"),
      "一季度以县政府办名义发文同比增长18%，部分文件照抄照转上级文件。", leader="主任 钱江", person="罗佳",
      progress=("已印发发文审核办法",)),
    P("教师培训经费使用不规范", "5.16", "审计监督", EDU, YELLOW, 5, (M(3, 20), M(3, 24)),
      ("开展培训经费专项清理", "完善培训经费管理办法"), leader="副局长 李红", person="张丽",
      progress=("已清理上年度培训经费支出",)),
    P("窗口工作人员上班时间玩手机，办事群众等候无人引导", "3.08", "明察暗访", MARKET, YELLOW, 0,
      (M(2, 8), M(2, 10)), ("对涉事人员批评教育并通报", "设立窗口引导岗，实行AB岗制度"), leader="局长 孔亮",
      person="吴敏", progress=("已通报并约谈涉事人员",)),
    P("财政资金拨付不及时，部分项目资金滞留", "2.04", "审计监督", FIN, YELLOW, 6, (M(2, 22), M(2, 25)),
      ("对滞留资金逐项清理拨付", "建立资金拨付预警机制"), leader="副局长 冯军", person="周强",
      progress=("已清理滞留资金项目15个",)),
    P("社区工作台账多、迎检材料重复报送", "4.12", "督查反馈", CHENGGUAN, YELLOW, 4, (M(1, 2), M(1, 5)),
      ("清理规范社区台账，合并重复报表",), co=("城关街道和平社区居民委员会",), leader="主任 唐辉", person="马超"),
    # ---- 整改中, on track (green)
    P("校外培训机构监管不到位", "2.04", "群众反映", EDU, GREEN, 40, (M(3, 12), M(3, 15)),
      ("开展校外培训机构专项排查", "建立联合执法机制"), co=(MARKET,), leader="副局长 李红", person="张丽",
      progress=("已排查机构46家",)),
    P("医院预约挂号“一号难求”，黄牛倒号屡禁不止", "3.08", "群众反映", HOSPITAL, GREEN, 25, (M(1, 9), M(1, 14)),
      ("上线分时段预约挂号", "联合公安打击倒号行为"), leader="院长 钟华", person="孙雪"),
    P("涉企检查多头重复，企业疲于应付", "4.12", "自查自纠", MARKET, GREEN, 60, (M(2, 3), M(2, 6)),
      ("推行“综合查一次”联合检查",), leader="局长 孔亮", person="吴敏"),
    P("政务服务“好差评”差评整改不闭环", "3.08", "督查反馈", GOV_SERVICE, GREEN, 18, (M(1, 18), M(1, 22)),
      ("建立差评回访整改闭环机制",), leader="局长 孙明", person="刘洋",
      progress=("已对上季度差评逐件回访",)),
    P("村级工作群过多过滥，基层干部负担重", "4.13", "自查自纠", QINGSHI, GREEN, 30, (D(12), D(9)),
      ("清理合并村级工作群",), leader="镇长 彭勇", person="何静"),
    P("城区燃气管道隐患排查不彻底", "2.07", "上级通报", HOUSING, GREEN, 12, (M(4, 8), M(4, 12)),
      ("全面排查老旧燃气管道", "督促燃气企业限期更换"), co=("示范县应急管理局",), leader="副局长 周涛",
      person="黄志强", progress=("已排查管道32公里",)),
    P("学生营养餐配送不及时", "3.10", "群众反映", PRIMARY, GREEN, 9, (M(1, 6), M(1, 8)),
      ("调整配送时间并建立反馈机制",), leader="校长 程静", person="胡晓"),
    # ---- 长期坚持, still under way
    P("干部队伍中存在“躺平式”现象，干事创业氛围不浓", "2.05", "自查自纠", EDU, LONG_TERM, None,
      (M(8, 12), M(8, 18)), ("开展“庸懒散慢”专项治理", "建立干部实绩考核台账"), leader="党组书记 陈刚",
      person="张丽", kind=RectificationType.LONG_TERM, progress=("已开展专项治理谈话20人次",)),
    # ---- 待核查: applied for sign-off
    P("基层医疗机构药品采购未全部上平台", "5.16", "审计监督", HEALTH, PENDING, 10, (M(3, 2), M(3, 6), D(4)),
      ("督促全部药品通过省平台采购", "开展药品采购专项检查"), leader="副主任 许宁", person="陈晓燕",
      progress=("17家基层医疗机构已全部上平台采购",)),
    P("办公用房超标准配备", "5.15", "巡视巡察", FIN, PENDING, -2, (M(5, 14), M(5, 18), D(6)),
      ("腾退超标准办公用房",), leader="局长 黄斌", person="周强", progress=("已腾退办公用房2间，面积46平方米",)),
    P("学校作业布置“一刀切”，学生负担重", "3.10", "群众反映", EDU, RETURNED, 15,
      (M(3, 14), M(3, 18), M(1, 8), M(1, 15), D(3)), ("制定作业分层布置指导意见", "开展作业质量专项检查"),
      leader="副局长 李红", person="张丽", progress=("已印发指导意见",), rules="作业分层布置指导意见"),
    P("社保卡补办需多次跑腿", "3.08", "明察暗访", HR, PENDING, 7, (M(2, 11), M(2, 14), M(1, 26)),
      ("实现社保卡即时制卡",), leader="局长 邓刚", person="高峰", progress=("即时制卡设备已投用",)),
    P("信访事项办理告知书格式不规范", "3.09", "督查反馈", PETITION, PENDING, 20, (M(1, 10), M(1, 12), D(2)),
      ("统一告知书格式并培训",), leader="局长 许文", person="郑丽", progress=("已统一格式并培训工作人员",)),
    # ---- 已销号, month by month since the campaign began
    P("要求村医每天在多个工作群“打卡晒图”，基层负担重", "4.13", "自查自纠", HEALTH, CLOSED, M(8, 25),
      (M(8, 6), M(8, 8), M(8, 20), M(8, 26)), ("取消工作群打卡晒图要求，合并工作群",), leader="副主任 许宁",
      person="陈晓燕", kind=RectificationType.IMMEDIATE, progress=("已取消打卡要求，工作群由9个合并为2个",)),
    P("学习贯彻党的创新理论流于形式，学习记录照抄照搬", "1.01", "自查自纠", EDU, CLOSED, M(7, 25),
      (M(8, 8), M(8, 12), M(7, 18), M(7, 24)), ("改进理论学习中心组学习制度",), leader="党组书记 陈刚",
      person="张丽", progress=("已修订学习制度",), rules="理论学习中心组学习制度（修订）"),
    P("超标准公务接待", "5.14", "巡视巡察", GOV_OFFICE, CLOSED, M(6, 28), (M(8, 10), M(8, 15), M(6, 18), M(6, 24)),
      ("清退超标准接待费用", "修订公务接待管理办法"), leader="主任 钱江", person="罗佳",
      progress=("已清退超标准费用2.3万元",), rules="公务接待管理办法（修订）", funds="23000"),
    P("窗口单位午休时间无人值守，群众办事“吃闭门羹”", "3.08", "明察暗访", GOV_SERVICE, CLOSED, M(5, 20),
      (M(5, 8), M(5, 10), M(5, 15), M(5, 19)), ("推行午间不打烊、延时服务",), leader="局长 孙明", person="刘洋",
      kind=RectificationType.IMMEDIATE, progress=("12个窗口已实行午间轮岗值守",), rules="午间不打烊服务制度",
      exemplar=Exemplar.POSITIVE, exemplar_note="立行立改，推行午间不打烊、延时服务，群众满意度明显提升。"),
    P("公车私用问题", "5.15", "明察暗访", TRANSPORT, CLOSED, M(5, 25), (M(8, 14), M(8, 20), M(4, 6), M(4, 12)),
      ("对当事人给予党纪处分并通报", "安装公车定位系统"), leader="局长 谢峰", person="林涛",
      progress=("公车定位系统已全部安装",), rules="公务用车使用管理办法", funds="3600",
      exemplar=Exemplar.NEGATIVE, exemplar_note="公车私用，当事人受到党纪处分，予以通报曝光。",
      held=(Held("王某", "机关车队驾驶员", AccountabilityForm.DISCIPLINARY, DISCIPLINE, M(6, 12),
                 "给予党内警告处分。"),)),
    P("社区网格员入户走访记录不实", "2.05", "督查反馈", CHENGGUAN, RELAPSED, M(4, 25),
      (M(6, 3), M(6, 7), M(4, 16), M(4, 22)), ("核实走访记录，对不实记录责任人批评教育",), leader="主任 唐辉",
      person="马超", progress=("已核实走访记录并批评教育3人",)),
    P("不动产登记“办证难”，群众反映材料多、时间长", "3.08", "群众反映", LAND, REOPENED, M(4, 15),
      (M(6, 18), M(6, 22), M(4, 8), M(4, 14), M(2, 8)), ("精简登记材料，推行一窗受理",), leader="局长 韩磊",
      person="梁文", progress=("登记材料由12项精简为7项",), rules="不动产登记一窗受理办法", reopen_due=M(1, 12)),
    P("落实上级减税降费政策打折扣", "1.02", "上级通报", FIN, CLOSED_AFTER_RETURN, M(3, 20),
      (M(6, 20), M(6, 24), M(3, 12), M(3, 18), M(2, 5), M(2, 12)), ("逐项梳理政策落实情况", "对应享未享企业逐户补落实"),
      leader="副局长 冯军", person="周强", progress=("已为38户企业补落实政策",), rules="减税降费政策落实台账制度"),
    P("社区办事指南公示内容过时", "3.08", "明察暗访", CHENGGUAN, CLOSED, M(3, 15),
      (M(5, 5), M(5, 9), M(3, 4), M(3, 10)), ("更新办事指南并上墙公示",), co=("城关街道和平社区居民委员会",),
      leader="主任 唐辉", person="马超", progress=("已更新指南12项",)),
    P("安全生产隐患整改“纸上销号”，现场复查仍未整改", "2.07", "督查反馈", TRANSPORT, CLOSED, M(4, 28),
      (M(6, 12), M(6, 16), M(3, 20), M(3, 26)), ("对已销号隐患逐项现场复查", "建立隐患整改闭环管理机制"),
      leader="局长 谢峰", person="林涛", progress=("已现场复查隐患63处",), rules="安全隐患整改闭环管理办法",
      held=(Held("赵某", "交通运输局安全监督科科长", AccountabilityForm.CIRCULATED, "县作风建设工作领导小组",
                 M(3, 6), "隐患整改弄虚作假，予以通报批评。"),)),
    P("城乡居民养老保险待遇资格认证“来回跑”", "3.10", "群众反映", HR, CLOSED, M(2, 28),
      (M(4, 6), M(4, 10), M(2, 18), M(2, 24)), ("推行待遇资格“静默认证”", "为行动不便老人上门认证"),
      leader="局长 邓刚", person="高峰", progress=("静默认证覆盖率达92%",), rules="待遇资格静默认证工作规程"),
    P("医院门诊收费项目公示不全", "3.10", "群众反映", HOSPITAL, CLOSED, M(1, 20),
      (M(3, 1), M(3, 4), M(1, 11), M(1, 17)), ("完善收费项目公示",), leader="院长 钟华", person="孙雪",
      progress=("已在门诊大厅设置电子公示屏",), funds="12800"),
    P("会议通知临时发、材料层层要", "4.11", "自查自纠", EDU, CLOSED, M(1, 28), (M(3, 10), M(3, 12), M(1, 6), M(1, 13)),
      ("实行会议计划管理，会议材料一次报送",), leader="副局长 李红", person="张丽",
      progress=("本季度会议数量同比下降35%",), rules="会议计划审批制度"),
    P("重要指示批示精神传达学习不及时", "1.03", "自查自纠", GOV_SERVICE, CLOSED, M(1, 10),
      (M(2, 2), M(2, 5), M(1, 21), M(1, 27)), ("建立重要指示批示传达学习台账",), leader="局长 孙明", person="刘洋",
      progress=("台账已建立",), rules="重要指示批示传达学习台账制度"),
    # ---- 长期坚持, signed off for this stage
    P("基层减负长效机制不健全", "4.11", "自查自纠", QINGSHI, STAGE_CLOSED, None,
      (M(8, 11), M(8, 16), M(2, 26), M(1, 5)), ("建立会议文件计划管理制度并长期执行",), leader="镇长 彭勇",
      person="何静", kind=RectificationType.LONG_TERM, progress=("本年度会议、文件数量分别下降32%和28%",),
      rules="会议文件计划管理制度", exemplar=Exemplar.POSITIVE,
      exemplar_note="建立会议文件计划管理制度，会议、文件数量分别下降32%和28%，基层减负见实效。"),
    # ---- 已作废
    P("窗口工作人员服务态度差（与已登记问题重复）", "3.08", "群众反映", MARKET, VOIDED, 10,
      (M(2, 3), M(2, 6), M(2, 14)), ()),
)

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def _month_start(today: dt.date, months_before: int) -> dt.date:
    """The first day of the month `months_before` months before today's (negative: after)."""
    index = today.year * 12 + today.month - 1 - months_before
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_end(first: dt.date) -> dt.date:
    return _month_start(first, -1) - dt.timedelta(days=1)


class _Loader:
    """Holds what the steps share: now, the office account, units by name, liaisons by unit."""

    def __init__(self, stdout: Any, root: Unit, office: User) -> None:
        self.stdout = stdout
        self.root = root
        self.office = office
        self.now = timezone.localtime()
        self.today = self.now.date()
        self.units = {u.name: u for u in Unit.objects.subtree_of(root).filter(is_active=True)}
        self.liaisons: dict[int, User] = {}
        self.created_liaisons = 0

    def day(self, offset: int) -> dt.date:
        return self.today + dt.timedelta(days=offset)

    def date_of(self, when: When) -> dt.date:
        """The day of `when`, never after today."""
        if when.days_ago is not None:
            return self.today - dt.timedelta(days=when.days_ago)
        first = _month_start(self.today, when.months)
        return min(first.replace(day=min(when.day, _month_end(first).day)), self.today)

    def moment(self, when: When, hour: int = 10) -> dt.datetime:
        """`when` at `hour` o'clock, never later than an hour ago."""
        at = timezone.make_aware(dt.datetime.combine(self.date_of(when), dt.time(hour)))
        return min(at, self.now - dt.timedelta(hours=1))

    def deadline(self, due: int | When | None) -> dt.date | None:
        if due is None:
            return None
        return self.day(due) if isinstance(due, int) else self.date_of(due)

    def liaison_for(self, unit: Unit) -> User:
        """An active liaison acting for `unit` (of it or of an ancestor); one is created if there is none."""
        if unit.pk in self.liaisons:
            return self.liaisons[unit.pk]
        candidates = User.objects.with_role(Role.LIAISON).filter(is_active=True, unit__isnull=False).select_related(
            "unit"
        )
        best = None
        for u in candidates:
            if unit.path.startswith(u.unit.path) and (best is None or len(u.unit.path) > len(best.unit.path)):
                best = u
        if best is None:
            username, full_name = LIAISONS.get(unit.name, (f"lly{unit.pk}", f"{unit.display_name}联络员"))
            base, n = username, 1
            while User.objects.filter(username=username).exists():
                n += 1
                username = f"{base}{n}"
            best, _ = user_create(by=None, username=username, full_name=full_name, unit=unit, roles=[Role.LIAISON])
            self.created_liaisons += 1
        self.liaisons[unit.pk] = best
        return best


def _md(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"


def _campaign(loader: _Loader) -> Campaign:
    """The campaign of a year from the month `CAMPAIGN_MONTHS` before this one: a month of 集中排查, three of 集中整改,
    six of 动态整改, two of 回头看."""
    start = _month_start(loader.today, CAMPAIGN_MONTHS)

    def month(k: int) -> dt.date:
        return _month_start(start, -k)

    investigation_end = _month_end(start)
    rectification_end = _month_end(month(3))
    dynamic_end = _month_end(month(9))
    end = _month_end(month(11))
    phases = [
        {"kind": PhaseKind.INVESTIGATION, "name": "", "start_date": start, "deadline": investigation_end,
         "note": f"{_md(investigation_end)}前各单位报送问题台账"},
        {"kind": PhaseKind.RECTIFICATION, "name": "", "start_date": month(1), "deadline": rectification_end,
         "note": f"{_md(rectification_end)}前集中整改完毕"},
        {"kind": PhaseKind.DYNAMIC, "name": "", "start_date": month(4), "deadline": dynamic_end,
         "note": f"新发现问题随时登记、动态清零，{_md(dynamic_end)}前完成销号"},
        {"kind": PhaseKind.LOOKBACK, "name": "", "start_date": month(10), "deadline": end,
         "note": "对已销号问题抽查回头看，防止反弹回潮"},
    ]
    campaign = campaign_services.campaign_create(
        by=loader.office, name=CAMPAIGN_NAME, code=CAMPAIGN_CODE,
        description="聚焦政治责任、担当尽责、人民立场、基层减负、清正廉洁五个方面，查摆问题、建立台账、限期整改、逐项销号。",
        jurisdiction=[loader.root], start_date=start, end_date=end, status=CampaignStatus.ACTIVE, phases=phases,
        report_units=_report_rows(loader.root),
    )
    by_code: dict[str, Category] = {}
    for code, name, parent in CATEGORIES:
        by_code[code] = campaign_services.category_create(
            campaign=campaign, by=loader.office, code=code, name=name, parent=by_code.get(parent)
        )
    return campaign


# The 县委 and 县政府 hold the 县直部门: the reports count their departments, each with its own row, beside the
# county's other units and the 乡镇街道.
GROUPS = ("县委", "县政府")


def _report_rows(root: Unit) -> list[Unit]:
    rows: list[Unit] = []
    for child in Unit.objects.filter(parent=root).order_by("sort_order", "path"):
        if child.short_name in GROUPS:
            rows.extend(Unit.objects.filter(parent=child).order_by("sort_order", "path"))
        else:
            rows.append(child)
    return rows


def _steps(loader: _Loader, spec: DemoProblem) -> dict[str, dt.datetime]:
    """The moments of the problem's steps, in their order (two steps on one day an hour apart at least)."""
    names = STEPS[spec.state]
    if len(spec.when) != len(names):
        raise ValueError(f"示范问题“{spec.summary}”应有 {len(names)} 个时间点（{'、'.join(names)}）。")
    out: dict[str, dt.datetime] = {}
    last: dt.datetime | None = None
    for name, when in zip(names, spec.when, strict=True):
        at = loader.moment(when, HOURS[name])
        if last is not None and at <= last:
            at = last + dt.timedelta(hours=1)
        out[name] = last = at
    return out


def _between(start: dt.datetime, end: dt.datetime, share: float) -> dt.datetime:
    return start + (end - start) * share


def _measure_deadline(problem: Problem, spec: DemoProblem, i: int) -> dt.date | None:
    if spec.kind == RectificationType.LONG_TERM or problem.deadline is None:
        return None
    return problem.deadline - dt.timedelta(days=7 * (len(spec.measures) - 1 - i))


def _add_measures(
    loader: _Loader, problem: Problem, spec: DemoProblem, liaison: User, at: dt.datetime
) -> list[Any]:
    measures = []
    for i, content in enumerate(spec.measures):
        unit = problem.lead_unit
        assert unit is not None  # every demo problem is created with its lead unit
        if i == len(spec.measures) - 1 and spec.co and i > 0:
            unit = loader.units.get(spec.co[0], unit)  # the last measure goes to the co-unit
        measures.append(services.measure_create(
            problem=problem, by=liaison, content=content, unit=unit, responsible_person=spec.person,
            deadline=_measure_deadline(problem, spec, i), is_long_term=spec.kind == RectificationType.LONG_TERM,
            at=at,
        ))
    return measures


def _progress(measure: Any, liaison: User, text: str, at: dt.datetime, *, done: bool, evidence: str = "") -> None:
    files = [SimpleUploadedFile(evidence, PDF, content_type="application/pdf")] if evidence else []
    on = timezone.localdate(at)
    services.progress_add(measure=measure, by=liaison, text=text, on=on, files=files, at=at)
    status = MeasureStatus.DONE if done else MeasureStatus.IN_PROGRESS
    workflow.measure_set_status(measure=measure, by=liaison, status=status, completed_on=on if done else None)


def _problem(loader: _Loader, campaign: Campaign, spec: DemoProblem, cats: dict[str, Category],
             sources: dict[str, Source]) -> Problem | None:
    lead = loader.units.get(spec.lead)
    if lead is None:
        return None
    office = loader.office
    found_by = loader.units.get(OFFICE_UNIT)
    if spec.source == "巡视巡察":
        found_by = loader.units.get("中共示范县委巡察工作领导小组办公室", found_by)
    elif spec.source == "审计监督":
        found_by = loader.units.get("示范县审计局", found_by)
    elif spec.source == "自查自纠":
        found_by = lead
    steps = _steps(loader, spec)
    problem = services.problem_create(
        campaign=campaign, by=office, summary=spec.summary, description=spec.description or spec.summary + "。",
        co_units=[u for u in (loader.units.get(n) for n in spec.co) if u is not None],
        source=sources.get(spec.source), category=cats.get(spec.category),
        discovered_on=timezone.localdate(steps[ENTER]) - dt.timedelta(days=3), found_by=found_by, lead_unit=lead,
        responsible_leader=spec.leader, responsible_person=spec.person, rectification_type=spec.kind,
        deadline=loader.deadline(spec.due), at=steps[ENTER],
    )
    if spec.state == DRAFT:
        return problem
    assigned = steps[ASSIGN]
    workflow.assign(problem=problem, by=office, reason="请按期整改，按时报送整改进展。", at=assigned)
    if spec.state == VOIDED:
        workflow.void(problem=problem, by=office, reason="经核实与已登记问题重复，予以作废。", at=steps[VOID])
        return problem
    liaison = loader.liaison_for(lead)
    applied = steps.get(APPLY)
    until = applied or loader.now
    measures = _add_measures(loader, problem, spec, liaison, _between(assigned, until, 0.1))
    texts = list(spec.progress) or ["已制定整改方案，正在推进"]
    for i, m in enumerate(measures):
        text = texts[i] if i < len(texts) else "已按计划完成"
        if applied is not None:
            _progress(m, liaison, text, _between(assigned, applied, 0.2 + 0.7 * (i + 1) / len(measures)),
                      done=True, evidence="整改佐证材料.pdf" if i == 0 else "")
        elif i == 0 and spec.progress:
            # the first measure of an open problem: done for green ones, under way otherwise
            _progress(m, liaison, text, _between(assigned, until, 0.5),
                      done=spec.state == GREEN and len(measures) > 1)
        elif i == 1 and spec.state == RED:
            _progress(m, liaison, "正在推进，进度滞后", _between(assigned, until, 0.85), done=False)
    if applied is None:
        _marks(loader, problem, spec)
        return problem
    summary = "；".join(texts) + "。各项整改措施已完成，申请销号。"
    funds = Decimal(spec.funds) if spec.funds else None
    workflow.apply(problem=problem, by=liaison, summary=summary, rules_made=spec.rules, funds_recovered=funds,
                   at=applied)
    if RETURN in steps:
        returned, reapplied = steps[RETURN], steps[REAPPLY]
        workflow.return_(problem=problem, by=office, opinion="佐证材料不足，请补充整改前后对比材料后重新申请。",
                         at=returned)
        reported = _between(returned, reapplied, 0.5)
        services.progress_add(measure=measures[0], by=liaison, text="补充整改前后对比材料",
                              on=timezone.localdate(reported), at=reported,
                              files=[SimpleUploadedFile("整改前后对比.pdf", PDF, content_type="application/pdf")])
        workflow.apply(problem=problem, by=liaison, summary="已按核查意见补充佐证材料。" + summary,
                       rules_made=spec.rules, funds_recovered=funds, at=reapplied)
    if spec.state == STAGE_CLOSED:
        workflow.approve(problem=problem, by=office, opinion="阶段目标已完成，同意阶段性销号，继续长期坚持。",
                         stage=True, at=steps[APPROVE])
    elif APPROVE in steps:
        workflow.approve(problem=problem, by=office, opinion="经核查，整改到位，同意销号。", at=steps[APPROVE])
    if REOPEN in steps:
        reopened = steps[REOPEN]
        workflow.reopen(problem=problem, by=office, reason="群众再次反映整改不彻底，重新整改。",
                        deadline=loader.deadline(spec.reopen_due), at=reopened)
        _progress(measures[0], liaison, "重新整改：对群众再次反映的问题逐项核查整改",
                  _between(reopened, loader.now, 0.4), done=False)
    _marks(loader, problem, spec)
    return problem


def _marks(loader: _Loader, problem: Problem, spec: DemoProblem) -> None:
    """What the office recorded about the problem besides its steps: 挂牌督办, 追责问责, 典型案例."""
    office = loader.office
    if spec.listed is not None:
        workflow.set_listed(problem=problem, by=office, listed=True, at=loader.moment(spec.listed, 10),
                            reason="逾期未完成整改，群众反映强烈，挂牌督办。")
    for held in spec.held:
        services.accountability_add(
            problem=problem, by=office, unit=problem.lead_unit, person=held.person, post=held.post, form=held.form,
            decided_on=loader.date_of(held.when) - dt.timedelta(days=1), decided_by=held.decided_by, note=held.note,
            at=loader.moment(held.when, 16),
        )
    if spec.exemplar:
        workflow.set_exemplar(problem=problem, by=office, kind=spec.exemplar, note=spec.exemplar_note)


def _lookback(loader: _Loader, campaign: Campaign, relapsed: list[Problem]) -> int:
    """Today's 回头看 batch over the units of the relapsed problems: one relapse, the rest consolidated."""
    count = 0
    for problem in relapsed:
        assert problem.lead_unit is not None  # every demo problem is created with its lead unit
        checks = lookback.lookback_draw(
            campaign=campaign, by=loader.office, batch=f"第一批回头看（{problem.lead_unit.display_name}）",
            unit=problem.lead_unit,
        )
        for check in LookbackCheck.objects.filter(pk__in=[c.pk for c in checks]).select_related("problem"):
            if check.problem_id == problem.pk:
                lookback.lookback_record(check=check, by=loader.office, result="relapsed",
                                         finding="抽查发现部分网格员走访记录仍存在代签、补记现象。")
            else:
                lookback.lookback_record(check=check, by=loader.office, result="consolidated",
                                         finding="实地抽查，整改成果巩固。")
            count += 1
    return count


def _history(campaign: Campaign) -> str:
    """Month by month: problems first assigned, and problems signed off (销号, 阶段性销号 included)."""
    assigned: dict[str, set[int]] = {}
    closed: dict[str, int] = {}
    first: dict[int, str] = {}
    for pid, at, action in (Transition.objects.filter(problem__campaign=campaign).order_by("at", "id")
                            .values_list("problem_id", "at", "action")):
        month = f"{timezone.localtime(at):%Y-%m}"
        assigned.setdefault(month, set())
        closed.setdefault(month, 0)
        if action == TransitionAction.ASSIGN and pid not in first:
            first[pid] = month
            assigned[month].add(pid)
        elif action in (TransitionAction.APPROVE, TransitionAction.STAGE_APPROVE):
            closed[month] += 1
    return "，".join(f"{m} 分派 {len(assigned[m])} 个、销号 {closed[m]} 个" for m in sorted(assigned)
                    if assigned[m] or closed[m])


@transaction.atomic
def load_demo(stdout: Any) -> None:
    if Campaign.objects.filter(code=CAMPAIGN_CODE).exists():
        stdout.write(f"示范专项行动 {CAMPAIGN_CODE} 已存在，未做改动。")
        return
    root = units_demo.demo_root()
    office_names = [a.username for a in units_demo.DEMO_ACCOUNTS if Role.OFFICE in a.roles]
    office = User.objects.filter(username__in=office_names, is_active=True).first()
    if root is None or office is None or not office.has_role(Role.OFFICE):
        stdout.write("未找到示范县或作风办示范账号，跳过问题台账示范数据。")
        return
    loader = _Loader(stdout, root, office)
    campaign = _campaign(loader)
    cats = {c.code: c for c in Category.objects.filter(campaign=campaign)}
    sources = {s.name: s for s in Source.objects.filter(campaign=campaign)}
    made = [(spec, _problem(loader, campaign, spec, cats, sources)) for spec in PROBLEMS]
    relapsed = [p for spec, p in made if p is not None and spec.state == RELAPSED]
    checks = _lookback(loader, campaign, relapsed)
    problems = [p for _, p in made if p is not None]
    stdout.write(
        f"已创建示范专项行动“{CAMPAIGN_NAME}”（{CAMPAIGN_CODE}，{campaign.start_date:%Y-%m-%d} 起）："
        f"{len(CATEGORIES)} 个问题类别，{len(problems)} 个问题，回头看抽查 {checks} 个；"
        f"新建联络员账号 {loader.created_liaisons} 个（初始密码由管理员重置后发放）。"
    )
    stdout.write(f"各月分派与销号：{_history(campaign)}。")


@transaction.atomic
def reset_demo(stdout: Any) -> None:
    """Delete the demo campaign and its problems (their evidence files too), so the units can go."""
    campaign = Campaign.objects.filter(code=CAMPAIGN_CODE).first()
    if campaign is None:
        return
    for ev in Evidence.all_objects.filter(problem__campaign=campaign):
        ev.file.delete(save=False)
    deleted, _ = Problem.objects.filter(campaign=campaign).delete()
    # Categories protect their parents: the deepest first.
    cats = Category.objects.filter(campaign=campaign)
    while cats.exists():
        cats.filter(children__isnull=True).delete()
    campaign.delete()
    stdout.write(f"已删除示范专项行动 {CAMPAIGN_CODE} 及其问题台账数据。")
