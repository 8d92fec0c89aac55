"""Celery tasks of supervision: thin; the sweep is safe to run twice."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from core.tasks import RELIABLE


@shared_task(**RELIABLE)
def daily_sweep(day: str | None = None) -> dict[str, Any]:
    """The beat entry (SWEEP_TIME on every day; the sweep itself does nothing on a holiday)."""
    from . import sweep

    return sweep.sweep_and_send(day=day)
