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
    path("users/<int:pk>/unlock/", views.user_unlock_view, name="user_unlock"),
    path("import/", views.import_start, name="import_start"),
    path("import/template/<str:kind>/", views.import_template, name="import_template"),
    path("import/<int:pk>/", views.import_job, name="import_job"),
    path("import/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("import/<int:pk>/apply/", views.import_apply, name="import_apply"),
    path("import/<int:pk>/remap/", views.import_remap, name="import_remap"),
    path("import/<int:pk>/mapping/", views.import_mapping_save, name="import_mapping_save"),
    path("import/<int:pk>/passwords/", views.import_passwords, name="import_passwords"),
    path("import/<int:pk>/passwords/reissue/", views.import_passwords_reissue, name="import_passwords_reissue"),
]
