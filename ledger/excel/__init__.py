"""The 问题台账 in and out of Excel: `columns` (header aliases, status words), `reader` (both layouts offices keep),
`importer` (preview, then an all-or-nothing import through the ledger's services), `exporter` (the printable
layout). The "ledger" job kind is registered with core's job engine when the app loads (`ledger.apps`).
"""

from __future__ import annotations

LEDGER_KIND = "ledger"

__all__ = ["LEDGER_KIND"]
