"""A clerk uploads a roster with mistakes, watches it being checked, downloads the rows with errors,
saves the good rows, corrects the two bad ones in the downloaded workbook and uploads that to save them
too: in the browser, with a real Celery worker doing the work."""

import time
from datetime import date
from io import BytesIO
from pathlib import Path

import psycopg2
import pytest
from django.db import connection
from openpyxl import load_workbook

from accounts.models import Role
from accounts.services import user_create
from beneficiaries.models import Person
from beneficiaries.validation import make_id_number
from imports.models import ImportJob
from tests.imports.rosters import person_row, workbook

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clerk(area_tree):
    user = user_create(
        username="ruijin",
        password="demo-pass-2018",
        role=Role.COUNTY_CLERK,
        area_code="360781",
        check_password=False,
    )
    yield user
    for job in ImportJob.objects.all():
        Path(job.file.path).unlink(missing_ok=True)


def test_upload_check_download_errors_and_save(
    page, live_server, clerk, celery_worker_process, screenshot, tmp_path
):
    rows = [person_row(n) if n < 60 else many(n) for n in range(6000)]
    rows[4]["残疾等级"] = "五级"
    rows[9]["乡镇"] = "不存在镇"
    roster = tmp_path / "象湖镇花名册.xlsx"
    roster.write_bytes(workbook(rows))

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill("ruijin")
    page.get_by_label("密码").fill("demo-pass-2018")
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="Excel导入").click()
    page.get_by_label("花名册", exact=False).first.check()
    page.get_by_label("文件（.xlsx）").set_input_files(str(roster))
    # The staged rows are written in batches, each with the progress it makes. Once the first batch is
    # in, a lock taken from here holds the next one, so that the page is seen mid-way, then let go.
    with held_after_first_batch():
        page.get_by_role("button", name="上传并校验").click()
        bar = page.get_by_role("progressbar")
        page.wait_for_function(
            "() => { const b = document.querySelector('#progress progress');"
            " return b && +b.getAttribute('value') > 0; }",
            timeout=60_000,
        )
        percent = int(bar.get_attribute("value"))
        assert 0 < percent < 100
        assert f"（{percent}%）" in page.content()  # "2000 of 6000 rows checked (33%)", in Chinese
        screenshot("upload-progress")

    # The page polls while the worker reads, then shows the result without a manual reload.
    page.get_by_role("button", name="保存 5998 行").wait_for(timeout=60_000)
    screenshot("upload-review")
    assert "五级" not in page.content()  # the messages name the column and the allowed values
    assert "残疾等级：请填写一级、二级、三级、四级之一。" in page.content()

    with page.expect_download() as download:
        page.get_by_role("link", name="下载错误行（.xlsx）").click()
    error_book = load_workbook(BytesIO(Path(download.value.path()).read_bytes()))
    errors = error_book.worksheets[0]
    assert [row[0] for row in errors.iter_rows(min_row=2, values_only=True)] == [8, 13]

    page.get_by_role("button", name="保存 5998 行").click()
    page.get_by_text("已保存：新增5998人，变更0人。").wait_for(timeout=60_000)
    screenshot("upload-saved")
    assert Person.objects.filter(county_code="360781").count() == 5998

    # The clerk corrects the red cells in the downloaded workbook and uploads it as it is.
    header = [cell.value for cell in errors[1]]
    errors.cell(2, header.index("残疾等级") + 1, "二级")
    errors.cell(3, header.index("乡镇") + 1, person_row(9)["乡镇"])
    fixed = tmp_path / "象湖镇花名册-已更正.xlsx"
    error_book.save(fixed)
    page.get_by_role("link", name="Excel导入", exact=True).click()
    page.get_by_label("花名册", exact=False).first.check()
    page.get_by_label("文件（.xlsx）").set_input_files(str(fixed))
    page.get_by_role("button", name="上传并校验").click()
    page.get_by_role("button", name="保存 2 行").wait_for(timeout=60_000)
    screenshot("upload-corrected")
    page.get_by_role("button", name="保存 2 行").click()
    page.get_by_text("已保存：新增2人，变更0人。").wait_for(timeout=60_000)
    assert Person.objects.filter(county_code="360781").count() == 6000


def many(n: int) -> dict:
    """Row n of a long roster: ID numbers distinct by birth year and sequence."""
    id_number = make_id_number("360781", date(1940 + n // 1000, 1 + n % 12, 1), n % 1000)
    return person_row(
        n % 60,
        序号=n + 1,
        姓名=f"刘{n:05d}",
        户主姓名=f"刘{n:05d}",
        性别="男" if n % 2 else "女",
        身份证号=id_number,
        残疾证号=f"{id_number}42",
    )


class held_after_first_batch:
    """Waits (in a thread of the test) until the read has staged its first rows, then locks the staging
    table from another connection until the block ends, so the next batch waits."""

    def __enter__(self):
        import threading

        self.stop = threading.Event()
        self.locked = threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)
        self.thread.start()
        return self

    def _hold(self):
        params = connection.get_connection_params()
        with psycopg2.connect(**params) as other:
            other.autocommit = True
            with other.cursor() as cursor:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and not self.stop.is_set():
                    cursor.execute("SELECT count(*) FROM imports_importrow")
                    if cursor.fetchone()[0] > 0:
                        break
                    time.sleep(0.02)
                cursor.execute("BEGIN; LOCK TABLE imports_importrow IN SHARE MODE")
                self.locked.set()
                self.stop.wait(60)
                cursor.execute("COMMIT")

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)
