"""The 季通报 of the scripted timeline's second quarter, read back: the Word document (the 文号, the title, the
figures as sentences, the ranking table, the 红榜 and 黑榜, the overdue units, the 挂牌督办 problems, the 典型案例,
the 下步工作要求, the 附件 line, the office and the date, the GB/T 9704 page, the fonts on the East Asian slot, the
page numbers) and the workbook of its tables."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Pt
from openpyxl import load_workbook

from ledger import services, workflow
from ledger.models import AccountabilityForm, Exemplar, ReviewRound
from reports.figures import Period, by_reporting_unit, rate_text, reporting_units, snapshot
from reports.quarterly import (
    DEFAULT_REQUIREMENTS,
    SHEETS,
    Bulletin,
    annex_title,
    build_quarterly_docx,
    build_quarterly_xlsx,
    bulletin_title,
)
from tests.reports.test_figures import timeline  # noqa: F401

TZ = timezone.get_current_timezone()
OFFICE = "示范县作风建设工作领导小组办公室"
NUMBER = "作风办〔2022〕5号"
ISSUED = dt.date(2022, 7, 8)
RANKING_HEADERS = ["排名", "单位", "问题总数", "已销号", "整改率", "按期整改率", "逾期"]
XLSX_HEADERS = [*RANKING_HEADERS, "待核查", "整改中", "长期坚持", "环比", "亮灯", "连续上黑榜"]


def bulletin(campaign, quarter=2, *, until: dt.date | None = None, requirements="") -> Bulletin:
    return Bulletin(campaign=campaign, year=2022, quarter=quarter, period=Period.quarter(2022, quarter).until(until),
                    doc_number=NUMBER, issued_on=ISSUED, office_name=OFFICE, requirements=requirements)


def docx(b: Bulletin):
    return Document(io.BytesIO(build_quarterly_docx(b)))


def texts(doc) -> list[str]:
    return [p.text for p in doc.paragraphs]


def after(lines: list[str], heading: str, count: int) -> list[str]:
    start = lines.index(heading)
    return lines[start + 1:start + 1 + count]


def cells(table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def problem(campaign, tag: str):
    return campaign.problems.get(summary__startswith=tag)


def at(month: int, day: int) -> dt.datetime:
    return dt.datetime(2022, month, day, 10, tzinfo=TZ)


def test_titles_name_the_quarter_in_chinese_numerals(timeline):  # noqa: F811
    campaign, _ = timeline
    assert bulletin_title(bulletin(campaign)) == "关于2022年第二季度作风问题整改情况的通报"
    assert bulletin_title(Bulletin(campaign=campaign, year=2026, quarter=3, period=Period.quarter(2026, 3),
                                   doc_number="作风办〔2026〕5号", issued_on=dt.date(2026, 10, 9), office_name=OFFICE,
                                   requirements="")) == "关于2026年第三季度作风问题整改情况的通报"
    assert annex_title(bulletin(campaign, 4)) == "2022年第四季度各单位作风问题整改情况排名表"


def test_the_head_the_title_and_the_addressees(timeline, settings):  # noqa: F811
    campaign, _ = timeline
    doc = docx(bulletin(campaign))
    number, _, title, _, to = doc.paragraphs[:5]
    assert number.text == NUMBER and number.alignment == WD_ALIGN_PARAGRAPH.CENTER
    # Two lines of whole words: 2号 holds 20 characters a line.
    assert title.text == "关于2022年第二季度作风问题\n整改情况的通报"
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert title.runs[0].font.size == Pt(22) and title.runs[0].font.name == settings.DOC_FONT_TITLE
    assert to.text == "各乡镇（街道）、县直各单位：" and to.paragraph_format.first_line_indent is None
    assert doc.core_properties.title == f"{NUMBER} 关于2022年第二季度作风问题整改情况的通报"


def test_the_overview_states_the_figures_at_the_quarters_end(timeline):  # noqa: F811
    campaign, _ = timeline
    lines = texts(docx(bulletin(campaign)))
    # By hand from the timeline: P1 P8 closed (P1 on time), P2 P3 P4 overdue, P7 due in July; P5 void, P6 a draft.
    f = snapshot(campaign, Period.quarter(2022, 2)).figures()
    assert (f.total, f.closed, rate_text(f.closure_rate), rate_text(f.on_time_rate)) == (6, 2, "33.3%", "20.0%")
    assert after(lines, "一、总体情况", 1) == [
        "截至6月30日，全县共排查问题6个，已销号2个，整改率33.3%，按期整改率20.0%；本季度新增问题4个；"
        "待核查0个，整改中4个；逾期问题3个，逾期率50.0%。整改率较上季度末提高33.3个百分点。"]
    assert not any(line.startswith(("整改成效", "追责问责")) for line in lines)


def test_the_overview_counts_results_and_accountability_within_the_quarter(timeline, people):  # noqa: F811
    campaign, county = timeline
    ReviewRound.objects.filter(problem=problem(campaign, "P1")).update(
        rules_made="窗口首问负责制\n\n限时办结制度", funds_recovered=Decimal("12345.60"))
    ReviewRound.objects.filter(problem=problem(campaign, "P8")).update(funds_recovered=Decimal("800"))
    p2 = problem(campaign, "P2")
    for form, day in ((AccountabilityForm.REMINDER, dt.date(2022, 4, 20)),
                      (AccountabilityForm.ADMONITION, dt.date(2022, 6, 15)),
                      (AccountabilityForm.ADMONITION, dt.date(2022, 7, 2))):  # the next quarter's
        services.accountability_add(problem=p2, by=people.office, unit=county.education, person="张某", post="科长",
                                    form=form, decided_on=day, decided_by="县纪委监委")
    lines = after(texts(docx(bulletin(campaign))), "一、总体情况", 3)
    assert lines[1] == "整改成效方面，本季度经核查销号的问题中，各单位建立完善制度2项，挽回经济损失1.31万元。"
    assert lines[2] == "追责问责方面，本季度共追责问责2人次，其中提醒谈话1人次、诫勉1人次。"


def test_the_ranking_table_holds_the_figures_of_each_ranked_unit(timeline):  # noqa: F811
    campaign, county = timeline
    doc = docx(bulletin(campaign))
    rows = cells(doc.tables[0])
    assert rows == [
        RANKING_HEADERS,
        ["1", "县教育体育局", "4", "2", "50.0%", "33.3%", "1"],
        ["2", "县财政局", "1", "0", "0.0%", "0.0%", "1"],  # P4, returned in June
        ["2", "城关街道", "1", "0", "0.0%", "0.0%", "1"],  # P3, reassigned and re-dated in June
    ]
    table = by_reporting_unit(snapshot(campaign, Period.quarter(2022, 2)), reporting_units(campaign))
    for row, unit in zip(rows[1:], (county.education, county.finance, county.town), strict=True):
        f = table[unit.pk]
        assert row[2:] == [str(f.total), str(f.closed), rate_text(f.closure_rate), rate_text(f.on_time_rate),
                           str(f.overdue)]
    lines = texts(doc)
    assert "另有1个单位本季度无纳入统计的问题，未参与排名。" in lines  # 县作风建设工作领导小组办公室
    # The default lists (5 and 3 places) put all three on the 红榜, and a unit on the 红榜 is not on the 黑榜.
    assert "列入本季度红榜的单位（3个）：县教育体育局、县财政局、城关街道。" in lines
    assert "本季度无单位列入黑榜。" in lines


def test_the_honour_and_black_lists_follow_the_campaign_and_name_a_streak(timeline):  # noqa: F811
    campaign, _ = timeline
    campaign.honour_list_size, campaign.black_list_size = 1, 1
    campaign.save()
    lines = texts(docx(bulletin(campaign)))
    assert "列入本季度红榜的单位（1个）：县教育体育局。" in lines
    black = next(line for line in lines if line.startswith("列入本季度黑榜"))
    # Tied for the last place, both are on it; in the first quarter only 县教育体育局 was ranked.
    assert black.startswith("列入本季度黑榜的单位（2个）：县财政局、城关街道。")
    assert "连续" not in black

    # The third quarter counted to 15 July: the same standing, the second quarter running on the 黑榜.
    lines = texts(docx(bulletin(campaign, 3, until=dt.date(2022, 7, 15))))
    black = next(line for line in lines if line.startswith("列入本季度黑榜"))
    assert black.startswith("列入本季度黑榜的单位（2个）：县财政局（连续2期）、城关街道（连续2期）。")
    assert black.endswith("对连续列入黑榜的单位，将按有关规定约谈提醒。")
    assert after(lines, "一、总体情况", 1)[0].startswith("截至7月15日，全县共排查问题6个")
    assert "整改率与上季度末持平。" in after(lines, "一、总体情况", 1)[0]


def test_the_main_problems_name_the_overdue_units_and_the_listed_problems(timeline, people):  # noqa: F811
    campaign, _ = timeline
    p2, p4 = problem(campaign, "P2"), problem(campaign, "P4")
    workflow.set_listed(problem=p2, by=people.office, listed=True, reason="逾期未整改", at=at(6, 20))
    workflow.set_listed(problem=p4, by=people.office, listed=True, reason="逾期未整改", at=at(7, 5))  # after E
    lines = texts(docx(bulletin(campaign)))
    start, end = lines.index("三、存在的主要问题"), lines.index("四、典型案例")
    assert lines[start + 1:end] == [
        "（一）逾期未整改问题",
        "截至6月30日，仍有3个问题逾期未完成整改，涉及县教育体育局（1个）、县财政局（1个）、城关街道（1个）。"
        "相关单位要逐一查找原因，限期整改到位。",
        "（二）挂牌督办问题",
        "截至6月30日，共有挂牌督办问题1个：",
        f"1.{p2.number}　P2 五月逾期（牵头单位：县教育体育局；整改中）。",
    ]
    assert not any(p4.number in line for line in lines)


def test_a_quarter_without_overdue_listed_or_exemplary_problems_says_so(timeline, people):  # noqa: F811
    campaign, _ = timeline
    # Named an example in July: the problem did not exist at the end of the first quarter.
    workflow.set_exemplar(problem=problem(campaign, "P7"), by=people.office, kind=Exemplar.POSITIVE, note="及时整改")
    lines = texts(docx(bulletin(campaign, 1)))
    assert after(lines, "一、总体情况", 1) == [
        "截至3月31日，全县共排查问题2个，已销号0个，整改率0.0%，按期整改率0.0%；本季度新增问题2个；"
        "待核查0个，整改中2个；逾期问题0个，逾期率0.0%。"]  # no 环比: nothing was counted before
    assert after(lines, "三、存在的主要问题", 1) == ["截至3月31日，各单位无逾期未整改问题和挂牌督办问题。"]
    assert after(lines, "四、典型案例", 1) == ["本季度未确定典型案例。"]


def test_exemplars_are_split_positive_and_negative_with_their_notes(timeline, people, settings):  # noqa: F811
    campaign, _ = timeline
    workflow.set_exemplar(problem=problem(campaign, "P1"), by=people.office, kind=Exemplar.POSITIVE,
                          note="建立首问负责制，群众满意度明显提升")
    workflow.set_exemplar(problem=problem(campaign, "P4"), by=people.office, kind=Exemplar.NEGATIVE,
                          note="佐证材料不实，被退回重新整改。")
    doc = docx(bulletin(campaign))
    lines = texts(doc)
    assert after(lines, "四、典型案例", 4) == [
        "（一）正面典型",
        "1.县教育体育局：P1 按期销号。建立首问负责制，群众满意度明显提升。",
        "（二）反面典型",
        "1.县财政局：P4 待核查后退回。佐证材料不实，被退回重新整改。",
    ]
    sub = next(p for p in doc.paragraphs if p.text == "（一）正面典型")
    assert sub.runs[0].font.name == settings.DOC_FONT_KAI


def test_the_requirements_are_the_campaigns_text_or_the_default(timeline):  # noqa: F811
    campaign, _ = timeline
    default = texts(docx(bulletin(campaign)))
    assert after(default, "五、下步工作要求", 4) == DEFAULT_REQUIREMENTS.splitlines()
    assert [line[:2] for line in DEFAULT_REQUIREMENTS.splitlines()] == ["一是", "二是", "三是", "四是"]

    own = texts(docx(bulletin(campaign, requirements="各单位要对照排名查找差距。\n\n  逾期问题务必于9月底前清零。  ")))
    assert after(own, "五、下步工作要求", 3) == ["各单位要对照排名查找差距。", "逾期问题务必于9月底前清零。", ""]


def test_the_annex_line_the_office_and_the_date(timeline):  # noqa: F811
    campaign, _ = timeline
    doc = docx(bulletin(campaign))
    paragraphs = doc.paragraphs
    lines = texts(doc)
    annex = lines.index("附件：2022年第二季度各单位作风问题整改情况排名表")
    assert lines[annex - 1] == ""  # one blank line below the body
    assert paragraphs[annex].paragraph_format.first_line_indent == Pt(32)
    office, date = lines.index(OFFICE), lines.index("2022年7月8日")
    assert annex < office == date - 1
    assert lines[date + 1] == "附件"  # the annex's page follows, with no empty paragraph left between
    for i in (office, date):
        assert paragraphs[i].alignment == WD_ALIGN_PARAGRAPH.RIGHT
        assert paragraphs[i].paragraph_format.right_indent == Pt(64)


def test_the_annex_is_a_landscape_table_of_every_reporting_unit(timeline):  # noqa: F811
    campaign, _ = timeline
    doc = docx(bulletin(campaign))
    assert len(doc.sections) == 2
    annex = doc.sections[1]
    assert annex.orientation == WD_ORIENT.LANDSCAPE
    assert (round(annex.page_width.mm), round(annex.page_height.mm)) == (297, 210)
    lines = texts(doc)
    head = lines.index("附件")
    assert lines[head + 2] == "2022年第二季度各单位作风问题整改情况排名表"
    rows = cells(doc.tables[1])
    assert rows[0] == XLSX_HEADERS
    assert rows[1] == ["1", "县教育体育局", "4", "2", "50.0%", "33.3%", "1", "0", "2", "0", "+50.0", "红", "—"]
    # A unit with nothing counted is listed, unranked, its rates over an empty population a dash.
    assert rows[4] == ["—", "县作风建设工作领导小组办公室", "0", "0", "—", "—", "0", "0", "0", "0", "—", "绿", "—"]
    assert doc.tables[1].rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None


def test_the_page_is_gbt_9704(timeline):  # noqa: F811
    campaign, _ = timeline
    section = docx(bulletin(campaign)).sections[0]
    mm = {name: round(getattr(section, name).mm, 1) for name in
          ("page_width", "page_height", "top_margin", "left_margin", "right_margin", "bottom_margin")}
    assert mm == {"page_width": 210.0, "page_height": 297.0, "top_margin": 37.0, "left_margin": 28.0,
                  "right_margin": 26.0, "bottom_margin": 35.0}


def test_headings_and_body_paragraphs(timeline, settings):  # noqa: F811
    campaign, _ = timeline
    doc = docx(bulletin(campaign))
    by_text = {p.text: p for p in doc.paragraphs}
    for text in ("一、总体情况", "二、各单位整改情况", "三、存在的主要问题", "四、典型案例", "五、下步工作要求"):
        run = by_text[text].runs[0]
        assert run.font.name == settings.DOC_FONT_HEADING and run.font.size == Pt(16)
    body = by_text[next(t for t in by_text if t.startswith("截至6月30日，全县"))]
    fmt = body.paragraph_format
    assert fmt.first_line_indent == Pt(32)
    assert fmt.line_spacing_rule == WD_LINE_SPACING.EXACTLY and fmt.line_spacing == Pt(28.9)
    assert body.runs[0].font.name == settings.DOC_FONT_BODY and body.runs[0].font.size == Pt(16)


def test_every_run_names_its_font_on_the_east_asian_slot(timeline, settings):  # noqa: F811
    campaign, _ = timeline
    doc = docx(bulletin(campaign))
    paragraphs = list(doc.paragraphs)
    for t in doc.tables:
        paragraphs += [p for row in t.rows for c in row.cells for p in c.paragraphs]
    for section in doc.sections:
        paragraphs += section.footer.paragraphs + section.even_page_footer.paragraphs
    fonts = set()
    for p in paragraphs:
        for run in p.runs:
            east_asia = run._element.rPr.rFonts.get(qn("w:eastAsia"))
            assert east_asia and east_asia == run.font.name, run.text
            fonts.add(east_asia)
    assert fonts == {settings.DOC_FONT_TITLE, settings.DOC_FONT_BODY, settings.DOC_FONT_HEADING,
                     settings.DOC_FONT_KAI, settings.DOC_FONT_PAGE_NUMBER}


def test_page_numbers_are_a_page_field_odd_right_even_left(timeline, settings):  # noqa: F811
    campaign, _ = timeline
    doc = docx(bulletin(campaign))
    assert doc.settings.odd_and_even_pages_header_footer
    section = doc.sections[0]
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
                          (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        [p] = footer.paragraphs
        assert p.alignment == align and p.text == "— 1 —"
        assert [t.text for t in p._p.iter(qn("w:instrText"))] == [" PAGE "]
        assert all(r.font.size == Pt(14) and r.font.name == settings.DOC_FONT_PAGE_NUMBER for r in p.runs)
    assert doc.sections[1].footer.is_linked_to_previous  # the annex pages carry on the numbering


# ---- the workbook ----------------------------------------------------------------------------------------------------

def workbook(b: Bulletin):
    return load_workbook(io.BytesIO(build_quarterly_xlsx(b)))


def values(ws) -> list[list]:
    return [list(row) for row in ws.iter_rows(values_only=True)]


def test_the_workbook_sheets_titles_and_print_setup(timeline):  # noqa: F811
    campaign, _ = timeline
    wb = workbook(bulletin(campaign))
    assert wb.sheetnames == list(SHEETS) == ["各单位整改情况", "逾期问题清单", "挂牌督办清单", "典型案例"]
    for ws in wb.worksheets:
        title = ws["A1"].value
        assert title.startswith(f"{campaign.name}2022年第二季度") and title.endswith("（截至2022年6月30日）")
        assert ws.page_setup.orientation == "landscape"
        assert str(ws.page_setup.paperSize) == str(ws.PAPERSIZE_A4)
        assert ws.print_title_rows == "$2:$2"
        assert ws.oddFooter.center.text == "第 &P 页 共 &N 页"
    assert wb["各单位整改情况"]["A1"].value == (
        f"{campaign.name}2022年第二季度各单位作风问题整改情况排名表（截至2022年6月30日）")


def test_the_ranking_sheet_writes_numbers_and_rates(timeline):  # noqa: F811
    campaign, _ = timeline
    campaign.honour_list_size, campaign.black_list_size = 1, 1
    campaign.save()
    ws = workbook(bulletin(campaign, 3, until=dt.date(2022, 7, 15)))["各单位整改情况"]
    rows = values(ws)
    assert rows[1] == XLSX_HEADERS
    edu, fin, town, office = rows[2:]
    assert edu[:4] == [1, "县教育体育局", 4, 2] and edu[6:10] == [1, 0, 2, 0]
    assert edu[4] == pytest.approx(0.5) and edu[5] == pytest.approx(1 / 3)
    assert edu[10] == pytest.approx(0) and edu[11:] == ["红", "—"]  # 环比 against the second quarter's end
    assert (fin[0], fin[1], fin[12]) == (2, "县财政局", "2期")
    assert (town[0], town[1], town[12]) == (2, "城关街道", "2期")
    assert office[0] == "—" and office[4:6] == ["—", "—"] and office[11] == "绿"
    rate, on_time, change = ws.cell(row=3, column=5), ws.cell(row=3, column=6), ws.cell(row=3, column=11)
    assert rate.number_format == on_time.number_format == "0.0%"
    assert "个百分点" in change.number_format
    assert all(isinstance(ws.cell(row=3, column=c).value, int) for c in (1, 3, 4, 7, 8, 9, 10))


def test_the_problem_sheets(timeline, people):  # noqa: F811
    campaign, _ = timeline
    p2 = problem(campaign, "P2")
    workflow.set_listed(problem=p2, by=people.office, listed=True, reason="逾期未整改", at=at(6, 20))
    workflow.set_exemplar(problem=problem(campaign, "P4"), by=people.office, kind=Exemplar.NEGATIVE,
                          note="佐证材料不实")
    workflow.set_exemplar(problem=problem(campaign, "P1"), by=people.office, kind=Exemplar.POSITIVE,
                          note="群众满意度明显提升")
    wb = workbook(bulletin(campaign))

    overdue = values(wb["逾期问题清单"])
    assert overdue[1][:5] == ["编号", "问题概述", "牵头单位", "整改时限", "逾期天数"]
    assert [(r[1], r[2], r[4]) for r in overdue[2:]] == [
        ("P3 六月改派改期", "城关街道", 46), ("P2 五月逾期", "县教育体育局", 41), ("P4 待核查后退回", "县财政局", 36)]

    listed = values(wb["挂牌督办清单"])[2:]
    assert [(r[0], r[1], r[2], r[4], r[5].date(), r[6]) for r in listed] == [
        (p2.number, "P2 五月逾期", "县教育体育局", "整改中", dt.date(2022, 6, 20), "逾期未整改")]

    cases = values(wb["典型案例"])
    assert cases[1] == ["编号", "问题概述", "牵头单位", "整改时限", "类型", "状态", "典型案例说明"]
    assert [(r[1], r[4], r[5], r[6]) for r in cases[2:]] == [
        ("P1 按期销号", "正面", "已销号", "群众满意度明显提升"), ("P4 待核查后退回", "反面", "整改中", "佐证材料不实")]
