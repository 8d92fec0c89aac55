"""Django's admin, for a superuser's emergency repairs; day-to-day work uses the app's own pages.

Writes from here bypass the services, so the models that must stay consistent (unit paths, the audit trail)
are read-only in it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest

from .models import Unit, User, UserRole


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "short_name", "code", "kind", "parent", "sort_order", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "short_name", "code")
    readonly_fields = ("path", "depth", "parent", "created_at", "updated_at")
    ordering = ("path",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a unit needs its materialized path: create through the roster import or the service

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class UserRoleInline(admin.TabularInline):
    model = UserRole
    extra = 0


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "full_name", "unit", "phone", "is_active", "last_login")
    list_filter = ("is_active", "is_superuser", "role_grants__role")
    search_fields = ("username", "full_name", "phone", "email")
    autocomplete_fields = ("unit", "overseen_units")
    inlines = [UserRoleInline]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("个人信息", {"fields": ("full_name", "phone", "email", "unit", "overseen_units")}),
        ("权限", {"fields": ("is_active", "is_staff", "is_superuser", "must_change_password")}),
        ("时间", {"fields": ("last_login", "date_joined")}),
    )
