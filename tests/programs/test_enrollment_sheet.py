"""The enrolment sheet (受益记录批量导入) through the real import pipeline: read, preview, commit, again."""

import shutil
import tempfile
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook

from accounts.models import Role
from accounts.services import user_create
from beneficiaries.services import household_register, person_register
from imports import pipeline
from imports.models import ImportJob, ImportRow, ImportStatus
from imports.services import UploadRefused, import_commit, import_create
from imports.views import build_error_workbook
from programs.eligibility import Condition
from programs.enrollment_cells import SheetReader, cell_amount, cell_date, cell_year
from programs.enrollment_sheet import Registry, not_eligible
from programs.enrollments import check_application, enrollment_apply, facts_for, policy_for
from programs.models import BenefitType, Enrollment, EnrollmentStatus, Facility
from tests.beneficiaries.factories import household_data, location, person_data
from tests.cast import NINGDU, PASSWORD, RUIJIN, CastTestCase
from tests.imports.rosters import upload

MEDIA = tempfile.mkdtemp(prefix="enrolment-sheet-test-")
HEADER = [
    "序号",
    "姓名",
    "身份证号",
    "项目",
    "年度",
    "开始日期",
    "结束日期",
    "金额（元）",
    "机构名称",
    "备注",
]


def tearDownModule():
    shutil.rmtree(MEDIA, ignore_errors=True)


def sheet(rows: list[dict], *, header: list[str] = HEADER) -> bytes:
    book = Workbook()
    page = book.active
    page.append(["瑞金市受益记录批量导入表"])
    page.append(["填报单位：瑞金市残联"])
    page.append(header)
    for number, row in enumerate(rows, 1):
        page.append([row.get(column, number if column == "序号" else "") for column in header])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def row(person=None, benefit="困难残疾人生活补贴", year=2018, amount="", **cells) -> dict:
    values = {"项目": benefit, "年度": year, "金额（元）": amount}
    if person is not None:
        values.update(姓名=person.name, 身份证号=person.id_number)
    return {**values, **cells}


@override_settings(MEDIA_ROOT=MEDIA)
class SheetCase(CastTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        clerk = cls.cast["ruijin_clerk"]
        cls.household = household_register(actor=clerk, data=household_data(RUIJIN, is_dibao=True, size=3))
        # Level 2 physical, born 1975, in a 低保 household: meets the living and nursing rules.
        cls.severe = person_register(
            actor=clerk,
            data=person_data(RUIJIN, household=cls.household.pk, relation_to_head="head", name="钟秀英"),
        )
        # Level 3: the nursing subsidy's rule fails (level 1 or 2 needed).
        cls.level3 = person_register(
            actor=clerk,
            data=person_data(
                RUIJIN,
                sequence=9,
                level=3,
                household=cls.household.pk,
                relation_to_head="spouse",
                name="钟长生",
            ),
        )
        cls.ningdu = person_register(actor=cls.cast["ningdu_clerk"], data=person_data(NINGDU, name="黄秀"))
        cls.workshop = Facility.objects.create(name="瑞金市阳光工场", kind="sheltered", **location(RUIJIN))
        # Already recorded: the nursing subsidy of 2018 for the severe person, with no amount.
        application = check_application(
            actor=clerk, data={"benefit_type": "M03-NURSING", "year": 2018}, person=cls.severe
        )
        cls.nursing = enrollment_apply(actor=clerk, application=application)

    def setUp(self):
        self.clerk = self.cast["ruijin_clerk"]
        patcher = pytest.MonkeyPatch()
        patcher.setattr("imports.tasks.read_import.delay", lambda job_id: None)
        patcher.setattr("imports.tasks.commit_import.delay", lambda job_id, actor: None)
        self.addCleanup(patcher.undo)

    def read(self, content: bytes, kind: str = "enrollments") -> ImportJob:
        with self.captureOnCommitCallbacks(execute=True):
            job = import_create(actor=self.clerk, kind=kind, upload=upload(content, "受益记录.xlsx"))
        pipeline.read(job.pk)
        return ImportJob.objects.get(pk=job.pk)

    def commit(self, job: ImportJob) -> ImportJob:
        import_commit(actor=self.clerk, job=job, all_or_nothing=False)
        pipeline.commit(job.pk, self.clerk.pk)
        return ImportJob.objects.get(pk=job.pk)

    def errors(self, job: ImportJob) -> dict[int, dict[str, str]]:
        return {r.row_number: r.errors for r in ImportRow.objects.filter(job=job, outcome="rejected")}

    def mixed_rows(self) -> list[dict]:
        """Data rows 4-14: three good, eight bad, one of each kind of mistake."""
        unregistered = person_data(RUIJIN, sequence=31)["id_number"]
        return [
            row(self.severe, 开始日期=date(2018, 3, 1), amount="110.50"),  # 4: good, by the Chinese name
            row(self.level3, "重度残疾人护理补贴"),  # 5: the rule fails (level 3)
            row(self.severe, "M03-NURSING", amount=200),  # 6: already recorded otherwise
            row(self.severe, 开始日期="2018/3/1", amount=110.5),  # 7: the same as row 4
            row(self.ningdu),  # 8: registered in 宁都县
            row(self.severe, "扶贫鸡苗"),  # 9: no such benefit type
            row(self.level3, "m11-barrier-free", 开始日期="2018-13-01"),  # 10: no such date
            row(self.level3, "残疾人电子商务培训", amount=12.345),  # 11: three decimals
            {"姓名": "刘新", "身份证号": unregistered, "项目": "困难残疾人生活补贴", "年度": 2018},  # 12
            row(self.level3, "m11-barrier-free"),  # 13: good, the household's, by the code in lowercase
            row(None, "示范性残疾人辅助性就业机构", 机构名称="瑞金市阳光工场", amount=50000),  # 14: good
        ]


class ReadTest(SheetCase):
    def test_every_row_is_checked_as_one_application(self):
        job = self.read(sheet(self.mixed_rows()))
        self.assertEqual(job.status, ImportStatus.REVIEW, job.message)
        self.assertEqual(job.counts, {"new": 3, "rejected": 8})
        outcomes = dict(ImportRow.objects.filter(job=job).values_list("row_number", "outcome"))
        self.assertEqual([n for n, o in sorted(outcomes.items()) if o == "new"], [4, 13, 14])
        errors = self.errors(job)
        self.assertEqual(
            {n: set(e) for n, e in errors.items()},
            {
                5: {"benefit_type"},
                6: {"benefit_type"},
                7: {"benefit_type"},
                8: {"id_number"},
                9: {"benefit_type"},
                10: {"start_date"},
                11: {"amount"},
                12: {"id_number"},
            },
        )
        nursing = BenefitType.objects.get(code="M03-NURSING")
        severe = Condition("severe", _("Disability level 1 or 2 (severe), needing long-term care."))
        self.assertEqual(errors[5]["benefit_type"], not_eligible(nursing, [severe]))
        self.assertIn("批量导入不作例外处理", errors[5]["benefit_type"])  # and says a supervisor decides
        self.assertIn("2018", errors[6]["benefit_type"])
        self.assertIn("4", errors[7]["benefit_type"])
        self.assertIn("宁都县", errors[8]["id_number"])
        self.assertIn("扶贫鸡苗", errors[9]["benefit_type"])
        self.assertIn("身份证号", errors[12]["id_number"])
        self.assertEqual(set(job.column_errors), {"项目", "身份证号", "开始日期", "金额（元）"})

    def test_the_staged_values_are_what_would_be_recorded(self):
        job = self.read(sheet(self.mixed_rows()))
        values = ImportRow.objects.get(job=job, row_number=4).values
        self.assertEqual(
            {k: values[k] for k in ("benefit_type", "year", "start_date", "end_date", "amount")},
            {"benefit_type": "M03-LIVING", "year": 2018, "start_date": "2018-03-01", "end_date": None,
             "amount": "110.50"},
        )  # fmt: skip
        self.assertEqual(
            ImportRow.objects.get(job=job, row_number=14).values["facility_id"], self.workshop.pk
        )

    def test_the_preview_shows_the_counts_of_this_kind(self):
        job = self.read(sheet(self.mixed_rows()))
        self.client.force_login(self.clerk)
        page = self.client.get(f"/imports/{job.pk}/")
        self.assertEqual(page.status_code, 200)
        self.assertEqual(
            [(str(label), count) for label, count, _style in page.context["stats"]],
            [(_("New records"), 3), (_("Already recorded"), 0), (_("Rejected rows"), 8)],
        )
        self.assertContains(page, "受益记录")
        self.assertContains(page, "扶贫鸡苗")

    def test_a_household_benefit_needs_a_household_and_the_institution_types_a_facility(self):
        alone = person_register(actor=self.clerk, data=person_data(RUIJIN, sequence=41, name="钟一"))
        rows = [
            row(alone, "贫困残疾人家庭危房改造"),
            row(None, "M07-INSTITUTION"),
            row(self.severe, "M07-INSTITUTION", 机构名称="瑞金市阳光工场"),
            row(self.severe, 机构名称="不存在的工场"),
        ]
        errors = self.errors(self.read(sheet(rows)))
        self.assertEqual(
            {n: set(e) for n, e in errors.items()},
            {4: {"id_number"}, 5: {"facility"}, 6: {"id_number"}, 7: {"facility"}},
        )

    def test_a_name_that_does_not_match_the_id_number_is_refused(self):
        errors = self.errors(
            self.read(sheet([row(self.severe, 姓名="钟秀"), row(self.severe, 姓名=" 钟 秀英 ")]))
        )
        self.assertEqual(set(errors), {4})
        self.assertIn("钟秀英", errors[4]["name"])

    def test_the_once_per_household_benefit_is_once_in_the_file_too(self):
        rows = [row(self.severe, "M11-BARRIER-FREE"), row(self.level3, "M11-BARRIER-FREE", year=2019)]
        job = self.read(sheet(rows))
        self.assertEqual(job.counts, {"new": 1, "rejected": 1})
        self.assertIn("4", self.errors(job)[5]["benefit_type"])

    def test_a_sheet_without_the_required_columns_is_refused_naming_them(self):
        job = self.read(sheet([row(self.severe)], header=["序号", "姓名", "身份证号", "金额"]))
        self.assertEqual(job.status, ImportStatus.REFUSED)
        self.assertIn("项目", job.message)
        self.assertIn("年度", job.message)

    def test_the_batch_facts_are_those_of_one_application(self):
        reader = SheetReader(RUIJIN)
        cells = [{"name": p.name, "id_number": p.id_number, "benefit_type": "M03-LIVING", "year": 2018}
                 for p in (self.severe, self.level3)]  # fmt: skip
        drafts = [reader.read(number, c) for number, c in enumerate(cells, 4)]
        self.assertEqual([d.errors for d in drafts], [{}, {}])
        registry = Registry(RUIJIN, drafts, policy_for(RUIJIN))
        for person in (self.severe, self.level3):
            with self.subTest(person=person.name):
                on = date(2018, 6, 1)
                self.assertEqual(registry.facts(person, 2018, on), facts_for(person, year=2018, on=on))


class CommitTest(SheetCase):
    def test_the_commit_records_exactly_the_good_rows_as_applications(self):
        job = self.commit(self.read(sheet(self.mixed_rows())))
        self.assertEqual(job.status, ImportStatus.COMMITTED, job.message)
        made = Enrollment.objects.filter(import_job=job).order_by("benefit_type_id")
        self.assertEqual(
            [(e.benefit_type_id, e.recipient_unit, e.person_id, e.household_id, e.facility_id) for e in made],
            [
                ("M03-LIVING", "person", self.severe.pk, self.household.pk, None),
                ("M07-INSTITUTION", "institution", None, None, self.workshop.pk),
                ("M11-BARRIER-FREE", "household", None, self.household.pk, None),
            ],
        )
        living = made[0]
        self.assertEqual((living.start_date, living.amount), (date(2018, 3, 1), Decimal("110.50")))
        self.assertTrue(
            all(e.status == EnrollmentStatus.APPLIED and e.applied_by == self.clerk for e in made)
        )
        self.assertEqual(made[1].county_code, self.workshop.county_code)
        self.assertEqual(Enrollment.objects.count(), 4)  # and the nursing record that was there
        for record in made:
            event = record.events.get()
            self.assertEqual(event.pgh_context.metadata["user"], self.clerk.pk)
            self.assertEqual(event.pgh_context.metadata["import_job"], job.pk)
        self.assertEqual(job.counts["written_created"], 3)

    def test_uploading_the_same_file_again_changes_nothing(self):
        content = sheet(self.mixed_rows())
        self.commit(self.read(content))
        before = list(Enrollment.objects.order_by("pk").values_list("pk", "version", "updated_at"))
        again = self.read(content)
        self.assertEqual(again.counts, {"unchanged": 3, "rejected": 8})
        unchanged = ImportRow.objects.get(job=again, row_number=4)
        self.assertEqual(unchanged.target_id, Enrollment.objects.get(benefit_type="M03-LIVING").pk)
        self.commit(again)
        self.assertEqual(
            list(Enrollment.objects.order_by("pk").values_list("pk", "version", "updated_at")), before
        )

    def test_a_row_recorded_otherwise_since_is_a_conflict_not_unchanged(self):
        self.commit(self.read(sheet([row(self.severe, amount="110.50")])))
        job = self.read(sheet([row(self.severe, amount="110.51")]))
        self.assertEqual(job.counts, {"rejected": 1})

    def test_a_benefit_recorded_by_someone_else_after_the_check_is_left_out(self):
        job = self.read(sheet(self.mixed_rows()))
        application = check_application(
            actor=self.cast["ruijin_supervisor"],
            data={"benefit_type": "M03-LIVING", "year": 2018},
            person=self.severe,
        )
        meanwhile = enrollment_apply(actor=self.cast["ruijin_supervisor"], application=application)
        job = self.commit(job)
        self.assertEqual(job.status, ImportStatus.COMMITTED)
        self.assertEqual((job.counts["written_created"], job.counts["written_stale"]), (2, 1))
        self.assertIn("1", job.message)
        self.assertEqual(
            set(Enrollment.objects.filter(import_job=job).values_list("benefit_type_id", flat=True)),
            {"M07-INSTITUTION", "M11-BARRIER-FREE"},
        )
        self.assertEqual(Enrollment.objects.filter(benefit_type="M03-LIVING").get(), meanwhile)
        left_out = ImportRow.objects.get(job=job, row_number=4)
        self.assertIn("2018", left_out.note)
        self.client.force_login(self.clerk)
        self.assertContains(self.client.get(f"/imports/{job.pk}/"), left_out.note)

    def test_a_commit_that_fails_midway_leaves_nothing_and_runs_again(self):
        job = self.read(sheet(self.mixed_rows()))
        import_commit(actor=self.clerk, job=job, all_or_nothing=False)

        def worker_lost(*args, **kwargs):
            raise SystemExit("worker lost")

        patcher = pytest.MonkeyPatch()
        patcher.setattr(Enrollment.objects, "bulk_create", worker_lost)
        with self.assertRaises(SystemExit):
            pipeline.commit(job.pk, self.clerk.pk)
        patcher.undo()
        self.assertFalse(Enrollment.objects.filter(import_job=job).exists())
        self.assertEqual(ImportJob.objects.get(pk=job.pk).status, ImportStatus.COMMITTING)
        pipeline.commit(job.pk, self.clerk.pk)
        pipeline.commit(job.pk, self.clerk.pk)
        self.assertEqual(Enrollment.objects.filter(import_job=job).count(), 3)

    def test_the_error_workbook_marks_each_bad_cell(self):
        job = self.read(sheet(self.mixed_rows()))
        book = load_workbook(BytesIO(build_error_workbook(job)))
        rows = list(book.worksheets[0].iter_rows(values_only=False))
        self.assertEqual([c.value for c in rows[0]], ["原行号", *HEADER])
        self.assertEqual([r[0].value for r in rows[1:]], [5, 6, 7, 8, 9, 10, 11, 12])
        id_cell = rows[4][HEADER.index("身份证号") + 1]
        self.assertEqual((id_cell.value, id_cell.number_format), (self.ningdu.id_number, "@"))
        self.assertIn("宁都县", id_cell.comment.text)
        amount = rows[7][HEADER.index("金额（元）") + 1]
        self.assertEqual(amount.fill.fgColor.rgb, "00FFC7CE")
        self.assertIsNone(rows[7][HEADER.index("姓名") + 1].comment)


class CellTest(SheetCase):
    def test_amounts_keep_two_decimals_at_most(self):
        self.assertEqual(cell_amount(12.34), Decimal("12.34"))
        self.assertEqual(cell_amount("1,200.5元"), Decimal("1200.50"))
        self.assertEqual(cell_amount("999999.99"), Decimal("999999.99"))
        self.assertEqual(cell_amount(0), Decimal("0.00"))
        self.assertIsNone(cell_amount(""))
        for bad in (12.345, "1000000", -0.01, "十元", True, "NaN"):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                cell_amount(bad)

    def test_dates_as_clerks_write_them(self):
        for good in (date(2018, 3, 1), datetime(2018, 3, 1), "2018-03-01", "2018/3/1", "2018.3.1",
                     "2018年3月1日", "20180301", 20180301.0, 43160.0):  # fmt: skip
            with self.subTest(good=good):
                self.assertEqual(cell_date(good), date(2018, 3, 1))
        for bad in ("2018-13-01", "2018-02-30", "三月", 43160.5, 1.0):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                cell_date(bad)

    def test_years_inside_the_years_records_have(self):
        self.assertEqual(cell_year(2018.0), 2018)
        self.assertEqual(cell_year("2018年"), 2018)
        rows = [row(self.severe, year=2015), row(self.severe, year=2014), row(self.severe, year=2031)]
        job = self.read(sheet(rows))
        self.assertEqual(job.counts, {"new": 1, "rejected": 2})
        self.assertEqual(set(self.errors(job)), {5, 6})

    def test_dates_inside_the_row_year_and_in_order(self):
        rows = [
            row(self.severe, year=2018, 开始日期="2018-01-01", 结束日期="2018-12-31"),
            row(self.severe, year=2019, 开始日期="2018-12-31"),
            row(self.severe, year=2020, 结束日期="2021-01-01"),
            row(self.severe, year=2021, 开始日期="2021-05-01", 结束日期="2021-04-30"),
        ]
        errors = self.errors(self.read(sheet(rows)))
        self.assertEqual(
            {n: set(e) for n, e in errors.items()}, {5: {"start_date"}, 6: {"end_date"}, 7: {"end_date"}}
        )


class ScaleTest(SheetCase):
    def test_the_queries_do_not_grow_with_the_rows(self):
        people = [
            person_register(
                actor=self.clerk,
                data=person_data(
                    RUIJIN, sequence=101 + 2 * n, household=self.household.pk, relation_to_head="child"
                ),
            )
            for n in range(30)
        ]
        types = [
            "M03-LIVING",
            "M04-PENSION",
            "M05-LITERACY",
            "M10-LIBRARY",
            "M09-RURAL-TRAINING",
            "M10-ECOMMERCE",
        ]

        def queries(count: int) -> int:
            # Each (person, type, year) once: 30 people x 6 types x 16 years.
            rows = [row(people[n % 30], types[n // 30 % 6], year=2015 + n // 180 % 16) for n in range(count)]
            with CaptureQueriesContext(connection) as captured:
                job = self.read(sheet(rows))
            self.assertEqual(job.counts.get("new"), count, job.column_errors)
            return len(captured)

        small, large = queries(200), queries(2800)  # one batch of rows, and two
        self.assertLess(large - small, 15)


class UploadPageTest(SheetCase):
    def test_the_page_offers_both_kinds_and_their_templates(self):
        self.client.force_login(self.clerk)
        page = self.client.get("/imports/")
        self.assertEqual([k.key for k in page.context["kinds"]], ["roster", "enrollments"])
        for key in ("roster", "enrollments"):
            self.assertContains(page, f'name="kind" value="{key}"')
            self.assertContains(page, f"/imports/template/{key}.xlsx")
        self.assertContains(self.client.get("/imports/?kind=enrollments"), 'value="enrollments" checked')

    def test_the_page_uploads_the_kind_chosen(self):
        self.client.force_login(self.clerk)
        response = self.client.post(
            "/imports/", {"kind": "enrollments", "file": upload(sheet([row(self.severe)]))}
        )
        job = ImportJob.objects.get()
        self.assertRedirects(response, f"/imports/{job.pk}/", fetch_redirect_response=False)
        self.assertEqual(job.kind, "enrollments")
        response = self.client.post("/imports/", {"kind": "payroll", "file": upload(sheet([]))})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "payroll")
        self.assertEqual(ImportJob.objects.count(), 1)

    def test_the_template_has_the_lists_text_ids_and_instructions(self):
        self.client.force_login(self.clerk)
        response = self.client.get("/imports/template/enrollments.xlsx")
        self.assertEqual(response.status_code, 200)
        book = load_workbook(BytesIO(response.content))
        main, instructions, options = book.worksheets
        self.assertEqual([c.value for c in main[3]], HEADER)
        self.assertEqual(main["C4"].number_format, "@")
        self.assertEqual(options.sheet_state, "hidden")
        names = [c.value for c in options["A"][1:]]
        self.assertIn("困难残疾人生活补贴", names)
        self.assertEqual([c.value for c in options["B"][1:] if c.value], ["瑞金市阳光工场"])
        ranges = {str(v.sqref).split(":")[0][0]: v for v in main.data_validations.dataValidation}
        self.assertEqual(set(ranges), {"D", "E", "H", "I"})
        self.assertIn("2018", ranges["E"].formula1)
        self.assertIn("M03-LIVING", [c.value for c in instructions["B"]])
        # The template, filled in, goes through the upload as it is.
        main["B4"], main["C4"], main["D4"], main["E4"] = (
            self.severe.name,
            self.severe.id_number,
            names[1],
            2018,
        )
        filled = BytesIO()
        book.save(filled)
        job = self.read(filled.getvalue())
        self.assertEqual(job.counts, {"new": 1}, job.column_errors)

    def test_each_kind_asks_its_own_permission(self):
        from django.contrib.auth.models import Permission

        user = user_create(username="uploader", password=PASSWORD, role=Role.COUNTY_CLERK, area_code=RUIJIN,
                           check_password=False)  # fmt: skip
        user.groups.clear()
        for name in ("view_importjob", "add_importjob"):
            user.user_permissions.add(Permission.objects.get(codename=name))
        self.client.force_login(user)
        self.assertEqual(self.client.get("/imports/template/enrollments.xlsx").status_code, 403)
        content = sheet([row(self.severe)])
        self.assertEqual(
            self.client.post("/imports/", {"kind": "enrollments", "file": upload(content)}).status_code, 403
        )
        user.user_permissions.add(Permission.objects.get(codename="add_enrollment"))
        self.client.force_login(user)  # permissions are cached per user object
        self.assertEqual(self.client.get("/imports/template/enrollments.xlsx").status_code, 200)
        self.assertEqual(self.client.get("/imports/template/roster.xlsx").status_code, 403)
        self.assertEqual([k.key for k in self.client.get("/imports/").context["kinds"]], ["enrollments"])
        with self.assertRaises(UploadRefused):
            import_create(actor=user, kind="roster", upload=upload(content))


class ApiTest(SheetCase):
    def test_the_api_takes_the_kind_and_refuses_an_unknown_one(self):
        self.client.force_login(self.clerk)
        response = self.client.post(
            "/api/v1/imports/", {"file": upload(sheet([row(self.severe)])), "kind": "enrollments"}
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["kind"], "enrollments")
        response = self.client.post("/api/v1/imports/", {"file": upload(sheet([])), "kind": "payroll"})
        self.assertEqual(response.status_code, 400)
        self.assertIn("payroll", response.json()["kind"][0])
        self.assertIn("enrollments", response.json()["kind"][0])
        response = self.client.post("/api/v1/imports/", {"file": upload(sheet([]))})
        self.assertEqual((response.status_code, response.json()["kind"]), (201, "roster"))
        self.assertEqual(ImportJob.objects.count(), 2)
