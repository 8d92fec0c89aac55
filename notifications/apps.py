from __future__ import annotations

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "通知"

    def ready(self) -> None:
        from core.audit import register_audit_labels

        register_audit_labels("notifications.robot", {"webhook": "Webhook 地址", "secret": "加签密钥"})
