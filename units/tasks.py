"""Periodic work of the units app (scheduled in settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task

from .services import initial_passwords_purge


@shared_task(name="units.tasks.purge_initial_passwords")
def purge_initial_passwords() -> int:
    """Initial passwords nobody downloaded in time leave the jobs; running it twice clears nothing twice."""
    return initial_passwords_purge()
