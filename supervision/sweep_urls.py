from __future__ import annotations

from django.urls import path

from . import sweep_views

urlpatterns: list = [
    path("", sweep_views.sweep_list, name="sweep_list"),
    path("preview/", sweep_views.sweep_preview, name="sweep_preview"),
    path("run/", sweep_views.sweep_run, name="sweep_run"),
]
