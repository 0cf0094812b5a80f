"""Permission-matrix rows for the upload pages and API, and the jobs their URLs name:
{ruijin_job} (checked, ready for review) and {ningdu_job}, and {ruijin_done} (already saved), all rosters;
{ruijin_enrollments} (an enrolment sheet of 瑞金市, checked)."""

from io import BytesIO

from django.core.files.base import ContentFile
from openpyxl import Workbook

from beneficiaries.models import Person
from imports import pipeline
from imports.models import ImportJob, ImportStatus
from tests.permission_table import LOGIN, Case, everyone, scoped

from .rosters import person_row, workbook

RUIJIN = {"ruijin_clerk", "ruijin_supervisor", "ganzhou_reviewer", "province_officer"}
NINGDU = {"ningdu_clerk", "ganzhou_reviewer", "province_officer"}
WRITERS = {"ruijin_clerk", "ruijin_supervisor", "ningdu_clerk", "nanchang_clerk"}
ABOVE_COUNTY = {"ganzhou_reviewer": 403, "province_officer": 403}


def import_objects(cast) -> dict[str, int]:
    def job(clerk, county, *, status=None, kind="roster", content=None):
        content = content or workbook([person_row(0, county)])
        made = ImportJob(kind=kind, county_code=county, original_name="花名册.xlsx", uploaded_by=cast[clerk])
        made.file.save("花名册.xlsx", ContentFile(content), save=True)
        pipeline.read(made.pk)
        if status:
            ImportJob.objects.filter(pk=made.pk).update(status=status)
        return made.pk

    return {
        "ruijin_job": job("ruijin_clerk", "360781"),
        "ningdu_job": job("ningdu_clerk", "360730"),
        "ruijin_done": job("ruijin_clerk", "360781", status=ImportStatus.COMMITTED),
        "ruijin_enrollments": job("ruijin_clerk", "360781", kind="enrollments", content=enrollment_sheet()),
    }


def enrollment_sheet() -> bytes:
    """Two rows for 瑞金市's first person: one good, one with a year no record may have."""
    person = Person.objects.filter(county_code="360781").order_by("pk").first()
    book = Workbook()
    book.active.append(["姓名", "身份证号", "项目", "年度"])
    book.active.append([person.name, person.id_number, "M04-PENSION", 2018])
    book.active.append([person.name, person.id_number, "M04-PENSION", 1999])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def readers(owners, anonymous=LOGIN):
    expect = scoped(owners, anonymous)
    expect["sysadmin"] = 403
    return expect


def writers(owners, ok):
    expect = {role: 403 for role in ("ganzhou_reviewer", "province_officer", "sysadmin", "unassigned")}
    expect.update({role: (ok if role in owners else 404) for role in WRITERS})
    expect[None] = LOGIN
    return expect


LIST = {**everyone(200, anonymous=LOGIN), "sysadmin": 403, "unassigned": 403}
COUNTY_ONLY = {**LIST, "ganzhou_reviewer": 403, "province_officer": 403}

IMPORT_PAGES: dict[str, list[Case]] = {
    "imports/": [
        Case("/imports/", LIST),
        # No file: the page says so (200); roles that may not upload are refused.
        Case("/imports/", COUNTY_ONLY, "post"),
    ],
    "imports/template/<slug:kind>.xlsx": [
        Case("/imports/template/roster.xlsx", COUNTY_ONLY),
        Case("/imports/template/enrollments.xlsx", COUNTY_ONLY),
        Case("/imports/template/payroll.xlsx", {**COUNTY_ONLY, **{r: 404 for r in WRITERS}}),
    ],
    "imports/<int:pk>/": [
        Case("/imports/{ruijin_job}/", readers(RUIJIN)),
        Case("/imports/{ningdu_job}/", readers(NINGDU)),
        Case("/imports/{ruijin_enrollments}/", readers(RUIJIN)),
    ],
    "imports/<int:pk>/progress/": [Case("/imports/{ruijin_job}/progress/", readers(RUIJIN))],
    # An upload already saved: the commit and discard are refused with a message (302 back to the page).
    "imports/<int:pk>/commit/": [
        Case("/imports/{ruijin_done}/commit/", writers({"ruijin_clerk", "ruijin_supervisor"}, 302), "post"),
        Case("/imports/{ruijin_done}/commit/", {**writers(WRITERS, 405), None: LOGIN}),
    ],
    "imports/<int:pk>/discard/": [
        Case("/imports/{ruijin_done}/discard/", writers({"ruijin_clerk", "ruijin_supervisor"}, 302), "post"),
    ],
    # The rows as uploaded carry whole ID numbers: the county's own staff only.
    "imports/<int:pk>/errors.xlsx": [
        Case("/imports/{ruijin_job}/errors.xlsx", {**readers(RUIJIN), **ABOVE_COUNTY}),
        Case("/imports/{ningdu_job}/errors.xlsx", {**readers(NINGDU), **ABOVE_COUNTY}),
        Case("/imports/{ruijin_enrollments}/errors.xlsx", {**readers(RUIJIN), **ABOVE_COUNTY}),
    ],
}

API_WRITERS = {**everyone(403, anonymous=401), **{r: 415 for r in WRITERS}}  # JSON where a file is expected

IMPORT_API: dict[str, list[Case]] = {
    "api/v1/imports/": [Case("/api/v1/imports/", API_WRITERS, "post")],
    "api/v1/imports/<int:pk>/": [
        Case("/api/v1/imports/{ruijin_job}/", readers(RUIJIN, anonymous=401)),
        Case("/api/v1/imports/{ningdu_job}/", readers(NINGDU, anonymous=401)),
        Case("/api/v1/imports/{ruijin_enrollments}/", readers(RUIJIN, anonymous=401)),
    ],
    "api/v1/imports/<int:pk>/commit/": [
        Case(
            "/api/v1/imports/{ruijin_done}/commit/",
            {**writers({"ruijin_clerk", "ruijin_supervisor"}, 400), None: 401},
            "post",
        ),
    ],
    "api/v1/imports/<int:pk>/errors.xlsx": [
        Case("/api/v1/imports/{ruijin_job}/errors.xlsx", {**readers(RUIJIN, anonymous=401), **ABOVE_COUNTY}),
    ],
}
