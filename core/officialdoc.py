"""Official documents (公文) in Word, laid out after GB/T 9704-2012 《党政机关公文格式》: the page, the fonts, the
paragraphs, the tables and the page numbers that the 督办单 and the 季通报 share.

A4; margins top 37 mm, left (binding side) 28 mm, right 26 mm, bottom 35 mm (a 156 × 225 mm type area); body 3号
(16 pt) in the body font with a fixed line pitch of 28.9 pt (22 lines a page of 28 characters), first lines indented
two characters; the title 2号 (22 pt) in the title font, centred; headings "一、" 黑体, "（一）" 楷体, "1." in the body
font, all 3号; the office and the date right-aligned four characters in from the right; page numbers "— 1 —" 4号 in
the page-number font, 7 mm below the type area, odd pages right and even pages left, one character in.

The fonts are named in settings (DOC_FONT_TITLE, DOC_FONT_BODY, DOC_FONT_HEADING, DOC_FONT_KAI,
DOC_FONT_PAGE_NUMBER) and read when a document is built. Each is set on the East Asian slot as well
(`w:eastAsia`), or Word and WPS would show the Chinese text in a Latin face.

    doc = new_document(title="督办〔2026〕3号 督办单", author="作风办")
    title(doc, "督办单")
    heading(doc, "一、督办问题")
    paragraph(doc, "……", indent_chars=2)
    data = to_bytes(doc)
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

from django.conf import settings
from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.section import Section
from docx.shared import Length, Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

BODY_SIZE = Pt(16)  # 3号
TITLE_SIZE = Pt(22)  # 2号
PAGE_NUMBER_SIZE = Pt(14)  # 4号
TABLE_SIZE = Pt(12)  # 小4号, the usual size inside a table
LINE_PITCH = Pt(28.9)  # 22 lines in the 225 mm type area
TITLE_LINE = Pt(36)  # a 2号 line needs more room than the body's pitch
CHAR = 16  # points: one character of the body

PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)
TOP, BOTTOM, LEFT, RIGHT = Mm(37), Mm(35), Mm(28), Mm(26)


def chinese_date(day: dt.date) -> str:
    """年月日 in Arabic numerals, without leading zeros: 2026年12月2日."""
    return f"{day.year}年{day.month}月{day.day}日"


# ---- fonts and paragraphs --------------------------------------------------------------------------------------

def set_fonts(run: Run, font: str, size: Length, *, bold: bool = False) -> None:
    """The font on every slot of a run (Latin, East Asian, complex script), and its size."""
    run.font.name = font
    run.font.size = size
    run.font.bold = bold
    rfonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(slot), font)


def _spacing(p: Paragraph, line: Length) -> None:
    fmt = p.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = line
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)


def _format(p: Paragraph, *, align: WD_ALIGN_PARAGRAPH | None, indent_chars: int, right_chars: int,
            line: Length) -> None:
    _spacing(p, line)
    if align is not None:
        p.alignment = align
    if indent_chars:
        p.paragraph_format.first_line_indent = Pt(CHAR * indent_chars)
    if right_chars:
        p.paragraph_format.right_indent = Pt(CHAR * right_chars)


def paragraph(
    doc: DocumentObject, text: str = "", *, font: str | None = None, size: Length = BODY_SIZE, bold: bool = False,
    align: WD_ALIGN_PARAGRAPH | None = None, indent_chars: int = 0, right_chars: int = 0, line: Length = LINE_PITCH,
) -> Paragraph:
    """A paragraph of one run: the body font, 3号, the fixed line pitch unless told otherwise."""
    p = doc.add_paragraph()
    _format(p, align=align, indent_chars=indent_chars, right_chars=right_chars, line=line)
    set_fonts(p.add_run(text), font or settings.DOC_FONT_BODY, size, bold=bold)
    return p


def title(doc: DocumentObject, text: str | Sequence[str]) -> Paragraph:
    """The document's title: 2号 in the title font, centred. A title too long for one line is given as its lines
    (broken where the words allow, GB/T 9704 asks for whole words on each line), joined by line breaks."""
    lines = [text] if isinstance(text, str) else list(text)
    p = paragraph(doc, lines[0], font=settings.DOC_FONT_TITLE, size=TITLE_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER,
                  line=TITLE_LINE)
    for line in lines[1:]:
        run = p.add_run()
        set_fonts(run, settings.DOC_FONT_TITLE, TITLE_SIZE)
        run.add_break()
        run.add_text(line)
    return p


def heading(doc: DocumentObject, text: str, level: int = 1) -> Paragraph:
    """A heading, 3号, indented two characters: level 1 ("一、") 黑体, level 2 ("（一）") 楷体, level 3 ("1.")
    the body font."""
    font = {1: settings.DOC_FONT_HEADING, 2: settings.DOC_FONT_KAI}.get(level, settings.DOC_FONT_BODY)
    return paragraph(doc, text, font=font, indent_chars=2)


def texts(doc: DocumentObject, text: str) -> list[Paragraph]:
    """A text of several lines as body paragraphs, one a line, each indented two characters; blank lines dropped."""
    return [paragraph(doc, line, indent_chars=2) for line in (t.strip() for t in text.splitlines()) if line]


def signature(doc: DocumentObject, office: str, day: dt.date) -> tuple[Paragraph, Paragraph]:
    """The issuing office and the date, each right-aligned four characters in from the right."""
    return (paragraph(doc, office, align=WD_ALIGN_PARAGRAPH.RIGHT, right_chars=4),
            paragraph(doc, chinese_date(day), align=WD_ALIGN_PARAGRAPH.RIGHT, right_chars=4))


# ---- tables ------------------------------------------------------------------------------------------------------

def _cell_text(cell: _Cell, text: str, *, font: str, size: Length, align: WD_ALIGN_PARAGRAPH) -> None:
    p = cell.paragraphs[0]
    _spacing(p, Pt(round(size.pt * 1.5, 1)))
    p.alignment = align
    set_fonts(p.add_run(text), font, size)
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER


def _repeat_header(table: Table) -> None:
    """The head row is repeated at the top of every page the table runs onto."""
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def type_width(section: Section) -> Length:
    """The width between a section's margins."""
    width, left, right = section.page_width, section.left_margin, section.right_margin
    assert width is not None and left is not None and right is not None  # set by `new_document`
    return Length(width - left - right)


def table(
    doc: DocumentObject, headers: Sequence[str], rows: Sequence[Sequence[str]], *,
    widths: Sequence[float] | None = None, size: Length = TABLE_SIZE, left: Sequence[int] = (),
) -> Table:
    """A ruled table filling the type area: the head row in the heading font (repeated on every page), the cells in
    the body font, centred except the columns in `left` (0-based). `widths` are relative column widths."""
    t = doc.add_table(rows=1 + len(rows), cols=len(headers))
    t.style = doc.styles["Table Grid"]
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    weights = list(widths) if widths else [1.0] * len(headers)
    total = type_width(doc.sections[-1])
    column_widths = [Length(int(total * w / sum(weights))) for w in weights]
    for ci, header in enumerate(headers):
        _cell_text(t.cell(0, ci), header, font=settings.DOC_FONT_HEADING, size=size, align=WD_ALIGN_PARAGRAPH.CENTER)
    for ri, row in enumerate(rows, start=1):
        for ci, value in enumerate(row):
            align = WD_ALIGN_PARAGRAPH.LEFT if ci in left else WD_ALIGN_PARAGRAPH.CENTER
            _cell_text(t.cell(ri, ci), value, font=settings.DOC_FONT_BODY, size=size, align=align)
    for ci, width in enumerate(column_widths):
        t.columns[ci].width = width
        for cell in t.columns[ci].cells:
            cell.width = width
    _repeat_header(t)
    return t


# ---- the page ----------------------------------------------------------------------------------------------------

def _defaults(doc: DocumentObject) -> None:
    """The document's default run: the body font on every slot (no theme fonts, which would win over the names),
    3号, Chinese; paragraphs without extra spacing."""
    body = settings.DOC_FONT_BODY
    styles = doc.styles.element
    rpr_default = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    rfonts = rpr_default.find(qn("w:rFonts"))
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(slot), body)
    lang = rpr_default.find(qn("w:lang"))
    if lang is not None:
        lang.set(qn("w:val"), "zh-CN")
        lang.set(qn("w:eastAsia"), "zh-CN")
    normal = doc.styles["Normal"]
    normal.font.name = body
    normal.font.size = BODY_SIZE
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), body)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.paragraph_format.line_spacing = LINE_PITCH


def _grid(section: Section) -> None:
    """The document grid of 22 lines a page: Word snaps the body's lines to it."""
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        section._sectPr.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(round(LINE_PITCH.pt * 20)))  # in twentieths of a point


def page(section: Section) -> None:
    """A4 portrait with the GB/T 9704 margins and line grid."""
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.top_margin, section.bottom_margin = TOP, BOTTOM
    section.left_margin, section.right_margin = LEFT, RIGHT
    # The page number's line sits 7 mm below the type area: its top 28 mm above the page's bottom edge.
    section.footer_distance = Mm(23)
    section.header_distance = Mm(15)
    _grid(section)


def landscape_section(doc: DocumentObject) -> Section:
    """A new section on a new page, A4 landscape, for a wide table. Turned to be read, its top lies on the binding
    side of the portrait page, so the margins are the portrait ones turned a quarter: top 28, right 37, bottom 26,
    left 35 mm. Headers and footers (the page numbers) carry on from the section before."""
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    # The section before ends with the last paragraph written, not with an empty one added to carry its properties
    # (which could spill onto a page of its own).
    body = doc.element.body
    holder = body.sectPr.getprevious() if body.sectPr is not None else None
    before = holder.getprevious() if holder is not None else None
    if (holder is not None and before is not None and before.tag == qn("w:p") and not holder.xpath("./w:r")
            and not before.xpath("./w:pPr/w:sectPr")):
        before.get_or_add_pPr().append(holder.pPr.sectPr)
        body.remove(holder)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = PAGE_HEIGHT, PAGE_WIDTH
    section.top_margin, section.right_margin, section.bottom_margin, section.left_margin = LEFT, TOP, RIGHT, BOTTOM
    section.footer_distance = Mm(15)
    _grid(section)
    return section


def _field_char(run: Run, kind: str) -> None:
    el = OxmlElement("w:fldChar")
    el.set(qn("w:fldCharType"), kind)
    run._r.append(el)


def page_number(p: Paragraph, *, odd: bool) -> None:
    """"— 1 —" with a PAGE field: odd pages on the right, even pages on the left, each one character in."""
    font, size = settings.DOC_FONT_PAGE_NUMBER, PAGE_NUMBER_SIZE
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT if odd else WD_ALIGN_PARAGRAPH.LEFT
    if odd:
        p.paragraph_format.right_indent = size
    else:
        p.paragraph_format.left_indent = size
    p.paragraph_format.space_after = Pt(0)
    set_fonts(p.add_run("— "), font, size)
    begin = p.add_run()
    set_fonts(begin, font, size)
    _field_char(begin, "begin")
    instr = p.add_run()
    set_fonts(instr, font, size)
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = " PAGE "
    instr._r.append(text)
    separate = p.add_run()
    set_fonts(separate, font, size)
    _field_char(separate, "separate")
    set_fonts(p.add_run("1"), font, size)
    end = p.add_run()
    set_fonts(end, font, size)
    _field_char(end, "end")
    set_fonts(p.add_run(" —"), font, size)


def page_numbers(doc: DocumentObject, section: Section | None = None) -> None:
    """Different odd and even footers on the section (the first by default), each holding the page number."""
    section = section or doc.sections[0]
    doc.settings.odd_and_even_pages_header_footer = True
    page_number(section.footer.paragraphs[0], odd=True)
    page_number(section.even_page_footer.paragraphs[0], odd=False)


def new_document(*, title: str = "", author: str = "") -> DocumentObject:
    """An empty document with the GB/T 9704 page, the body font as the default and page numbers in the footers."""
    doc = Document()
    _defaults(doc)
    page(doc.sections[0])
    page_numbers(doc)
    doc.core_properties.title = title
    doc.core_properties.author = author
    return doc


def to_bytes(doc: DocumentObject) -> bytes:
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


__all__ = [
    "BODY_SIZE",
    "CHAR",
    "LINE_PITCH",
    "PAGE_NUMBER_SIZE",
    "TABLE_SIZE",
    "TITLE_LINE",
    "TITLE_SIZE",
    "chinese_date",
    "heading",
    "landscape_section",
    "new_document",
    "page",
    "page_number",
    "page_numbers",
    "paragraph",
    "set_fonts",
    "signature",
    "table",
    "texts",
    "title",
    "to_bytes",
    "type_width",
]
