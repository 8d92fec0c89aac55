from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from units import views as unit_views

urlpatterns = [
    path("", unit_views.home, name="home"),
    path("accounts/", include("units.account_urls")),
    path("units/", include("units.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("ledger/", include("ledger.urls")),
    path("notifications/", include("notifications.urls")),
    path("supervision/", include("supervision.urls")),
    path("reports/", include("reports.urls")),
    path("audit/", include("core.urls")),
    path("django-admin/", admin.site.urls),
]
