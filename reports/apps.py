from __future__ import annotations

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "报表"

    def ready(self) -> None:
        from core.jobs import register_runner

        register_runner("report_build", "生成报表", run="reports.services.run_report_build")

        from ledger.drill import register

        from .dashboard import resolve_drill

        register(resolve_drill)

        from notifications.digest import register_group

        register_group("report_ready", "{n}份报表已生成", order=50)
