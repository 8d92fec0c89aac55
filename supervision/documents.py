"""The 督办单 as a Word document, laid out after GB/T 9704-2012 《党政机关公文格式》.

A4; margins top 37 mm, left (binding side) 28 mm, right 26 mm, bottom 35 mm; body 3号 (16 pt) in the body font
with a fixed line pitch of 28.9 pt (22 lines a page), first lines indented two characters; the title 2号 (22 pt)
in the title font, centred; headings "一、" in the heading font; the office and the date right-aligned four
characters in from the right; page numbers "— 1 —" 4号 in the page-number font, odd pages right and even pages
left, one character in. The fonts are named in settings (DOC_FONT_*), each set on the East Asian slot as well
(`w:eastAsia`), or Word and WPS would show the Chinese text in a Latin face.

The figures are as of the day the order was issued (its overdue days), so the document printed later is the same
document; the reply section holds the reply once there is one, blank lines for handwriting before.
"""

from __future__ import annotations

import datetime as dt
import io

from django.conf import settings
from django.utils import timezone
from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from campaigns.models import DeadlineMode
from campaigns.workdays import working_days_between
from ledger.models import Problem

from .models import OrderLevel, OrderStatus, SupervisionOrder

BODY_SIZE = Pt(16)  # 3号
TITLE_SIZE = Pt(22)  # 2号
PAGE_NUMBER_SIZE = Pt(14)  # 4号
LINE_PITCH = Pt(28.9)  # 22 lines in the 225 mm type area
TITLE_LINE = Pt(36)  # a 2号 line needs more room than the body's pitch
CHAR = 16  # points: one character of the body
BLANK_REPLY_LINES = 8

VERB = {OrderLevel.URGE: "催办", OrderLevel.SUPERVISE: "督办", OrderLevel.LISTED: "挂牌督办"}


def chinese_date(day: dt.date) -> str:
    """年月日 in Arabic numerals, without leading zeros: 2026年12月2日."""
    return f"{day.year}年{day.month}月{day.day}日"


def overdue_days(problem: Problem, on: dt.date) -> int | None:
    """Days past the deadline on `on` (working days when the campaign counts them); None without a deadline."""
    if problem.deadline is None:
        return None
    if problem.campaign.deadline_mode == DeadlineMode.WORKING:
        days = working_days_between(problem.deadline, on)
    else:
        days = (on - problem.deadline).days
    return max(days, 0)


def overdue_text(problem: Problem, on: dt.date) -> str:
    days = overdue_days(problem, on)
    if days is None:
        return "长期坚持，无固定整改时限"
    if days == 0:
        return f"截至{chinese_date(on)}未逾期"
    unit = "个工作日" if problem.campaign.deadline_mode == DeadlineMode.WORKING else "天"
    return f"截至{chinese_date(on)}已逾期{days}{unit}"


# ---- fonts and paragraphs --------------------------------------------------------------------------------------

def _set_fonts(rpr_parent: Run, font: str, size: Pt, *, bold: bool = False) -> None:
    """The font on every slot of a run (Latin, East Asian, complex script), and its size."""
    rpr_parent.font.name = font
    rpr_parent.font.size = size
    rpr_parent.font.bold = bold
    rpr = rpr_parent._element.get_or_add_rPr()
    rfonts = rpr.get_or_add_rFonts()
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(slot), font)


def _spacing(p: Paragraph, line: Pt = LINE_PITCH) -> None:
    fmt = p.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = line
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)


def _paragraph(
    doc: DocumentObject, text: str = "", *, font: str | None = None, size: Pt = BODY_SIZE, bold: bool = False,
    align: WD_ALIGN_PARAGRAPH | None = None, indent_chars: int = 0, right_chars: int = 0, line: Pt = LINE_PITCH,
) -> Paragraph:
    p = doc.add_paragraph()
    _spacing(p, line)
    if align is not None:
        p.alignment = align
    if indent_chars:
        p.paragraph_format.first_line_indent = Pt(CHAR * indent_chars)
    if right_chars:
        p.paragraph_format.right_indent = Pt(CHAR * right_chars)
    _set_fonts(p.add_run(text), font or settings.DOC_FONT_BODY, size, bold=bold)
    return p


def _labelled(doc: DocumentObject, label: str, value: str) -> Paragraph:
    """"问题编号：ZF2022-0001", indented two characters."""
    return _paragraph(doc, f"{label}：{value}", indent_chars=2)


def _texts(doc: DocumentObject, text: str) -> None:
    """A text of several lines as paragraphs, each indented two characters."""
    for line in [t.strip() for t in text.splitlines()] or [""]:
        if line:
            _paragraph(doc, line, indent_chars=2)


def _heading(doc: DocumentObject, text: str) -> Paragraph:
    return _paragraph(doc, text, font=settings.DOC_FONT_HEADING, indent_chars=2)


# ---- the page ----------------------------------------------------------------------------------------------------

def _defaults(doc: DocumentObject) -> None:
    """The document's default run: the body font on every slot (no theme fonts, which would win over the names),
    3号, Chinese; paragraphs without extra spacing."""
    styles = doc.styles.element
    rpr_default = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    rfonts = rpr_default.find(qn("w:rFonts"))
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(slot), settings.DOC_FONT_BODY)
    lang = rpr_default.find(qn("w:lang"))
    if lang is not None:
        lang.set(qn("w:val"), "zh-CN")
        lang.set(qn("w:eastAsia"), "zh-CN")
    normal = doc.styles["Normal"]
    normal.font.name = settings.DOC_FONT_BODY
    normal.font.size = BODY_SIZE
    normal_rfonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    normal_rfonts.set(qn("w:eastAsia"), settings.DOC_FONT_BODY)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.paragraph_format.line_spacing = LINE_PITCH


def _page(doc: DocumentObject) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    # The page number's line sits 7 mm below the type area: its top 28 mm above the page's bottom edge.
    section.footer_distance = Mm(23)
    section.header_distance = Mm(15)
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        section._sectPr.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(round(LINE_PITCH.pt * 20)))  # in twentieths of a point
    doc.settings.odd_and_even_pages_header_footer = True
    _page_number(section.footer.paragraphs[0], odd=True)
    _page_number(section.even_page_footer.paragraphs[0], odd=False)


def _field_char(run: Run, kind: str) -> None:
    el = OxmlElement("w:fldChar")
    el.set(qn("w:fldCharType"), kind)
    run._r.append(el)


def _page_number(p: Paragraph, *, odd: bool) -> None:
    """"— 1 —": odd pages on the right, even pages on the left, each one character in from the edge."""
    font, size = settings.DOC_FONT_PAGE_NUMBER, PAGE_NUMBER_SIZE
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT if odd else WD_ALIGN_PARAGRAPH.LEFT
    if odd:
        p.paragraph_format.right_indent = size
    else:
        p.paragraph_format.left_indent = size
    p.paragraph_format.space_after = Pt(0)
    _set_fonts(p.add_run("— "), font, size)
    begin = p.add_run()
    _set_fonts(begin, font, size)
    _field_char(begin, "begin")
    instr = p.add_run()
    _set_fonts(instr, font, size)
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = " PAGE "
    instr._r.append(text)
    separate = p.add_run()
    _set_fonts(separate, font, size)
    _field_char(separate, "separate")
    _set_fonts(p.add_run("1"), font, size)
    end = p.add_run()
    _set_fonts(end, font, size)
    _field_char(end, "end")
    _set_fonts(p.add_run(" —"), font, size)


# ---- the order ---------------------------------------------------------------------------------------------------

def order_docx(order: SupervisionOrder) -> bytes:
    """The 督办单 as a .docx file."""
    problem = order.problem
    lead = problem.lead_unit
    issued_on = timezone.localdate(order.issued_at)
    level = OrderLevel(order.level)
    office = settings.SUPERVISION_OFFICE_NAME

    doc = Document()
    _defaults(doc)
    _page(doc)
    doc.core_properties.title = f"{order.number} {order.title}"
    doc.core_properties.author = office

    _paragraph(doc, order.title, font=settings.DOC_FONT_TITLE, size=TITLE_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER,
               line=TITLE_LINE)
    _paragraph(doc, order.number, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(doc, f"{lead.name if lead else ''}：")
    _paragraph(doc, f"经研究，决定对你单位牵头整改的下列问题予以{VERB[level]}，请高度重视，按要求抓紧整改落实。",
               indent_chars=2)
    _heading(doc, "一、督办问题")
    _labelled(doc, "问题编号", problem.number)
    _labelled(doc, "问题概述", problem.summary)
    _labelled(doc, "整改时限", chinese_date(problem.deadline) if problem.deadline else "长期坚持")
    _labelled(doc, "逾期天数", overdue_text(problem, issued_on))
    _heading(doc, "二、督办要求")
    _texts(doc, order.requirements)
    _heading(doc, "三、回复期限")
    _paragraph(doc, f"请于{chinese_date(order.reply_deadline)}前将整改落实情况书面回复（加盖公章），"
                    "并在整改台账系统中填报。", indent_chars=2)
    _paragraph(doc)
    _paragraph(doc, office, align=WD_ALIGN_PARAGRAPH.RIGHT, right_chars=4)
    _paragraph(doc, chinese_date(issued_on), align=WD_ALIGN_PARAGRAPH.RIGHT, right_chars=4)

    # The reply section, on a page of its own so it can be filled in, stamped and sent back.
    heading = _paragraph(doc, "回复情况", font=settings.DOC_FONT_HEADING, align=WD_ALIGN_PARAGRAPH.CENTER)
    heading.paragraph_format.page_break_before = True
    _labelled(doc, "督办单号", order.number)
    _labelled(doc, "问题编号", problem.number)
    replied = order.status == OrderStatus.REPLIED and order.reply
    if replied:
        _texts(doc, order.reply)
    else:
        for _ in range(BLANK_REPLY_LINES):
            _paragraph(doc)
    _paragraph(doc)
    unit_name = lead.name if lead and replied else ""
    _paragraph(doc, f"回复单位（盖章）：{unit_name}", indent_chars=2)
    if replied and order.replied_at:
        who = order.replied_by.full_name if order.replied_by and order.replied_by.full_name else ""
        if who:
            _paragraph(doc, f"回复人：{who}", indent_chars=2)
        _paragraph(doc, f"日期：{chinese_date(timezone.localdate(order.replied_at))}", indent_chars=2)
    else:
        _paragraph(doc, "日期：　　　　年　　月　　日", indent_chars=2)

    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def order_filename(order: SupervisionOrder) -> str:
    return f"{order.number}.docx"


__all__ = ["chinese_date", "order_docx", "order_filename", "overdue_days", "overdue_text"]
