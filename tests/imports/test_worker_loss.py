"""A worker process killed (SIGKILL) in the middle of an import commit: nothing of it is left in the
registry, the task is delivered again, and the rows land exactly once."""

import os
import signal
import time
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from django.db import connection
from openpyxl import Workbook

from accounts.models import Role
from accounts.services import user_create
from beneficiaries.models import Person
from beneficiaries.validation import make_id_number
from imports import pipeline
from imports.models import ImportJob, ImportStatus
from imports.tasks import commit_import
from tests.conftest import start_worker, stop_worker

from .rosters import HEADER, person_row, upload

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROWS = 15_000
QUEUE = "worker-loss"


def big_roster() -> bytes:
    template = dict(person_row(0), 性别="")  # the ID says which
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for n in range(ROWS):
        number = make_id_number("360781", date(1940 + n % 60, 1 + n % 12, 1 + n % 28), n % 1000)
        row = dict(
            template, 姓名=f"郭{n:05d}", 身份证号=number, 残疾证号=f"{number}42", 户主姓名=f"郭{n:05d}"
        )
        sheet.append([row[column] for column in HEADER])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def pool_child(parent: int) -> int:
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError(f"no {what} after {timeout} s")


def commit_in_progress() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'poverty-relief import'"
        )
        return cursor.fetchone()[0] > 0


def test_a_commit_killed_midway_lands_once_when_delivered_again(area_tree, tmp_path, monkeypatch):
    clerk = user_create(
        username="ruijin", password="x", role=Role.COUNTY_CLERK, area_code="360781", check_password=False
    )
    monkeypatch.setattr("imports.tasks.read_import.delay", lambda job_id: None)
    from imports.services import import_create

    job = import_create(actor=clerk, kind="roster", upload=upload(big_roster()))
    pipeline.read(job.pk)
    assert ImportJob.objects.get(pk=job.pk).counts == {"new": ROWS}

    # A prefork worker: its pool child runs the task, and the parent sees the child die.
    worker = start_worker(
        "loss-worker", tmp_path / "worker.log", "--pool=prefork", "--concurrency=1", "-Q", QUEUE
    )
    try:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.COMMITTING)
        commit_import.apply_async((job.pk, clerk.pk), queue=QUEUE)
        wait_until(commit_in_progress, 60, "commit in progress")
        os.kill(pool_child(worker.pid), signal.SIGKILL)
        wait_until(lambda: not commit_in_progress(), 30, "end of the killed transaction")
        assert ImportJob.objects.get(pk=job.pk).status in (ImportStatus.COMMITTING, ImportStatus.COMMITTED)
        # The parent rejects the lost task back to the queue; a new pool child runs it again.
        wait_until(lambda: ImportJob.objects.get(pk=job.pk).status == ImportStatus.COMMITTED, 120, "commit")
    finally:
        stop_worker(worker)
        Path(ImportJob.objects.get(pk=job.pk).file.path).unlink(missing_ok=True)
    assert Person.objects.count() == ROWS
    assert Person.objects.values("id_number").distinct().count() == ROWS
    log = (tmp_path / "worker.log").read_text()
    assert "WorkerLostError" in log or "SIGKILL" in log, log[-2000:]
