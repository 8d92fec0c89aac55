from __future__ import annotations

from django.urls import URLPattern, path

from . import views

app_name = "campaigns"
urlpatterns: list[URLPattern] = [
    path("", views.campaign_list, name="campaign_list"),
    path("new/", views.campaign_create, name="campaign_create"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/<int:pk>/delete/", views.calendar_delete, name="calendar_delete"),
    path("<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path("<int:pk>/categories/", views.category_list, name="category_list"),
    path("<int:pk>/categories/new/", views.category_create, name="category_create"),
    path("<int:pk>/categories/import/", views.category_import, name="category_import"),
    path("<int:pk>/categories/import/confirm/", views.category_import_confirm, name="category_import_confirm"),
    path("<int:pk>/categories/copy/", views.category_copy, name="category_copy"),
    path("<int:pk>/categories/export/", views.category_export, name="category_export"),
    path("<int:pk>/categories/<int:category_pk>/edit/", views.category_edit, name="category_edit"),
    path("<int:pk>/categories/<int:category_pk>/active/", views.category_toggle_active, name="category_toggle_active"),
    path("<int:pk>/sources/", views.sources, name="sources"),
]
