"""What each exported row looked like, so that a re-imported row can be told stale.

The export adds a hidden sheet, 导出版本: one line per problem with its 编号, its `version` at the moment of the
export, and a short digest of each field as the import compares it ("问题描述", "措施2 状态" …). On re-import, a row
whose version is older than the problem's is stale; a field the system changed since the export (its digest
differs from today's) and that the file gives otherwise is a 冲突: both values are shown, and the system's value
stays unless the clerk picks the file's. A field the system did not change is the clerk's edit, as usual.

Files without the sheet (an office's own ledger, an older export) are compared as they are.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from core.text import excel_text
from core.xlsx import XlsxError, cell_text, open_workbook
from ledger.models import Problem

SHEET = "导出版本"
HEADER = ("编号", "版本", "字段摘要")


# The labels a compared field goes by, in the preview and in the digests: one table for both.
PROBLEM_LABELS = {
    "description": "问题描述", "summary": "问题概述", "source": "问题来源", "category": "问题类别",
    "responsible_leader": "责任领导", "discovered_on": "发现日期", "found_by": "发现单位", "lead_unit": "牵头单位",
    "deadline": "整改时限", "rectification_type": "整改类型", "co_units": "配合单位", "source_number": "原编号",
}
MEASURE_LABELS = {
    "content": "整改措施", "unit": "责任单位", "responsible_person": "责任人", "deadline": "整改时限",
    "status": "状态", "progress": "整改进展",
}


def measure_label(seq: int, part: str) -> str:
    return f"措施{seq} {MEASURE_LABELS[part]}"


def date_text(d: Any, long_term: bool = False) -> str:
    return "长期坚持" if long_term else (d.isoformat() if d else "")


def field_texts(p: Problem) -> dict[str, str]:
    """The fields of a problem and its measures as the import compares them, under the labels the preview shows.
    `p` comes with source, category, units, co-units and measures (with `latest_progress`) loaded."""
    problem = {
        "description": p.description or "", "summary": p.summary or "", "source": str(p.source or ""),
        "category": str(p.category or ""), "responsible_leader": p.responsible_leader or "",
        "discovered_on": date_text(p.discovered_on), "found_by": str(p.found_by or ""),
        "lead_unit": str(p.lead_unit or ""), "deadline": date_text(p.deadline),
        "rectification_type": p.get_rectification_type_display(),
        "co_units": "、".join(sorted(u.name for u in p.co_units.all())),
        "source_number": p.source_number or "",
    }
    texts = {PROBLEM_LABELS[name]: text for name, text in problem.items()}
    for m in p.measures.all():
        measure = {
            "content": m.content, "unit": str(m.unit), "responsible_person": m.responsible_person,
            "deadline": date_text(m.deadline, m.is_long_term), "status": m.get_status_display(),
            "progress": getattr(m, "latest_progress", None) or "",
        }
        texts.update({measure_label(m.seq, part): text for part, text in measure.items()})
    return texts


def digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()[:10]


def digests(p: Problem) -> dict[str, str]:
    return {label: digest(text) for label, text in field_texts(p).items()}


def write_versions(wb: Any, problems: list[Problem]) -> None:
    """Add the hidden 导出版本 sheet to an export being written."""
    ws = wb.create_sheet(SHEET)
    ws.sheet_state = "hidden"
    ws.append(HEADER)
    for p in problems:
        ws.append([excel_text(p.number), p.version,
                   excel_text(json.dumps(digests(p), ensure_ascii=False, separators=(",", ":")))])


@dataclass
class RowVersion:
    version: int
    digests: dict[str, str] = field(default_factory=dict)

    def system_changed(self, label: str, now: dict[str, str]) -> bool:
        """Whether the system changed this field since the export (unknown fields count as changed)."""
        old = self.digests.get(label)
        return old is None or old != now.get(label)


def read_versions(file: Any) -> dict[str, RowVersion]:
    """The 导出版本 sheet of a ledger file, by 编号; empty when the file has none (or it is unreadable)."""
    if hasattr(file, "seek"):
        file.seek(0)
    try:
        with open_workbook(file) as wb:
            if SHEET not in wb.sheetnames:
                return {}
            rows = wb[SHEET].rows()
    except XlsxError:
        return {}
    finally:
        if hasattr(file, "seek"):
            file.seek(0)
    out: dict[str, RowVersion] = {}
    for row in rows[1:]:
        if len(row) < 3:
            continue
        number, version, raw = cell_text(row[0]), cell_text(row[1]), cell_text(row[2])
        if not number or not version.isdigit():
            continue
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {}
        out[number] = RowVersion(int(version), {str(k): str(v) for k, v in data.items()} if isinstance(data, dict)
                                 else {})
    return out


__all__ = [
    "MEASURE_LABELS", "PROBLEM_LABELS", "SHEET", "RowVersion", "date_text", "digests", "field_texts", "measure_label",
    "read_versions", "write_versions",
]
