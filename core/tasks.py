"""Celery tasks of the job engine: thin, ids in, the services do the work (and make a second run harmless).

Every task acknowledges late and is rejected (so redelivered) when its worker is lost; a transient database or
broker error retries with backoff. JSON arguments only.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import jobs

TRANSIENT = (OperationalError, InterfaceError, ConnectionError)
RELIABLE: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 5,
}


@shared_task(**RELIABLE)
def preview_job(job_id: int) -> None:
    jobs.job_run_preview(job_id=job_id)


@shared_task(**RELIABLE)
def apply_job(job_id: int, by_id: int | None, ip: str | None, params: dict[str, Any] | None = None) -> None:
    jobs.job_run_apply(job_id=job_id, by_id=by_id, ip=ip, params=params)


@shared_task(**RELIABLE)
def run_job(job_id: int) -> None:
    jobs.job_run(job_id=job_id)


@shared_task(**RELIABLE)
def resume_job(job_id: int) -> None:
    jobs.job_resume(job_id=job_id)


@shared_task(**RELIABLE)
def reap_jobs() -> dict[str, int]:
    return jobs.job_reap()
