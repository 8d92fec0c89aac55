"""Django's admin for campaigns, for a superuser's emergency repairs; day-to-day work uses the campaign pages,
which call the services (validation, the audit trail, the default phases and sources). Writes from here bypass
them, so creating and deleting are left to those pages."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import CalendarOverride, Campaign, Category, Phase, Source


class PhaseInline(admin.TabularInline):
    model = Phase
    extra = 0
    fields = ("sort_order", "kind", "name", "start_date", "deadline", "note")


class SourceInline(admin.TabularInline):
    model = Source
    extra = 0
    fields = ("sort_order", "name", "is_active")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # problems refer to their source: deactivate instead


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "status", "start_date", "end_date", "deadline_mode", "yellow_window_days")
    list_filter = ("status", "deadline_mode")
    search_fields = ("code", "name")
    filter_horizontal = ("jurisdiction",)
    # The code is in every problem number already handed out.
    readonly_fields = ("code", "last_problem_seq", "created_by", "created_at", "updated_at")
    inlines = (PhaseInline, SourceInline)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # campaigns.services.campaign_create seeds the phases and the sources

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "parent", "campaign", "sort_order", "is_active")
    list_filter = ("campaign", "is_active")
    search_fields = ("code", "name")
    list_select_related = ("parent", "campaign")
    readonly_fields = ("campaign", "parent")  # moving is checked for cycles on the category pages

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # problems refer to their category: deactivate instead


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    list_display = ("date", "is_workday", "note")
    date_hierarchy = "date"
