"""Django's admin, for a superuser's emergency repairs; day-to-day work uses the app's own pages.

Writes from here bypass the services, so the models that must stay consistent (unit paths, the audit trail)
are read-only in it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.http import HttpRequest

from .models import Unit, User, UserRole
from .services import SAME_PASSWORD


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


class AdminPasswordForm(AdminPasswordChangeForm):
    """The admin's set-password form: not the password the account has now, and its sessions end."""

    def clean_password1(self) -> str:
        password: str = self.cleaned_data.get("password1") or ""
        if password and self.user.check_password(password):
            raise forms.ValidationError(SAME_PASSWORD, code="password_reused")
        return password

    def save(self, commit: bool = True) -> Any:
        self.user.session_version += 1
        return super().save(commit=commit)


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
    change_password_form = AdminPasswordForm

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change and "is_active" in form.changed_data and not obj.is_active:
            obj.session_version += 1  # as units.services.user_set_active: the account's sessions end
        super().save_model(request, obj, form, change)
