"""Django's admin for the audit trail and jobs: read-only (writes go through `core.audit` and `core.jobs`).

The audit trail has no change or delete permission here for anyone, superusers included: it is only added to.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import AuditEntry, Job


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_name", "action", "result", "object_repr", "ip", "request_id")
    list_filter = ("action", "result")
    search_fields = ("actor_name", "object_repr", "note", "request_id")
    date_hierarchy = "at"
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "original_name", "owner", "status", "progress", "total_rows")
    list_filter = ("kind", "status")
    # The report may still hold new accounts' initial passwords: it stays off this page.
    fields = ("kind", "original_name", "owner", "created_at", "finished_at", "status", "progress", "total_rows",
              "error")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
