"""季通报: the quarterly bulletin in Word, laid out after GB/T 9704 (`core.officialdoc`), and its tables in Excel;
every figure taken from `reports.figures`, as it stood at the period's end E.

    bulletin = bulletin_for(campaign, 2026, 3, doc_number="作风办〔2026〕5号", issued_on=dt.date(2026, 10, 9))
    docx, xlsx = build_quarterly_docx(bulletin), build_quarterly_xlsx(bulletin)

The document: the 文号 and the title, the addressees, then 一、总体情况 (the figures as sentences, the 整改成效 and the
追责问责 of the quarter), 二、各单位整改情况 (the ranking, the 红榜 and the 黑榜), 三、存在的主要问题 (the units with
overdue problems, every 挂牌督办 problem), 四、典型案例, 五、下步工作要求; the 附件 line, the office and the date; the
附件 (the ranking table of every reporting unit) on a landscape page of its own.

The workbook: 各单位整改情况, 逾期问题清单, 挂牌督办清单, 典型案例; title rows, A4 landscape, header rows repeated,
numbers as numbers and rates with a percentage format (the layout of the 月调度, `reports.monthly`).

Two things the bulletin counts that are not report figures: the 整改成效 (the 制度 made and the funds recovered, as
reported with the applications approved within the quarter) and the 追责问责 decided within the quarter.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt
from openpyxl import Workbook

from campaigns.models import Campaign
from core import officialdoc as od
from ledger.models import (
    Accountability,
    AccountabilityForm,
    Exemplar,
    Problem,
    ProblemStatus,
    ReviewDecision,
    ReviewRound,
)
from units.models import Unit

from .figures import (
    Figures,
    Period,
    ProblemAtE,
    Snapshot,
    black_list_streaks,
    by_reporting_unit,
    honour_and_black_lists,
    listed_at,
    rank_units,
    rate_text,
    reporting_units,
    snapshot,
    supervision_at,
    unit_lights,
)
from .monthly import DASH, FIRST_DATA_ROW, Points, _change, _problem_list, _rate, _sheet, _write_row

CN_QUARTERS = "一二三四"
ADDRESSEES = "各乡镇（街道）、县直各单位："
SHEETS = ("各单位整改情况", "逾期问题清单", "挂牌督办清单", "典型案例")
DEFAULT_REQUIREMENTS = "\n".join((
    "一是压紧压实整改责任。各单位主要负责同志要切实履行第一责任人职责，对本单位的问题亲自研究、亲自推动，"
    "逐项明确责任人和完成时限，确保问题真改实改、改到位。",
    "二是加快推进逾期和挂牌督办问题整改。对逾期未整改和挂牌督办的问题，责任单位要逐一分析原因，倒排工期、"
    "挂图作战，限期整改到位，并及时在整改台账系统中填报整改进展。",
    "三是严格整改销号把关。各单位要如实填报整改情况、提供佐证材料，坚决防止虚假整改、敷衍整改、纸面整改；"
    "对已销号问题适时开展“回头看”，防止问题反弹回潮。",
    "四是强化结果运用。整改情况将按季度通报排名，对整改不力、连续列入黑榜的单位，将按有关规定约谈提醒；"
    "情节严重的，依规依纪严肃追责问责。",
))

RANKING_HEADERS = ("排名", "单位", "问题总数", "已销号", "整改率", "按期整改率", "逾期")
# Column widths in mm: the body's table across the 156 mm type area, each head on one line at 小4号 (a character
# 4.2 mm and 3.8 mm of cell margins); the annex's across the 225 mm of the landscape page at 5号, the longer heads
# on two lines.
RANKING_WIDTHS = (12, 50, 18, 16, 21, 25, 14)
ANNEX_HEADERS = (*RANKING_HEADERS, "待核查", "整改中", "长期坚持", "环比", "亮灯", "连续上黑榜")
ANNEX_WIDTHS = (12, 52, 12, 14, 18, 18, 12, 14, 14, 12, 17, 12, 18)


@dataclass(frozen=True)
class Bulletin:
    campaign: Campaign
    year: int
    quarter: int  # 1..4
    period: Period  # the quarter, possibly counted only up to an as-of day (`Period.until`)
    doc_number: str  # 作风办〔2026〕5号
    issued_on: dt.date
    office_name: str  # the issuing office
    requirements: str  # 五、下步工作要求, one paragraph a line; empty: `DEFAULT_REQUIREMENTS`


def bulletin_for(campaign: Campaign, year: int, quarter: int, *, doc_number: str, issued_on: dt.date,
                 as_of: dt.date | None = None) -> Bulletin:
    """The bulletin of a campaign's quarter counted up to `as_of` (by default its last day), issued by the office
    named in settings, with the campaign's 下步工作要求."""
    return Bulletin(campaign=campaign, year=year, quarter=quarter, period=Period.quarter(year, quarter).until(as_of),
                    doc_number=doc_number, issued_on=issued_on, office_name=settings.SUPERVISION_OFFICE_NAME,
                    requirements=campaign.bulletin_requirements)


def quarter_text(b: Bulletin) -> str:
    """2026年第三季度."""
    return f"{b.year}年第{CN_QUARTERS[b.quarter - 1]}季度"


def bulletin_title(b: Bulletin) -> str:
    """关于2026年第三季度作风问题整改情况的通报."""
    return "".join(title_lines(b))


def title_lines(b: Bulletin) -> tuple[str, str]:
    """The title as printed on two lines, each of whole words (it is too long for one line of 2号)."""
    return f"关于{quarter_text(b)}作风问题", "整改情况的通报"


def annex_title(b: Bulletin) -> str:
    """The 附件's name: 2026年第三季度各单位作风问题整改情况排名表."""
    return f"{quarter_text(b)}各单位作风问题整改情况排名表"


def area_name(campaign: Campaign) -> str:
    """How the bulletin names the whole jurisdiction: 全县 for 示范县 (全市, 全区 …); otherwise its name."""
    roots = list(campaign.jurisdiction.all())
    if len(roots) != 1:
        return "各单位"
    name = roots[0].name
    return f"全{name[-1]}" if name and name[-1] in "县市区旗" else name


# ---- what the bulletin says ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class UnitRow:
    unit: Unit
    figures: Figures
    previous: Figures  # at the end of the quarter before
    rank: int | None  # None: no counted problems, not ranked
    light: str
    streak: int  # periods in a row on the 黑榜, this one included; 0 when not on it

    @property
    def change(self) -> float | None:
        """环比, in percentage points."""
        return _points_of(self.figures, self.previous)


@dataclass(frozen=True)
class Results:
    """整改成效 reported with the applications approved within the quarter."""

    rules: int  # 制度 made (one a line of `ReviewRound.rules_made`)
    funds: Decimal  # 挽回经济损失, 元


@dataclass
class BulletinData:
    snap: Snapshot
    figures: Figures
    previous: Figures  # the campaign's figures at the end of the quarter before
    rows: list[UnitRow]  # the ranked units by rank, then the others in the roster's order
    red: list[Unit]
    black: list[Unit]
    overdue: list[ProblemAtE]  # most days overdue first
    listed: list[ProblemAtE]  # 挂牌督办 at E
    exemplars: list[ProblemAtE]  # 正面 / 反面 典型 among the counted problems
    problems: dict[int, Problem]  # the problems named above
    lead_names: dict[int, str]  # {problem id: its lead unit at E}
    results: Results
    accountability: dict[str, int]  # {问责方式: 人次} decided within the quarter, lightest form first

    @property
    def ranked(self) -> list[UnitRow]:
        return [r for r in self.rows if r.rank is not None]

    @property
    def change(self) -> float | None:
        """The campaign's 环比, in percentage points."""
        return _points_of(self.figures, self.previous)


def _points_of(now: Figures, before: Figures) -> float | None:
    """环比 as the 月调度 writes it (`reports.monthly._change`); None when either rate is over an empty population."""
    change = _change(now.closure_rate, before.closure_rate)
    return float(change) if isinstance(change, Points) else None


def _results(b: Bulletin, ids: list[int]) -> Results:
    counted = set(ids)
    rounds = ReviewRound.objects.filter(
        problem__campaign=b.campaign, decision__in=[ReviewDecision.APPROVED, ReviewDecision.STAGE_APPROVED],
        reviewed_at__gte=b.period.start_moment, reviewed_at__lte=b.period.end_moment,
    ).values_list("problem_id", "rules_made", "funds_recovered")
    rules, funds = 0, Decimal(0)
    for pid, made, recovered in rounds:
        if pid not in counted:
            continue
        rules += sum(1 for line in (made or "").splitlines() if line.strip())
        funds += recovered or 0
    return Results(rules, funds)


def _accountability(b: Bulletin) -> dict[str, int]:
    # By the day of the decision: one entered after the quarter but decided within it is the quarter's.
    forms = Counter(Accountability.objects.filter(
        problem__campaign=b.campaign, decided_on__gte=b.period.start, decided_on__lte=b.period.end,
    ).values_list("form", flat=True))
    return {str(label): forms[value] for value, label in AccountabilityForm.choices if forms[value]}


def bulletin_data(b: Bulletin) -> BulletinData:
    """Everything the document and the workbook say, as it stood at E."""
    campaign = b.campaign
    snap = snapshot(campaign, b.period)
    before = snapshot(campaign, b.period.previous("quarterly"))
    units = reporting_units(campaign)
    table = by_reporting_unit(snap, units)
    previous = by_reporting_unit(before, units)
    ranking = rank_units(table)
    red_ids, black_ids = honour_and_black_lists(ranking, top=campaign.honour_list_size,
                                                bottom=campaign.black_list_size)
    streaks = (black_list_streaks(campaign, b.period, "quarterly", units, current=black_ids) if black_ids
               else {u.pk: 0 for u in units})
    lights = unit_lights(snap, units, table)
    by_id = {u.pk: u for u in units}
    ranks = {r.unit_id: r.rank for r in ranking}
    order = {r.unit_id: i for i, r in enumerate(ranking)}
    rows = [UnitRow(u, table[u.pk], previous[u.pk], ranks.get(u.pk), lights[u.pk], streaks.get(u.pk, 0))
            for u in units]
    rows.sort(key=lambda r: (r.rank is None, order.get(r.unit.pk, 0)))

    counted = [p.problem_id for p in snap.problems]
    listed_ids = listed_at(snap)
    exemplar_ids = set(Problem.objects.filter(campaign=campaign, exemplar__in=[Exemplar.POSITIVE, Exemplar.NEGATIVE])
                       .values_list("pk", flat=True)).intersection(counted)
    named = [p for p in snap.problems if p.overdue or p.problem_id in listed_ids or p.problem_id in exemplar_ids]
    problems = Problem.objects.only(
        "pk", "number", "summary", "listed_at", "listed_reason", "exemplar", "exemplar_note",
    ).in_bulk([p.problem_id for p in named])
    unit_names = dict(Unit.objects.filter(pk__in={p.lead_unit_id for p in named if p.lead_unit_id})
                      .values_list("pk", "name"))

    def by_number(items: list[ProblemAtE]) -> list[ProblemAtE]:
        return sorted(items, key=lambda p: problems[p.problem_id].number)

    return BulletinData(
        snap=snap, figures=snap.figures(), previous=before.figures(), rows=rows,
        red=[by_id[i] for i in red_ids], black=[by_id[i] for i in black_ids],
        overdue=sorted(by_number([p for p in snap.problems if p.overdue]), key=lambda p: -p.overdue_days),
        listed=by_number([p for p in snap.problems if p.problem_id in listed_ids]),
        exemplars=by_number([p for p in snap.problems if p.problem_id in exemplar_ids]),
        problems=problems,
        lead_names={p.problem_id: unit_names.get(p.lead_unit_id or 0, "") for p in named},
        results=_results(b, counted), accountability=_accountability(b),
    )


# ---- sentences ------------------------------------------------------------------------------------------------------

def _day(b: Bulletin) -> str:
    return f"{b.period.end.month}月{b.period.end.day}日"


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in "。！？；…" else f"{text}。"


def _points(change: float) -> str:
    if abs(change) < 0.05:
        return "与上季度末持平"
    return f"较上季度末{'提高' if change > 0 else '下降'}{abs(change):.1f}个百分点"


def _points_cell(change: float | None) -> str:
    return DASH if change is None else f"{change:+.1f}"


def _amount(yuan: Decimal) -> str:
    """12345.60 元 as 1.23万元, 800 元 as 800元."""
    value, unit = (yuan / 10000, "万元") if yuan >= 10000 else (yuan, "元")
    text = f"{value.quantize(Decimal('0.01'))}"
    return f"{text.rstrip('0').rstrip('.')}{unit}"


def overview(b: Bulletin, data: BulletinData) -> list[str]:
    """一、总体情况: the figures, the 整改成效 and the 追责问责, as paragraphs."""
    f, area = data.figures, area_name(b.campaign)
    if not f.total:
        return [f"截至{_day(b)}，{area}暂无纳入统计的作风问题。"]
    long_term = f"（其中长期坚持类{f.long_term}个）" if f.long_term else ""
    text = (f"截至{_day(b)}，{area}共排查问题{f.total}个{long_term}，已销号{f.closed}个，"
            f"整改率{rate_text(f.closure_rate)}，按期整改率{rate_text(f.on_time_rate)}；"
            f"本季度新增问题{f.new}个；待核查{f.pending_review}个，整改中{f.in_progress}个；"
            f"逾期问题{f.overdue}个，逾期率{rate_text(f.overdue_rate)}。")
    if data.change is not None:
        text += f"整改率{_points(data.change)}。"
    out = [text]
    results = []
    if data.results.rules:
        results.append(f"建立完善制度{data.results.rules}项")
    if data.results.funds:
        results.append(f"挽回经济损失{_amount(data.results.funds)}")
    if results:
        out.append(f"整改成效方面，本季度经核查销号的问题中，各单位{'，'.join(results)}。")
    if data.accountability:
        total = sum(data.accountability.values())
        forms = "、".join(f"{form}{n}人次" for form, n in data.accountability.items())
        out.append(f"追责问责方面，本季度共追责问责{total}人次，其中{forms}。")
    return out


def _names(units: list[Unit], streaks: dict[int, int] | None = None) -> str:
    def one(u: Unit) -> str:
        n = (streaks or {}).get(u.pk, 0)
        return f"{u.name}（连续{n}期）" if n > 1 else u.name
    return "、".join(one(u) for u in units)


def lists_text(data: BulletinData) -> list[str]:
    """The 红榜 and the 黑榜, named."""
    if not data.ranked:
        return []
    streaks = {r.unit.pk: r.streak for r in data.rows}
    out = [f"列入本季度红榜的单位（{len(data.red)}个）：{_names(data.red)}。"] if data.red else []
    if data.black:
        text = (f"列入本季度黑榜的单位（{len(data.black)}个）：{_names(data.black, streaks)}。"
                "请上述单位深刻分析原因，切实加快整改进度。")
        if any(streaks[u.pk] > 1 for u in data.black):
            text += "对连续列入黑榜的单位，将按有关规定约谈提醒。"
        out.append(text)
    else:
        out.append("本季度无单位列入黑榜。")
    return out


def _ranking_cells(r: UnitRow) -> list[str]:
    f = r.figures
    return [str(r.rank) if r.rank is not None else DASH, r.unit.name, str(f.total), str(f.closed),
            rate_text(f.closure_rate), rate_text(f.on_time_rate), str(f.overdue)]


def _annex_cells(r: UnitRow) -> list[str]:
    f = r.figures
    return [*_ranking_cells(r), str(f.pending_review), str(f.in_progress), str(f.long_term), _points_cell(r.change),
            r.light, f"{r.streak}期" if r.streak else DASH]


def _problem_line(data: BulletinData, p: ProblemAtE) -> tuple[Problem, str]:
    problem = data.problems[p.problem_id]
    return problem, data.lead_names.get(p.problem_id, "")


# ---- the document ---------------------------------------------------------------------------------------------------

def _overview(doc: DocumentObject, b: Bulletin, data: BulletinData) -> None:
    od.heading(doc, "一、总体情况")
    for text in overview(b, data):
        od.paragraph(doc, text, indent_chars=2)


def _units(doc: DocumentObject, data: BulletinData) -> None:
    od.heading(doc, "二、各单位整改情况")
    ranked = data.ranked
    if not ranked:
        od.paragraph(doc, "本季度各单位均无纳入统计的问题，不作排名。", indent_chars=2)
        return
    od.paragraph(doc, f"按照整改率、按期整改率、逾期问题数依次排序，{len(ranked)}个单位排名情况如下：", indent_chars=2)
    od.table(doc, RANKING_HEADERS, [_ranking_cells(r) for r in ranked], widths=RANKING_WIDTHS, left=(1,))
    unranked = len(data.rows) - len(ranked)
    if unranked:
        od.paragraph(doc, f"另有{unranked}个单位本季度无纳入统计的问题，未参与排名。", indent_chars=2)
    for text in lists_text(data):
        od.paragraph(doc, text, indent_chars=2)


def _issues(doc: DocumentObject, b: Bulletin, data: BulletinData) -> None:
    od.heading(doc, "三、存在的主要问题")
    overdue_units = sorted((r for r in data.rows if r.figures.overdue), key=lambda r: -r.figures.overdue)
    if not data.overdue and not data.listed:
        od.paragraph(doc, f"截至{_day(b)}，各单位无逾期未整改问题和挂牌督办问题。", indent_chars=2)
        return
    sub = iter(("（一）", "（二）"))
    if data.overdue:
        od.heading(doc, f"{next(sub)}逾期未整改问题", level=2)
        named = "、".join(f"{r.unit.name}（{r.figures.overdue}个）" for r in overdue_units)
        od.paragraph(doc, f"截至{_day(b)}，仍有{data.figures.overdue}个问题逾期未完成整改，涉及{named}。"
                          "相关单位要逐一查找原因，限期整改到位。", indent_chars=2)
    if data.listed:
        od.heading(doc, f"{next(sub)}挂牌督办问题", level=2)
        od.paragraph(doc, f"截至{_day(b)}，共有挂牌督办问题{len(data.listed)}个：", indent_chars=2)
        for i, p in enumerate(data.listed, start=1):
            problem, lead = _problem_line(data, p)
            od.paragraph(doc, f"{i}.{problem.number}　{problem.summary.rstrip('。')}"
                              f"（牵头单位：{lead or '未明确'}；{ProblemStatus(p.state).label}）。", indent_chars=2)


def _cases(doc: DocumentObject, data: BulletinData) -> None:
    od.heading(doc, "四、典型案例")
    groups = [(label, [p for p in data.exemplars if data.problems[p.problem_id].exemplar == kind])
              for kind, label in ((Exemplar.POSITIVE, "正面典型"), (Exemplar.NEGATIVE, "反面典型"))]
    groups = [(label, items) for label, items in groups if items]
    if not groups:
        od.paragraph(doc, "本季度未确定典型案例。", indent_chars=2)
        return
    for sub, (label, items) in zip(("（一）", "（二）"), groups, strict=False):
        od.heading(doc, f"{sub}{label}", level=2)
        for i, p in enumerate(items, start=1):
            problem, lead = _problem_line(data, p)
            od.paragraph(doc, f"{i}.{lead}{'：' if lead else ''}{_sentence(problem.summary)}"
                              f"{_sentence(problem.exemplar_note)}", indent_chars=2)


def _requirements(doc: DocumentObject, b: Bulletin) -> None:
    od.heading(doc, "五、下步工作要求")
    od.texts(doc, b.requirements.strip() or DEFAULT_REQUIREMENTS)


def _annex(doc: DocumentObject, b: Bulletin, data: BulletinData) -> None:
    """The 附件 on a landscape page: "附件" flush left in the heading font, its name as a title, the table."""
    od.landscape_section(doc)
    od.paragraph(doc, "附件", font=settings.DOC_FONT_HEADING)
    od.paragraph(doc)
    od.title(doc, annex_title(b))
    e = b.period.end
    od.paragraph(doc, f"（截至{e.year}年{e.month}月{e.day}日）", font=settings.DOC_FONT_KAI,
                 align=WD_ALIGN_PARAGRAPH.CENTER)
    od.table(doc, ANNEX_HEADERS, [_annex_cells(r) for r in data.rows], widths=ANNEX_WIDTHS, size=Pt(10.5),
             left=(1,))


def build_quarterly_docx(b: Bulletin) -> bytes:
    """The 季通报 as a .docx file."""
    data = bulletin_data(b)
    doc = od.new_document(title=f"{b.doc_number} {bulletin_title(b)}", author=b.office_name)
    od.paragraph(doc, b.doc_number, align=WD_ALIGN_PARAGRAPH.CENTER)
    od.paragraph(doc)
    od.title(doc, title_lines(b))
    od.paragraph(doc)
    od.paragraph(doc, ADDRESSEES)
    od.paragraph(doc, f"现将{quarter_text(b)}{area_name(b.campaign)}作风问题整改情况通报如下：", indent_chars=2)
    _overview(doc, b, data)
    _units(doc, data)
    _issues(doc, b, data)
    _cases(doc, data)
    _requirements(doc, b)
    od.paragraph(doc)
    od.paragraph(doc, f"附件：{annex_title(b)}", indent_chars=2)
    od.paragraph(doc)
    od.paragraph(doc)
    od.signature(doc, b.office_name, b.issued_on)
    _annex(doc, b, data)
    return od.to_bytes(doc)


# ---- the workbook ---------------------------------------------------------------------------------------------------

def _sheet_title(b: Bulletin, what: str) -> str:
    e = b.period.end
    return f"{b.campaign.name}{quarter_text(b)}{what}（截至{e.year}年{e.month}月{e.day}日）"


def build_quarterly_xlsx(b: Bulletin) -> bytes:
    """The 季通报's tables: 各单位整改情况, 逾期问题清单, 挂牌督办清单, 典型案例."""
    data = bulletin_data(b)
    wb = Workbook()
    headers = [("排名", 7), ("单位", 28), ("问题总数", 9), ("已销号", 9), ("整改率", 10), ("按期整改率", 11),
               ("逾期", 8), ("待核查", 9), ("整改中", 9), ("长期坚持", 9), ("环比", 14), ("亮灯", 7),
               ("连续上黑榜", 11)]
    ws = _sheet(wb, SHEETS[0], _sheet_title(b, "各单位作风问题整改情况排名表"), headers, first=True)
    for i, r in enumerate(data.rows):
        f = r.figures
        change: Any = _change(f.closure_rate, r.previous.closure_rate)
        _write_row(ws, FIRST_DATA_ROW + i, [
            r.rank if r.rank is not None else DASH, r.unit.name, f.total, f.closed, _rate(f.closure_rate),
            _rate(f.on_time_rate), f.overdue, f.pending_review, f.in_progress, f.long_term, change, r.light,
            f"{r.streak}期" if r.streak else DASH,
        ], left=(2,))

    supervised = supervision_at(data.snap, [p.problem_id for p in data.overdue])

    def overdue_cells(p: ProblemAtE, _: Problem) -> list[Any]:
        s = supervised[p.problem_id]
        return [p.overdue_days, s.level, "、".join(s.orders)]

    _problem_list(wb, SHEETS[1], _sheet_title(b, "逾期问题清单"), data.overdue,
                  [("逾期天数", 10), ("督办级别", 10), ("督办单", 22)], overdue_cells)

    tz = b.period.end_moment.tzinfo

    def listed_cells(p: ProblemAtE, _: Problem) -> list[Any]:
        problem = data.problems[p.problem_id]
        at = problem.listed_at.astimezone(tz).date() if problem.listed_at else ""
        return [ProblemStatus(p.state).label, at, problem.listed_reason]

    _problem_list(wb, SHEETS[2], _sheet_title(b, "挂牌督办问题清单"), data.listed,
                  [("状态", 9), ("挂牌日期", 12), ("挂牌说明", 30)], listed_cells)

    def case_cells(p: ProblemAtE, _: Problem) -> list[Any]:
        problem = data.problems[p.problem_id]
        return [Exemplar(problem.exemplar).label, ProblemStatus(p.state).label, problem.exemplar_note]

    cases = sorted(data.exemplars, key=lambda p: data.problems[p.problem_id].exemplar != Exemplar.POSITIVE)
    _problem_list(wb, SHEETS[3], _sheet_title(b, "作风问题典型案例"), cases,
                  [("类型", 8), ("状态", 9), ("典型案例说明", 40)], case_cells)

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


__all__ = [
    "Bulletin",
    "BulletinData",
    "DEFAULT_REQUIREMENTS",
    "Results",
    "SHEETS",
    "UnitRow",
    "annex_title",
    "area_name",
    "build_quarterly_docx",
    "build_quarterly_xlsx",
    "bulletin_data",
    "bulletin_for",
    "bulletin_title",
    "overview",
    "lists_text",
    "quarter_text",
    "title_lines",
]
