from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def build_export(job_id: int) -> None:
    services.export_run(job_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def expire_exports() -> int:
    """Beat, hourly: files older than EXPORT_KEEP are deleted."""
    return services.export_expire()
