from __future__ import annotations

from django.urls import include, path

app_name = "supervision"
urlpatterns: list = [
    path("sweeps/", include("supervision.sweep_urls")),
]
