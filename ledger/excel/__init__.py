"""The 问题台账 in and out of Excel: `columns` (header aliases, status words), `reader` (both layouts offices keep),
`importer` (preview, then an all-or-nothing import through the ledger's services), `exporter` (the printable
layout). Importing this package registers the "ledger" kind with units' ImportJob machinery.
"""

from __future__ import annotations

from units.models import ImportJob
from units.services import register_importer

LEDGER_KIND = ImportJob.Kind.LEDGER

register_importer(LEDGER_KIND, "ledger.excel.importer.preview_ledger", "ledger.excel.importer.apply_ledger")

__all__ = ["LEDGER_KIND"]
