from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "基础服务"

    def ready(self) -> None:
        # Every xlsx a dataset writes goes through core.text.excel_text, even one built without our resources.
        from core import exporting  # noqa: PLC0415 - resources import models: only once the apps are ready

        exporting.register_xlsx()
