"""The 督办单 as a Word document, laid out after GB/T 9704-2012 《党政机关公文格式》 (`core.officialdoc`: the A4
page and its margins, the fonts named in settings on every slot of a run, the 3号 body at 22 lines a page, the title,
the headings, the office and the date four characters in from the right, the page numbers "— 1 —").

The figures are as of the day the order was issued (its overdue days), so the document printed later is the same
document; the reply section holds the reply once there is one, blank lines for handwriting before.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.text.paragraph import Paragraph

from campaigns.models import DeadlineMode
from campaigns.workdays import working_days_between
from core.officialdoc import chinese_date, heading, new_document, paragraph, signature, texts, title, to_bytes
from ledger.models import Problem

from .models import OrderLevel, OrderStatus, SupervisionOrder

BLANK_REPLY_LINES = 8

VERB = {OrderLevel.URGE: "催办", OrderLevel.SUPERVISE: "督办", OrderLevel.LISTED: "挂牌督办"}


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


def _labelled(doc: DocumentObject, label: str, value: str) -> Paragraph:
    """"问题编号：ZF2022-0001", indented two characters."""
    return paragraph(doc, f"{label}：{value}", indent_chars=2)


def order_docx(order: SupervisionOrder) -> bytes:
    """The 督办单 as a .docx file."""
    problem = order.problem
    lead = problem.lead_unit
    issued_on = timezone.localdate(order.issued_at)
    level = OrderLevel(order.level)
    office = settings.SUPERVISION_OFFICE_NAME

    doc = new_document(title=f"{order.number} {order.title}", author=office)

    title(doc, order.title)
    paragraph(doc, order.number, align=WD_ALIGN_PARAGRAPH.CENTER)
    paragraph(doc, f"{lead.name if lead else ''}：")
    paragraph(doc, f"经研究，决定对你单位牵头整改的下列问题予以{VERB[level]}，请高度重视，按要求抓紧整改落实。",
              indent_chars=2)
    heading(doc, "一、督办问题")
    _labelled(doc, "问题编号", problem.number)
    _labelled(doc, "问题概述", problem.summary)
    _labelled(doc, "整改时限", chinese_date(problem.deadline) if problem.deadline else "长期坚持")
    _labelled(doc, "逾期天数", overdue_text(problem, issued_on))
    heading(doc, "二、督办要求")
    texts(doc, order.requirements)
    heading(doc, "三、回复期限")
    paragraph(doc, f"请于{chinese_date(order.reply_deadline)}前将整改落实情况书面回复（加盖公章），"
                   "并在整改台账系统中填报。", indent_chars=2)
    paragraph(doc)
    signature(doc, office, issued_on)

    # The reply section, on a page of its own so it can be filled in, stamped and sent back.
    reply_heading = paragraph(doc, "回复情况", font=settings.DOC_FONT_HEADING, align=WD_ALIGN_PARAGRAPH.CENTER)
    reply_heading.paragraph_format.page_break_before = True
    _labelled(doc, "督办单号", order.number)
    _labelled(doc, "问题编号", problem.number)
    replied = order.status == OrderStatus.REPLIED and order.reply
    if replied:
        texts(doc, order.reply)
    else:
        for _ in range(BLANK_REPLY_LINES):
            paragraph(doc)
    paragraph(doc)
    unit_name = lead.name if lead and replied else ""
    paragraph(doc, f"回复单位（盖章）：{unit_name}", indent_chars=2)
    if replied and order.replied_at:
        who = order.replied_by.full_name if order.replied_by and order.replied_by.full_name else ""
        if who:
            paragraph(doc, f"回复人：{who}", indent_chars=2)
        paragraph(doc, f"日期：{chinese_date(timezone.localdate(order.replied_at))}", indent_chars=2)
    else:
        paragraph(doc, "日期：　　　　年　　月　　日", indent_chars=2)
    return to_bytes(doc)


def order_filename(order: SupervisionOrder) -> str:
    return f"{order.number}.docx"


__all__ = ["chinese_date", "order_docx", "order_filename", "overdue_days", "overdue_text"]
