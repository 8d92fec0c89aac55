"""Django's admin for the ledger: a read-mostly view for a superuser's emergency look-ups.

`status` fields are not editable anywhere but `ledger.workflow`; day-to-day work uses the app's own pages. The
Problem changelist also serves as the yardstick for the ledger list in `make bench` (same columns and filters).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Problem


@admin.register(Problem)
class ProblemAdmin(admin.ModelAdmin):
    list_display = ("number", "summary", "lead_unit", "status", "deadline")
    list_filter = ("status", "rectification_type", "source")
    list_select_related = ("lead_unit",)
    search_fields = ("number", "summary")
    readonly_fields = ("campaign", "seq", "number", "status", "stage_closed", "closed_at", "created_by", "created_at")
    raw_id_fields = ("source", "category", "found_by", "lead_unit", "co_units")
    list_per_page = 20
    show_full_result_count = True

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # numbering and the first timeline entry come from ledger.services.problem_create

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # problems are voided, never deleted
