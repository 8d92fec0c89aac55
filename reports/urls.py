from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.run_list, name="run_list"),
    path("build/", views.run_build, name="run_build"),
    path("<int:pk>/", views.run_detail, name="run_detail"),
    path("<int:pk>/download/<str:which>/", views.run_download, name="run_download"),
    path("<int:pk>/final/", views.run_upload_final, name="run_upload_final"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/export/<str:table>/", views.dashboard_export, name="dashboard_export"),
]
