from __future__ import annotations

from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "问题台账"

    def ready(self) -> None:
        # Registers the "ledger" kind with the import-job machinery in every process, Celery workers included.
        from . import excel  # noqa: F401
