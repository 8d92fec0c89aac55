from __future__ import annotations

from django.apps import AppConfig


class UnitsConfig(AppConfig):
    name = "units"
    verbose_name = "单位与人员"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the login audit receivers)
