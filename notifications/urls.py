from __future__ import annotations

from django.urls import include, path

app_name = "notifications"
urlpatterns: list = [
    path("robots/", include("notifications.robot_urls")),
]
