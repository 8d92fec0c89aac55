from __future__ import annotations

from django.urls import path

from . import views
from .import_urls import urlpatterns as import_urlpatterns

app_name = "ledger"
urlpatterns: list = [
    path("", views.problem_list, name="problem_list"),
    path("export/", views.problem_export, name="problem_export"),
    path("new/", views.problem_create, name="problem_create"),
    path("assign/", views.problem_assign, name="problem_assign"),
    path("deadline-preview/", views.deadline_preview, name="deadline_preview"),
    path("review/", views.review_queue, name="review_queue"),
    path("tasks/", views.my_tasks, name="my_tasks"),
    path("<int:pk>/", views.problem_detail, name="problem_detail"),
    path("<int:pk>/edit/", views.problem_edit, name="problem_edit"),
    path("<int:pk>/measures/new/", views.measure_create, name="measure_create"),
    path("<int:pk>/apply/", views.problem_apply, name="problem_apply"),
    path("<int:pk>/review/", views.problem_review, name="problem_review"),
    path("<int:pk>/void/", views.problem_void, name="problem_void"),
    path("<int:pk>/reopen/", views.problem_reopen, name="problem_reopen"),
    path("<int:pk>/listed/", views.problem_list_toggle, name="problem_listed"),
    path("<int:pk>/exemplar/", views.problem_exemplar, name="problem_exemplar"),
    path("<int:pk>/accountability/new/", views.accountability_add, name="accountability_add"),
    path("accountability/<int:pk>/delete/", views.accountability_delete, name="accountability_delete"),
    path("measures/<int:pk>/edit/", views.measure_edit, name="measure_edit"),
    path("measures/<int:pk>/progress/", views.progress_add, name="progress_add"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence_download"),
    path("evidence/<int:pk>/view/", views.evidence_view, name="evidence_view"),
    path("evidence/<int:pk>/remove/", views.evidence_remove, name="evidence_remove"),
    path("lookback/", views.lookback_list, name="lookback_list"),
    path("lookback/draw/", views.lookback_draw, name="lookback_draw"),
    path("lookback/<int:pk>/", views.lookback_record, name="lookback_record"),
    *import_urlpatterns,
]
