"""Benchmarks: `make bench` (or `.venv/bin/python bench/run.py`) prints one line per figure, each timed against a
baseline measured in the same run on the same fresh database.

Uses DATABASE_URL when set (a separate "<name>_bench" database is created and dropped), else a temporary SQLite file.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import shutil
import sys
import tempfile
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = os.environ.get("BENCH_SETTINGS", "bench.settings")
os.environ.setdefault("BENCH_TMPDIR", tempfile.mkdtemp(prefix="zg-bench-"))
HELPER_MODULES = {"run", "settings", "figures", "rosters"}


def main() -> int:
    # Imported here: Django reads DJANGO_SETTINGS_MODULE, set above, when it is set up.
    import django

    django.setup()
    from django.db import connection

    import bench
    from bench.figures import FIGURES

    # Figure modules register themselves in FIGURES when imported (e.g. bench/ledger_list.py).
    for module in pkgutil.iter_modules(bench.__path__):
        if module.name not in HELPER_MODULES:
            importlib.import_module(f"bench.{module.name}")

    workdir = Path(os.environ["BENCH_TMPDIR"])
    old_name = connection.settings_dict["NAME"]
    print(f"数据库：{connection.vendor}；生成的名册与临时文件：{workdir}", file=sys.stderr)
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    only = set(sys.argv[1:])  # optional figure names, e.g. `bench/run.py import_units_roster`
    figures = []
    try:
        for figure_fn in FIGURES:
            if only and figure_fn.__name__ not in only:
                continue
            print(f"… {figure_fn.__name__}", file=sys.stderr, flush=True)
            figures.append(figure_fn(workdir))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        shutil.rmtree(workdir, ignore_errors=True)

    print_table(figures)
    return 0


def print_table(figures: list) -> None:
    notes = any(f.note for f in figures)  # e.g. peak memory, for the figures that measure it
    rows = [("figure", "ours (s)", "baseline (s)", "ratio", "baseline", *(("note",) if notes else ()))]
    for f in figures:
        rows.append((f.name, f"{f.ours:.2f}", f"{f.baseline:.2f}", f"{f.ratio:.1f}×", f.baseline_name,
                     *((f.note,) if notes else ())))
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, r in enumerate(rows):
        print(" | ".join(_pad(cell, widths[i], right=0 < i < 4) for i, cell in enumerate(r)).rstrip())
        if n == 0:
            print("-+-".join("-" * w for w in widths))
    print("ratio = baseline / ours：高于 1 表示本系统更快。")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, *, right: bool) -> str:
    space = " " * (width - _width(text))
    return space + text if right else text + space


if __name__ == "__main__":
    sys.exit(main())
