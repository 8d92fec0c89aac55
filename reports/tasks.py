"""Celery tasks of reports: thin; a scheduled build claims its period once."""

from __future__ import annotations

from celery import shared_task

from core.tasks import RELIABLE


@shared_task(**RELIABLE)
def scheduled_builds(day: str | None = None) -> list[int]:
    """The beat entry (REPORT_TIME every day): what the campaigns' calendars build today."""
    import datetime as dt

    from . import services

    return services.report_schedule(day=dt.date.fromisoformat(day) if day else None)
