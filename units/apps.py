from __future__ import annotations

from django.apps import AppConfig

# Each new account's initial password is hashed with PBKDF2 (about half a second of CPU): more than a few would
# hold the request for too long, so such a users import is confirmed in the background whatever its size.
INLINE_NEW_ACCOUNTS = 10


def _many_new_accounts(job: object) -> bool:
    report = getattr(job, "report", None) or {}
    return int((report.get("counts") or {}).get("new", 0)) > INLINE_NEW_ACCOUNTS


class UnitsConfig(AppConfig):
    name = "units"
    verbose_name = "单位与人员"

    def ready(self) -> None:
        from core.jobs import register_importer

        from . import signals  # noqa: F401  (connects the login audit receivers)

        register_importer("units", "单位名册", preview="units.roster.preview_units", apply="units.roster.apply_units")
        register_importer(
            "users", "人员名册", preview="units.roster.preview_users", apply="units.roster.apply_users",
            background_always=_many_new_accounts,
        )
