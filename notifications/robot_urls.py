from __future__ import annotations

from django.urls import path

from . import robot_views as views

urlpatterns = [
    path("", views.robot_list, name="robot_list"),
    path("new/", views.robot_create, name="robot_create"),
    path("<int:pk>/edit/", views.robot_edit, name="robot_edit"),
    path("<int:pk>/enable/", views.robot_enable, name="robot_enable"),
    path("<int:pk>/disable/", views.robot_disable, name="robot_disable"),
    path("<int:pk>/test/", views.robot_test, name="robot_test"),
]
