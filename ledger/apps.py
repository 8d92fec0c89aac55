from __future__ import annotations

from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "问题台账"

    def ready(self) -> None:
        # Registers the "ledger" kind with the job engine in every process, Celery workers included.
        from core.jobs import register_importer

        from .excel import LEDGER_KIND

        register_importer(LEDGER_KIND, "问题台账", preview="ledger.excel.importer.preview_ledger",
                          apply="ledger.excel.importer.apply_ledger")
