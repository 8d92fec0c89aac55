from __future__ import annotations

from .import_urls import urlpatterns as import_urlpatterns

app_name = "ledger"
urlpatterns: list = [*import_urlpatterns]
