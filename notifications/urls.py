from __future__ import annotations

from django.urls import include, path

from . import views

app_name = "notifications"
urlpatterns: list = [
    path("", views.notification_list, name="list"),
    path("read/", views.notification_mark_read, name="mark_read"),
    path("read-all/", views.notification_mark_all_read, name="mark_all_read"),
    path("<int:pk>/open/", views.notification_open, name="open"),
    path("preferences/", views.preferences, name="preferences"),
    path("channels/", views.channel_switches, name="channels"),
    path("deliveries/", views.delivery_list, name="deliveries"),
    path("deliveries/export/", views.delivery_export, name="deliveries_export"),
    path("deliveries/<int:pk>/resend/", views.delivery_resend, name="delivery_resend"),
    path("robots/", include("notifications.robot_urls")),
]
