"""URL patterns of the ledger import pages; included by ledger/urls.py under the `ledger` namespace."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import import_views

urlpatterns: list[URLPattern] = [
    path("import/", import_views.import_start, name="import_start"),
    path("import/template/", import_views.import_template, name="import_template"),
    path("import/<int:pk>/", import_views.import_job, name="import_job"),
    path("import/<int:pk>/progress/", import_views.import_progress, name="import_progress"),
    path("import/<int:pk>/apply/", import_views.import_apply, name="import_apply"),
    path("import/<int:pk>/remap/", import_views.import_remap, name="import_remap"),
    path("import/<int:pk>/mapping/", import_views.import_mapping_save, name="import_mapping_save"),
]
