"""Celery tasks: thin, ids in, the services do the work (and make a second run harmless)."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def preview_import_job(job_id: int) -> None:
    services.import_job_run_preview(job_id=job_id)


@shared_task(acks_late=True)
def apply_import_job(job_id: int, by_id: int | None, ip: str | None, deactivate_unit_ids: list[int]) -> None:
    services.import_job_run_apply(job_id=job_id, by_id=by_id, ip=ip, deactivate_unit_ids=deactivate_unit_ids)
