"""A clerk uploads a roster with mistakes, watches it being checked, downloads the rows with errors,
and saves the good rows: in the browser, with a real Celery worker doing the work."""

from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook

from accounts.models import Role
from accounts.services import user_create
from beneficiaries.models import Person
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
    rows = [person_row(n) for n in range(60)]
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
    page.get_by_role("button", name="上传并校验").click()

    # The page polls while the worker reads, then shows the result without a manual reload.
    page.get_by_role("button", name="保存 58 行").wait_for(timeout=60_000)
    screenshot("upload-review")
    assert "五级" not in page.content()  # the messages name the column and the allowed values
    assert "残疾等级：请填写一级、二级、三级、四级之一。" in page.content()

    with page.expect_download() as download:
        page.get_by_role("link", name="下载错误行（.xlsx）").click()
    errors = load_workbook(BytesIO(Path(download.value.path()).read_bytes())).worksheets[0]
    assert [row[0] for row in errors.iter_rows(min_row=2, values_only=True)] == [8, 13]

    page.get_by_role("button", name="保存 58 行").click()
    page.get_by_text("已保存：新增58人，变更0人。").wait_for(timeout=60_000)
    screenshot("upload-saved")
    assert Person.objects.filter(county_code="360781").count() == 58
