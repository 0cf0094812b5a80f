"""An export started from the registry list's button, written by a real Celery worker, followed on its
page, downloaded, and later expired by the beat task run on the same worker."""

import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import Role
from accounts.services import user_create
from areas.models import Area
from beneficiaries.models import LifeStatus, Person, RegistryExport
from beneficiaries.roster_columns import ROSTER_COLUMNS
from exports.models import EXPORT_DIR, ExportJob, ExportStatus
from exports.tasks import expire_exports
from tests.cast import NINGDU, RUIJIN

from .helpers import FORMULA_HEAD, FORMULA_NAME, content_of, formula_person, generate, sheet_of

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PEOPLE = 2_500  # more than one progress step (2,000 rows)


def wait_for(job_id: int, status: str, timeout: float = 120) -> ExportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = ExportJob.objects.get(pk=job_id)
        if job.status == status:
            return job
        time.sleep(0.2)
    raise AssertionError(f"export {job_id} is {job.status}, not {status}, after {timeout} s: {job.message}")


@pytest.fixture
def clerk(area_tree):
    """瑞金市's clerk. The worker is a process of its own and writes under the MEDIA_ROOT of the
    environment, as this process does: the files are removed afterwards."""
    yield user_create(
        username="ruijin", password="x", role=Role.COUNTY_CLERK, area_code=RUIJIN, check_password=False
    )
    for key in ExportJob.objects.values_list("key", flat=True):
        for path in (Path(settings.MEDIA_ROOT) / EXPORT_DIR).glob(f"{key}-*"):
            path.unlink()


def test_a_county_roster_through_the_worker(client, clerk, celery_worker_process):
    media = Path(settings.MEDIA_ROOT) / EXPORT_DIR
    generate(RUIJIN, PEOPLE)
    generate(NINGDU, 40, seed=12)
    special = formula_person(clerk, RUIJIN)
    expected = Person.objects.filter(county_code=RUIJIN, life_status=LifeStatus.ACTIVE)
    client.force_login(clerk)

    response = client.post("/exports/", {"kind": "registry"})
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/exports/{job.pk}/"
    assert (job.area_code, job.parameters["whole_numbers"]) == (RUIJIN, True)

    job = wait_for(job.pk, ExportStatus.DONE)
    assert job.rows_total == job.rows_done == expected.count() == PEOPLE + 1
    assert job.percent == 100
    progress = client.get(f"/exports/{job.pk}/progress/")
    assert progress["HX-Refresh"] == "true"
    fragment = progress.content.decode()
    assert 'aria-valuenow="100"' in fragment and "hx-get" not in fragment  # finished: no more polling
    assert fragment.count(str(job.rows_done)) == 2  # "2501 of 2501 rows written"
    page = client.get(f"/exports/{job.pk}/").content.decode()
    assert f'href="/exports/{job.pk}/download/"' in page
    # The page says until when the file is kept.
    assert timezone.localtime(job.finished_at + timedelta(days=7)).strftime("%Y-%m-%d %H:%M") in page

    download = client.get(f"/exports/{job.pk}/download/")
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    sheet = sheet_of(content_of(download))
    rows = list(sheet.iter_rows(min_row=4))
    assert len(rows) == PEOPLE + 1
    assert {row[5].value for row in rows} == set(expected.values_list("id_number", flat=True))
    assert not set(Person.objects.filter(county_code=NINGDU).values_list("id_number", flat=True)) & {
        row[5].value for row in rows
    }
    assert sheet["A1"].value == "瑞金市贫困残疾人花名册"
    header = [cell.value for cell in next(sheet.iter_rows(min_row=3, max_row=3))]
    assert header == [column.label for column in ROSTER_COLUMNS]  # the upload template's layout

    (row,) = [row for row in rows if row[3].value == FORMULA_NAME]
    village = Area.objects.get(code=special.village_code)
    assert [cell.value for cell in row[1:]] == [
        village.parent.name, village.name, FORMULA_NAME, "男", special.id_number, special.id_number + "42",
        "肢体", "二级", FORMULA_HEAD, "户主", 3, "未脱贫", None, "是", "13907970009", None,
    ]  # fmt: skip
    for cell in (row[3], row[9]):  # the name and the head's name start formulas: text, marked as typed text
        assert cell.data_type == "s"
        assert cell.quotePrefix is True
    assert row[5].number_format == "@"  # ID numbers are text, never 3.60781E+17
    assert not [cell.coordinate for line in rows for cell in line if cell.data_type == "f"]

    record = RegistryExport.objects.get()
    assert (record.exported_by, record.county_code, record.rows) == (clerk, RUIJIN, PEOPLE + 1)
    assert record.what == f"registry:export-{job.pk}"

    # A week later the beat task, run by the same worker, deletes the file.
    path = Path(job.file.path)
    assert path.is_file() and path.is_relative_to(media)
    ExportJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=7, minutes=1))
    assert expire_exports.delay().get(timeout=60) == 1
    job.refresh_from_db()
    assert (job.status, job.file.name) == (ExportStatus.EXPIRED, "")
    assert not path.exists()
    assert client.get(f"/exports/{job.pk}/download/").status_code == 404
    page = client.get(f"/exports/{job.pk}/").content.decode()
    assert "status-expired" in page and "download/" not in page
