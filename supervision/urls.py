from __future__ import annotations

from django.urls import include, path

from . import views

app_name = "supervision"
urlpatterns: list = [
    path("sweeps/", include("supervision.sweep_urls")),
    path("orders/", views.order_list, name="order_list"),
    path("orders/export/", views.order_export, name="order_export"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/reply/", views.order_reply, name="order_reply"),
    path("orders/<int:pk>/withdraw/", views.order_withdraw, name="order_withdraw"),
    path("orders/<int:pk>/docx/", views.order_docx, name="order_docx"),
    path("problems/<int:pk>/issue/", views.order_issue, name="order_issue"),
]
