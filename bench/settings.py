"""Settings for the benchmarks: the test settings, on a throwaway database.

DATABASE_URL set (e.g. PostgreSQL): a separate database named "<name>_bench" is created and dropped.
Unset: a temporary SQLite file (a file, not memory, so that timings include real I/O).
"""

from __future__ import annotations

import os
import tempfile

from config.settings.test import *  # noqa: F403
from config.settings.test import env

if "BENCH_TMPDIR" not in os.environ:  # bench/run.py sets it; a child process it starts inherits it
    os.environ["BENCH_TMPDIR"] = tempfile.mkdtemp(prefix="zg-bench-")
_tmp = os.environ["BENCH_TMPDIR"]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{os.path.join(_tmp, 'bench.sqlite3')}")}
_default = DATABASES["default"]
if _default["ENGINE"].endswith("sqlite3"):
    _default["TEST"] = {"NAME": os.path.join(_tmp, "bench-test.sqlite3")}
else:
    _default["TEST"] = {"NAME": f"{_default['NAME']}_bench"}
MEDIA_ROOT = os.path.join(_tmp, "media")
DEBUG = False
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
