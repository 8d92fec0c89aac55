"""Django admin for campaigns: a read-mostly back door for administrators. Day-to-day edits go through the
campaign pages, which call the services (validation and the audit trail)."""

from __future__ import annotations

from django.contrib import admin

from .models import CalendarOverride, Campaign, Category, Phase, Source


class PhaseInline(admin.TabularInline):
    model = Phase
    extra = 0
    fields = ("sort_order", "kind", "name", "start_date", "deadline", "note")


class SourceInline(admin.TabularInline):
    model = Source
    extra = 0
    fields = ("sort_order", "name", "is_active")


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "status", "start_date", "end_date", "deadline_mode", "yellow_window_days")
    list_filter = ("status", "deadline_mode")
    search_fields = ("code", "name")
    filter_horizontal = ("jurisdiction",)
    readonly_fields = ("last_problem_seq", "created_by", "created_at", "updated_at")
    inlines = (PhaseInline, SourceInline)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "parent", "campaign", "sort_order", "is_active")
    list_filter = ("campaign", "is_active")
    search_fields = ("code", "name")
    list_select_related = ("parent", "campaign")
    raw_id_fields = ("parent",)


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    list_display = ("date", "is_workday", "note")
    date_hierarchy = "date"
