from __future__ import annotations

from django.urls import path

from . import views

app_name = "units"
urlpatterns = [
    path("", views.unit_tree, name="unit_tree"),
    path("<int:pk>/", views.unit_detail, name="unit_detail"),
    path("<int:pk>/active/", views.unit_toggle_active, name="unit_toggle_active"),
    path("users/", views.user_list, name="user_list"),
    path("users/<int:pk>/active/", views.user_toggle_active, name="user_toggle_active"),
    path("users/<int:pk>/reset-password/", views.user_reset_password_view, name="user_reset_password"),
    path("audit/", views.audit_list, name="audit_list"),
]
