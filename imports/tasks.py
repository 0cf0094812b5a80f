from celery import shared_task

from . import pipeline
from .services import import_files_purge


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def read_import(job_id: int) -> None:
    pipeline.read(job_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def commit_import(job_id: int, actor_id: int) -> None:
    pipeline.commit(job_id, actor_id)


@shared_task(ignore_result=True)
def purge_import_files() -> None:
    import_files_purge()
