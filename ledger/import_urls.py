"""URL patterns of the ledger import pages; included by ledger/urls.py under the `ledger` namespace."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
