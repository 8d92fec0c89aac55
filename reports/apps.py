from __future__ import annotations

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "报表"

    def ready(self) -> None:
        from core.jobs import register_runner

        register_runner("report_build", "生成报表", run="reports.services.run_report_build")
