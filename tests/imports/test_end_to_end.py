"""An upload through the page, read and committed by a real Celery worker."""

import time
from pathlib import Path

import pytest

from accounts.models import Role
from accounts.services import user_create
from beneficiaries.models import Person
from imports.models import ImportJob, ImportStatus

from .rosters import person_row, upload, workbook

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_for(job_id: int, status: str, timeout: float = 60) -> ImportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = ImportJob.objects.get(pk=job_id)
        if job.status == status:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} is {job.status}, not {status}, after {timeout} s: {job.message}")


@pytest.fixture
def clerk_client(client, area_tree):
    clerk = user_create(
        username="ruijin", password="x", role=Role.COUNTY_CLERK, area_code="360781", check_password=False
    )
    client.force_login(clerk)
    yield client
    for job in ImportJob.objects.all():
        Path(job.file.path).unlink(missing_ok=True)


def test_upload_check_and_commit_through_the_worker(clerk_client, celery_worker_process):
    rows = [person_row(n) for n in range(40)]
    rows[5]["残疾类别"] = "不详"
    response = clerk_client.post("/imports/", {"file": upload(workbook(rows))})
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/imports/{job.pk}/"

    job = wait_for(job.pk, ImportStatus.REVIEW)
    assert job.counts == {"new": 39, "rejected": 1}
    progress = clerk_client.get(f"/imports/{job.pk}/progress/")
    assert progress["HX-Refresh"] == "true"
    page = clerk_client.get(f"/imports/{job.pk}/").content.decode()
    assert "保存 39 行" in page
    assert "残疾类别" in page

    clerk_client.post(f"/imports/{job.pk}/commit/", {})
    job = wait_for(job.pk, ImportStatus.COMMITTED)
    assert Person.objects.filter(county_code="360781").count() == 39
    assert "新增39人" in job.message


def test_the_api_path(clerk_client, celery_worker_process):
    response = clerk_client.post(
        "/api/v1/imports/", {"file": upload(workbook([person_row(n) for n in range(3)])), "kind": "roster"}
    )
    assert response.status_code == 201, response.content
    job_id = response.json()["id"]
    wait_for(job_id, ImportStatus.REVIEW)
    detail = clerk_client.get(f"/api/v1/imports/{job_id}/").json()
    assert (detail["status"], detail["counts"], detail["progress"]) == ("review", {"new": 3}, 100)
    committed = clerk_client.post(
        f"/api/v1/imports/{job_id}/commit/", {"all_or_nothing": True}, content_type="application/json"
    )
    assert committed.status_code == 202
    wait_for(job_id, ImportStatus.COMMITTED)
    assert Person.objects.count() == 3
