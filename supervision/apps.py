from __future__ import annotations

from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = "督办"

    def ready(self) -> None:
        from core.jobs import register_runner
        from notifications.digest import register_group

        from .panels import register_panels

        register_panels()
        register_runner("reminder_sweep", "每日督办巡查", run="supervision.sweep.run_sweep_job")
        register_group("order", "{n}个督办单待回复", order=10)
        register_group("overdue", "{n}个问题逾期", order=20)
        register_group("due_soon", "{n}个临期", order=30)
        register_group("report", "{n}项措施待报进展", order=40)
