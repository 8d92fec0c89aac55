"""The 督办单 Word document, read back with python-docx: the GB/T 9704 page, the fonts on the East Asian slot of
every run, the title by level, the number, the problem and its overdue days, the date, the reply section and the
page numbers. With LibreOffice at hand (and SCREENSHOTS_DIR set), its first page is also rendered to a PNG."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils import timezone
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Pt

from campaigns.models import DeadlineMode
from campaigns.workdays import working_days_between
from ledger import workflow
from supervision import orders
from supervision.documents import chinese_date, order_docx
from supervision.models import OrderLevel, SupervisionOrder
from tests.ledger.factories import CampaignFactory, make_problem

TODAY = timezone.localdate()
REQUIREMENTS = "请你单位高度重视，主要负责同志亲自研究部署，逐项制定整改措施。\n整改情况请同时在整改台账系统中填报。"


@pytest.fixture
def campaign(db):
    return CampaignFactory(code="ZF2026")


def issued(campaign, people, county, *, level=OrderLevel.SUPERVISE, deadline: dt.date | None = None,
           summary: str = "窗口服务态度差，群众办事多次往返") -> SupervisionOrder:
    p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education, summary=summary,
                     deadline=deadline if deadline is not None else TODAY - dt.timedelta(days=10))
    workflow.assign(problem=p, by=people.office)
    return orders.order_issue(problem=p, by=people.office, level=level, requirements=REQUIREMENTS,
                              reply_deadline=TODAY + dt.timedelta(days=5))


def read(order: SupervisionOrder):
    return Document(io.BytesIO(order_docx(order)))


def texts(doc) -> list[str]:
    return [p.text for p in doc.paragraphs]


def all_runs(doc):
    section = doc.sections[0]
    for part in (doc, section.footer, section.even_page_footer):
        for p in part.paragraphs:
            yield from p.runs


def test_the_page_is_gbt_9704(campaign, people, county):
    doc = read(issued(campaign, people, county))
    section = doc.sections[0]
    mm = {name: round(getattr(section, name).mm, 1) for name in
          ("page_width", "page_height", "top_margin", "left_margin", "right_margin", "bottom_margin")}
    assert mm == {"page_width": 210.0, "page_height": 297.0, "top_margin": 37.0, "left_margin": 28.0,
                  "right_margin": 26.0, "bottom_margin": 35.0}


def test_every_run_names_its_font_on_the_east_asian_slot(campaign, people, county, settings):
    doc = read(issued(campaign, people, county))
    runs = list(all_runs(doc))
    assert runs
    fonts = set()
    for run in runs:
        rfonts = run._element.rPr.rFonts
        east_asia = rfonts.get(qn("w:eastAsia"))
        assert east_asia and east_asia == run.font.name, run.text
        fonts.add(east_asia)
    assert fonts == {settings.DOC_FONT_TITLE, settings.DOC_FONT_BODY, settings.DOC_FONT_HEADING,
                     settings.DOC_FONT_PAGE_NUMBER}


def test_the_title_number_and_addressee(campaign, people, county, settings):
    order = issued(campaign, people, county)
    doc = read(order)
    title, number = doc.paragraphs[0], doc.paragraphs[1]
    assert title.text == "督办单"
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert title.runs[0].font.size == Pt(22) and title.runs[0].font.name == settings.DOC_FONT_TITLE
    assert number.text == f"督办〔{TODAY.year}〕1号" == order.number
    assert number.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert number.runs[0].font.size == Pt(16) and number.runs[0].font.name == settings.DOC_FONT_BODY
    assert "县教育体育局：" in texts(doc)


@pytest.mark.parametrize(("level", "title"), [
    (OrderLevel.URGE, "督办通知单"), (OrderLevel.SUPERVISE, "督办单"), (OrderLevel.LISTED, "挂牌督办通知书"),
])
def test_the_title_follows_the_level(campaign, people, county, level, title):
    assert read(issued(campaign, people, county, level=level)).paragraphs[0].text == title


def test_the_body_holds_the_problem_the_requirements_and_the_deadlines(campaign, people, county):
    order = issued(campaign, people, county)
    lines = texts(read(order))
    problem = order.problem
    assert f"问题编号：{problem.number}" in lines
    assert "问题概述：窗口服务态度差，群众办事多次往返" in lines
    assert f"整改时限：{chinese_date(problem.deadline)}" in lines
    assert f"逾期天数：截至{chinese_date(TODAY)}已逾期10天" in lines
    assert "请你单位高度重视，主要负责同志亲自研究部署，逐项制定整改措施。" in lines
    assert "整改情况请同时在整改台账系统中填报。" in lines  # each line of the requirements a paragraph
    assert any(line.startswith(f"请于{chinese_date(TODAY + dt.timedelta(days=5))}前") for line in lines)


def test_overdue_days_are_working_days_when_the_campaign_counts_them(people, county):
    campaign = CampaignFactory(deadline_mode=DeadlineMode.WORKING)
    deadline = TODAY - dt.timedelta(days=20)
    order = issued(campaign, people, county, deadline=deadline)
    days = working_days_between(deadline, TODAY)
    assert f"逾期天数：截至{chinese_date(TODAY)}已逾期{days}个工作日" in texts(read(order))


def test_body_paragraphs_are_3hao_with_a_fixed_pitch_and_two_characters_indent(campaign, people, county):
    doc = read(issued(campaign, people, county))
    body = [p for p in doc.paragraphs[3:] if p.text and not p.text.endswith("：")
            and p.alignment not in (WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.CENTER)]
    assert len(body) >= 8
    for p in body:
        fmt = p.paragraph_format
        assert fmt.line_spacing_rule == WD_LINE_SPACING.EXACTLY and fmt.line_spacing == Pt(28.9), p.text
        assert fmt.first_line_indent == Pt(32), p.text
        assert all(r.font.size == Pt(16) for r in p.runs)


def test_the_office_and_the_date_stand_four_characters_in_from_the_right(campaign, people, county, settings):
    doc = read(issued(campaign, people, county))
    by_text = {p.text: p for p in doc.paragraphs}
    for text in (settings.SUPERVISION_OFFICE_NAME, chinese_date(TODAY)):
        p = by_text[text]
        assert p.alignment == WD_ALIGN_PARAGRAPH.RIGHT and p.paragraph_format.right_indent == Pt(64)


def test_dates_are_written_in_arabic_numerals_without_leading_zeros():
    assert chinese_date(dt.date(2026, 12, 2)) == "2026年12月2日"
    assert chinese_date(dt.date(2027, 1, 15)) == "2027年1月15日"


def test_the_reply_section_is_blank_until_replied(campaign, people, county):
    order = issued(campaign, people, county)
    blank = texts(read(order))
    start = blank.index("回复情况")
    assert blank[start + 1] == f"督办单号：{order.number}"
    assert "回复单位（盖章）：" in blank and "日期：　　　　年　　月　　日" in blank
    assert blank[start + 3:start + 8] == ["", "", "", "", ""]  # room to write by hand

    orders.order_reply(order=order, by=people.liaison, reply="已建立首问负责制。\n窗口人员已轮训。")
    order.refresh_from_db()
    replied = texts(read(order))
    assert "已建立首问负责制。" in replied and "窗口人员已轮训。" in replied
    assert "回复单位（盖章）：县教育体育局" in replied
    assert f"日期：{chinese_date(TODAY)}" in replied and "回复人：教体局联络员" in replied


def test_page_numbers_are_a_page_field_between_dashes(campaign, people, county, settings):
    doc = read(issued(campaign, people, county))
    assert doc.settings.odd_and_even_pages_header_footer
    section = doc.sections[0]
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT), (section.even_page_footer,
                                                                      WD_ALIGN_PARAGRAPH.LEFT)):
        [p] = footer.paragraphs
        assert p.alignment == align
        assert p.text.startswith("— ") and p.text.endswith(" —")
        assert [t.text for t in p._p.iter(qn("w:instrText"))] == [" PAGE "]
        assert all(r.font.size == Pt(14) and r.font.name == settings.DOC_FONT_PAGE_NUMBER for r in p.runs)


# ---- a picture of the first page ---------------------------------------------------------------------------------

STAND_IN_FONTS = {  # the offices' fonts are not installed here; these stand in for rendering (DOCUMENTS.md)
    "DOC_FONT_TITLE": "Noto Serif CJK SC", "DOC_FONT_BODY": "Noto Serif CJK SC",
    "DOC_FONT_HEADING": "Noto Sans CJK SC", "DOC_FONT_PAGE_NUMBER": "Noto Serif CJK SC",
}


def render_first_page(docx: bytes, out_dir: Path, name: str, work: Path) -> Path:
    """The document's first page as a PNG (LibreOffice to PDF, then pdftoppm at 80 dpi)."""
    source = work / "order.docx"
    source.write_bytes(docx)
    profile = (work / "lo-profile").as_uri()
    subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(work), str(source)], check=True, timeout=180, capture_output=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-singlefile", str(work / "order.pdf"), str(out_dir / name)],
                   check=True, timeout=60, capture_output=True)
    return out_dir / f"{name}.png"


@pytest.mark.skipif(not (shutil.which("soffice") and shutil.which("pdftoppm")),
                    reason="needs LibreOffice (soffice) and poppler (pdftoppm)")
@pytest.mark.skipif(not os.environ.get("SCREENSHOTS_DIR"), reason="set SCREENSHOTS_DIR to write the picture")
def test_screenshot_of_the_order(campaign, people, county, settings, tmp_path):
    for key, font in STAND_IN_FONTS.items():
        setattr(settings, key, font)
    order = issued(campaign, people, county, summary="政务服务中心窗口推诿扯皮，群众反映办事“多头跑”")
    png = render_first_page(order_docx(order), Path(os.environ["SCREENSHOTS_DIR"]), "supervision-order", tmp_path)
    assert png.exists() and png.stat().st_size > 10_000
