"""Bench figure: reading a 10,000-problem ledger (about 2 measures each, in the layout the export writes: title row,
header, problem cells merged down across their measures) with `ledger.excel.reader.read_ledger`, against the floor
of any reader: openpyxl's read-only parse of the same file with `values_only=True`, every row into a list.

Ours does more than the floor: it scans the archive for what it holds before parsing, finds the header, reads
merges from the sheet's XML and turns rows into problems and measures. Both sides run in a fresh child process so
that their peak memory compares: the peak resident size (VmHWM) above what the process held before reading, C
allocations (the XML parser's) included. The time is the best of `REPEAT` reads.

Registers itself in bench.figures.FIGURES when bench/run.py imports it. On its own:
`.venv/bin/python bench/run.py ledger_read`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter

from bench.figures import FIGURES, Figure
from ledger.excel.columns import EXPORT_COLUMNS
from ledger.excel.exporter import FIRST_DATA_ROW, PROBLEM_COLUMNS, _merge, _setup_sheet

PROBLEMS = 10_000
MEASURES = (1, 2, 3)  # measures per problem, in turn: 2 on average
REPEAT = 3
ROOT = Path(__file__).resolve().parent.parent
UNITS = ("县教育体育局", "县财政局", "县人民政府办公室", "县住房和城乡建设局", "县交通运输局", "城关街道")
STATUS_WORDS = ("正在推进", "已完成", "未启动", "长期坚持")


def write_ledger(path: Path, problems: int = PROBLEMS) -> tuple[Path, int]:
    """A ledger as the export lays it out, in openpyxl's normal mode; returns the path and the number of measures."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    _setup_sheet(ws, "示范县问题整改台账（基准测试）")
    keys = [key for key, _, _ in EXPORT_COLUMNS]
    merged_cols = [keys.index(k) + 1 for k in PROBLEM_COLUMNS]
    row = FIRST_DATA_ROW
    total = 0
    for i in range(1, problems + 1):
        n = MEASURES[i % len(MEASURES)]
        lead = UNITS[i % len(UNITS)]
        problem = {
            "seq": i, "number": f"ZF2022-{i:05d}", "source": "督查反馈", "category": str(1 + i % 9),
            "description": f"第{i}项：会议多、文件多，基层迎检负担重，部分检查考核事项重复，" * 2,
            "rectification_type": "限期整改", "responsible_leader": "分管副局长", "lead_unit": lead,
            "co_units": UNITS[(i + 1) % len(UNITS)], "closure": "未销号",
        }
        for j in range(n):
            measure = {
                "measures": f"{j + 1}.精简会议文件，对第{i}项问题涉及的文件逐件清理，废止重复文件",
                "measure_unit": lead, "responsible_person": "李佳",
                "deadline": dt.datetime(2022, 6, 30) + dt.timedelta(days=j),  # noqa: DTZ001 (Excel dates are naive)
                "progress": f"已完成第{j + 1}阶段，清理文件{10 + j}件" if j % 2 == 0 else "",
                "status": STATUS_WORDS[(i + j) % len(STATUS_WORDS)],
            }
            values = {**problem, **measure} if j == 0 else measure
            for ci, key in enumerate(keys, start=1):
                if key in values:
                    ws.cell(row=row + j, column=ci, value=values[key])
        if n > 1:
            for ci in merged_cols:
                letter = get_column_letter(ci)
                _merge(ws, f"{letter}{row}:{letter}{row + n - 1}")
        row += n
        total += n
    wb.save(path)
    return path, total


def _peak_rss() -> int:
    """The process's peak resident size in bytes. ru_maxrss would do but for a child started from a large parent:
    Linux carries the parent's figure across exec."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _child(side: str, path: str) -> None:
    """One side, in a process of its own (Django set up): prints {"seconds", "peak_bytes", "rows"} as JSON."""
    from ledger.excel.reader import read_ledger

    def ours() -> int:
        sheet = read_ledger(path)
        return sum(len(p.measures) for p in sheet.problems)

    def floor() -> int:
        wb = openpyxl.load_workbook(path, read_only=True)
        try:
            rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        finally:
            wb.close()
        return len(rows)

    fn = ours if side == "ours" else floor
    before = _peak_rss()
    times = []
    count = 0
    for _ in range(REPEAT):
        start = time.perf_counter()
        count = fn()
        times.append(time.perf_counter() - start)
    peak = _peak_rss() - before
    print(json.dumps({"seconds": min(times), "peak_bytes": peak, "rows": count}))


_CHILD = "import django; django.setup(); from bench.ledger_read import _child; _child({side!r}, {path!r})"


def _run_side(side: str, path: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"]}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD.format(side=side, path=str(path))],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def ledger_read(workdir: Path) -> Figure:
    start = time.perf_counter()
    path, measures = write_ledger(workdir / "ledger-read.xlsx")
    print(f"  生成 {PROBLEMS:,} 个问题、{measures:,} 项措施的台账用时 {time.perf_counter() - start:.1f} 秒"
          f"（{path.stat().st_size / 1024 / 1024:.1f} MB）", file=sys.stderr)
    ours = _run_side("ours", path)
    floor = _run_side("floor", path)
    assert ours["rows"] == measures, ours
    assert floor["rows"] >= measures + 2, floor
    return Figure(
        f"读取 {PROBLEMS:,} 个问题的台账（{measures:,} 项措施，合并单元格）", ours["seconds"], floor["seconds"],
        "openpyxl 只读解析 values_only（下限）",
        ours_peak_bytes=int(ours["peak_bytes"]), baseline_peak_bytes=int(floor["peak_bytes"]),
    )


if ledger_read not in FIGURES:
    FIGURES.append(ledger_read)

