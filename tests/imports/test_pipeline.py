import shutil
import tempfile
from io import BytesIO

import pytest
from django.test import override_settings
from openpyxl import load_workbook

from beneficiaries.models import Household, Person
from beneficiaries.services import person_register
from imports import pipeline
from imports.models import ImportJob, ImportRow, ImportStatus
from imports.services import UploadRefused, import_commit, import_create
from imports.views import build_error_workbook
from tests.beneficiaries.factories import person_data
from tests.cast import CastTestCase

from .rosters import HEADER, person_row, upload, workbook

MEDIA = tempfile.mkdtemp(prefix="imports-test-")


def tearDownModule():
    shutil.rmtree(MEDIA, ignore_errors=True)


@override_settings(MEDIA_ROOT=MEDIA)
class PipelineCase(CastTestCase):
    """The tasks' work, run in this process on workbooks built in memory (the worker runs the same code)."""

    def setUp(self):
        self.clerk = self.cast["ruijin_clerk"]
        # The queue is not what these tests are about: read and commit run here, synchronously.
        self.queued = []
        patcher = pytest.MonkeyPatch()
        patcher.setattr(
            "imports.tasks.read_import.delay", lambda job_id: self.queued.append(("read", job_id))
        )
        patcher.setattr(
            "imports.tasks.commit_import.delay", lambda job_id, actor: self.queued.append(("commit", job_id))
        )
        self.addCleanup(patcher.undo)

    def read(self, content: bytes) -> ImportJob:
        with self.captureOnCommitCallbacks(execute=True):
            job = import_create(actor=self.clerk, kind="roster", upload=upload(content))
        pipeline.read(job.pk)
        return ImportJob.objects.get(pk=job.pk)

    def commit(self, job: ImportJob, all_or_nothing: bool = False) -> ImportJob:
        import_commit(actor=self.clerk, job=job, all_or_nothing=all_or_nothing)
        pipeline.commit(job.pk, self.clerk.pk)
        return ImportJob.objects.get(pk=job.pk)

    def messy_roster(self) -> bytes:
        ningdu = person_register(actor=self.cast["ningdu_clerk"], data=person_data("360730", sequence=501))
        rows = [person_row(n) for n in range(6)]
        rows[1]["身份证号"] = (
            rows[1]["身份证号"].translate(str.maketrans("0123456789", "０１２３４５６７８９")) + "  "
        )
        rows[2]["身份证号"] = float(rows[2]["身份证号"][:17])  # a numeric cell: digits lost
        rows[3]["残疾等级"] = "五级"
        rows.append(dict(rows[0], 序号=7))  # the same person twice in the file
        other = person_row(7, 姓名="黄秀", 身份证号=ningdu.id_number, 残疾证号=ningdu.certificate_number)
        rows.append(other)
        shuffled = [HEADER[i] for i in (3, 5, 0, 1, 2, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)]
        shuffled[1] = " 身份证号码 "  # a synonym with spaces
        for row in rows:
            row[" 身份证号码 "] = row.pop("身份证号")
        return workbook(rows, header=shuffled, title_rows=2)


@override_settings(MEDIA_ROOT=MEDIA)
class PipelineTest(PipelineCase):
    def test_a_messy_roster_stages_the_good_rows_and_names_every_bad_cell(self):
        job = self.read(self.messy_roster())
        self.assertEqual(job.status, ImportStatus.REVIEW, job.message)
        self.assertEqual(job.header_row, 3)
        self.assertEqual(job.counts, {"new": 4, "rejected": 3, "transfer": 1})
        outcomes = dict(ImportRow.objects.filter(job=job).values_list("row_number", "outcome"))
        self.assertEqual(outcomes[5], "new")  # full-width digits and trailing spaces are read
        self.assertEqual(outcomes[6], "rejected")  # the numeric cell
        self.assertEqual(outcomes[11], "transfer")
        errors = {r.row_number: r.errors for r in ImportRow.objects.filter(job=job, outcome="rejected")}
        self.assertIn("数字", errors[6]["id_number"])
        self.assertIn("残疾等级", errors[7]["disability_level"])
        self.assertIn("第4行", errors[10]["id_number"])
        self.assertEqual(ImportRow.objects.get(job=job, row_number=11).note, "宁都县")
        self.assertEqual(set(job.column_errors), {"身份证号码", "残疾等级"})

    def test_commit_writes_the_good_rows_and_their_households_in_one_go(self):
        job = self.commit(self.read(self.messy_roster()))
        self.assertEqual(job.status, ImportStatus.COMMITTED)
        people = Person.objects.filter(county_code="360781")
        self.assertEqual(people.count(), 4)
        self.assertEqual(Household.objects.filter(county_code="360781").count(), 4)
        self.assertTrue(all(p.household and p.relation_to_head == "head" for p in people))
        self.assertFalse(Person.objects.filter(name="黄秀").exists())  # held by 宁都县: never written
        person = people.first()
        event = person.events.get()
        self.assertEqual(event.pgh_context.metadata["user"], self.clerk.pk)
        self.assertEqual(event.pgh_context.metadata["import_job"], job.pk)

    def test_uploading_the_same_file_again_changes_nothing(self):
        content = workbook([person_row(n) for n in range(5)])
        self.commit(self.read(content))
        before = list(Person.objects.order_by("pk").values_list("pk", "version"))
        again = self.read(content)
        self.assertEqual(again.counts, {"unchanged": 5})
        self.assertEqual(list(Person.objects.order_by("pk").values_list("pk", "version")), before)

    def test_the_registry_export_uploads_again_as_unchanged(self):
        self.commit(self.read(workbook([person_row(n) for n in range(6)])))
        self.client.force_login(self.clerk)
        exported = self.client.get("/registry/export.xlsx").content
        again = self.read(exported)
        self.assertEqual(again.counts, {"unchanged": 6}, again.column_errors)

    def test_a_changed_row_is_an_update_with_its_changes(self):
        self.commit(self.read(workbook([person_row(n) for n in range(3)])))
        rows = [person_row(n) for n in range(3)]
        rows[1]["联系电话"] = "13800000001"
        job = self.read(workbook(rows))
        self.assertEqual(job.counts, {"unchanged": 2, "update": 1})
        update = ImportRow.objects.get(job=job, outcome="update")
        self.assertEqual(update.changes, {"phone": ["13900000001", "13800000001"]})
        self.commit(job)
        person = Person.objects.get(pk=update.target_id)
        self.assertEqual((person.phone, person.version), ("13800000001", 2))

    def test_all_or_nothing_refuses_when_a_row_is_rejected(self):
        rows = [person_row(n) for n in range(3)]
        rows[2]["残疾类别"] = "未知"
        job = self.read(workbook(rows))
        with self.assertRaises(UploadRefused):
            import_commit(actor=self.clerk, job=job, all_or_nothing=True)
        self.assertEqual(ImportJob.objects.get(pk=job.pk).status, ImportStatus.REVIEW)
        self.assertFalse(Person.objects.exists())

    def test_a_commit_cut_short_leaves_the_registry_as_it_was_and_runs_again(self):
        job = self.read(workbook([person_row(n) for n in range(4)]))
        import_commit(actor=self.clerk, job=job, all_or_nothing=False)

        from beneficiaries import roster

        def worker_lost(cursor, *args):
            # What a killed worker looks like from inside the transaction: it stops once the households and
            # the people are written, before the transaction commits.
            write(cursor, *args)
            cursor.execute("SELECT count(*) FROM beneficiaries_person")
            self.assertEqual(cursor.fetchone()[0], 4)
            raise SystemExit("worker lost")

        write = roster._write
        patcher = pytest.MonkeyPatch()
        patcher.setattr(roster, "_write", worker_lost)
        with self.assertRaises(SystemExit):
            pipeline.commit(job.pk, self.clerk.pk)
        patcher.undo()
        self.assertFalse(Person.objects.exists())
        self.assertFalse(Household.objects.exists())  # created before the failure, rolled back with it
        self.assertEqual(ImportJob.objects.get(pk=job.pk).status, ImportStatus.COMMITTING)
        pipeline.commit(job.pk, self.clerk.pk)  # the task delivered again
        pipeline.commit(job.pk, self.clerk.pk)  # and once more: nothing is written twice
        self.assertEqual(Person.objects.count(), 4)
        self.assertEqual(ImportJob.objects.get(pk=job.pk).status, ImportStatus.COMMITTED)

    def test_the_error_workbook_marks_each_bad_cell_with_its_reason(self):
        rows = [person_row(n) for n in range(3)]
        rows[1]["残疾等级"] = "五级"
        rows[2]["身份证号"] = (
            rows[2]["身份证号"][:17] + "0"
            if rows[2]["身份证号"][17] != "0"
            else rows[2]["身份证号"][:17] + "1"
        )
        job = self.read(workbook(rows))
        book = load_workbook(BytesIO(build_error_workbook(job)))
        sheet = book.worksheets[0]
        self.assertEqual([c.value for c in sheet[1]][:7], ["原行号", *HEADER[:6]])
        self.assertEqual([row[0].value for row in sheet.iter_rows(min_row=2)], [5, 6])
        level = sheet.cell(row=2, column=HEADER.index("残疾等级") + 2)
        self.assertEqual(level.value, "五级")
        self.assertEqual(level.fill.fgColor.rgb, "00FFC7CE")
        self.assertIn("一级、二级", level.comment.text)
        id_cell = sheet.cell(row=3, column=HEADER.index("身份证号") + 2)
        self.assertEqual(id_cell.value, rows[2]["身份证号"])
        self.assertIn("校验码", id_cell.comment.text)
        untouched = sheet.cell(row=2, column=HEADER.index("姓名") + 2)
        self.assertIsNone(untouched.comment)
        rows_of = {
            row[0]: (row[1], row[2]) for row in book.worksheets[1].iter_rows(min_row=5, values_only=True)
        }
        self.assertEqual(rows_of, {"残疾等级": (1, "5"), "身份证号": (1, "6")})

    def test_a_file_that_is_not_a_workbook_is_refused_with_a_reason(self):
        job = self.read(b"%PDF-1.4 not a workbook")
        self.assertEqual(job.status, ImportStatus.REFUSED)
        self.assertTrue(job.message)
        self.assertFalse(ImportRow.objects.filter(job=job).exists())

    def test_a_roster_without_the_required_columns_is_refused_naming_them(self):
        job = self.read(workbook([person_row(0)], header=["姓名", "乡镇", "村"]))
        self.assertEqual(job.status, ImportStatus.REFUSED)
        self.assertIn("身份证号", job.message)

    def test_only_a_county_uploads(self):
        with self.assertRaises(UploadRefused):
            import_create(actor=self.cast["ganzhou_reviewer"], kind="roster", upload=upload(workbook([])))


@override_settings(MEDIA_ROOT=MEDIA)
class QueueDownTest(CastTestCase):
    def test_an_upload_while_the_queue_is_down_says_try_later_and_leaves_nothing_waiting(self):
        from kombu.exceptions import OperationalError

        from imports.services import QueueUnavailable

        def broker_down(*args, **kwargs):
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

        patcher = pytest.MonkeyPatch()
        patcher.setattr("imports.tasks.read_import.delay", broker_down)
        self.addCleanup(patcher.undo)
        with self.assertRaises(QueueUnavailable):
            import_create(
                actor=self.cast["ruijin_clerk"], kind="roster", upload=upload(workbook([person_row(0)]))
            )
        job = ImportJob.objects.get()
        self.assertEqual(job.status, ImportStatus.REFUSED)
        self.client.force_login(self.cast["ruijin_clerk"])
        response = self.client.post(
            "/api/v1/imports/", {"file": upload(workbook([person_row(0)])), "kind": "roster"}
        )
        self.assertEqual(response.status_code, 503)


@override_settings(MEDIA_ROOT=MEDIA)
class BlankCellsTest(PipelineCase):
    """A roster that lacks a column, or leaves a cell blank, says nothing about it: nothing is cleared."""

    def test_a_roster_without_the_household_columns_keeps_what_is_stored(self):
        rows = [person_row(n, 低保="是", 脱贫状态="已脱贫", 脱贫年度=2017) for n in range(3)]
        self.commit(self.read(workbook(rows)))
        short = [h for h in HEADER if h not in ("残疾证号", "脱贫状态", "脱贫年度", "低保", "联系电话")]
        again = self.read(workbook([person_row(n) for n in range(3)], header=short))
        self.assertEqual(again.counts, {"unchanged": 3}, list(again.rows.values_list("changes", flat=True)))
        household = Household.objects.first()
        self.assertEqual(
            (household.poverty_status, household.exit_year, household.is_dibao), ("out", 2017, True)
        )
        self.assertTrue(all(p.certificate_number and p.phone for p in Person.objects.all()))

    def test_a_status_back_to_not_out_clears_the_exit_year(self):
        self.commit(self.read(workbook([person_row(0, 脱贫状态="已脱贫", 脱贫年度=2017)])))
        job = self.commit(self.read(workbook([person_row(0, 脱贫状态="未脱贫")])))
        self.assertEqual(job.status, ImportStatus.COMMITTED)
        household = Household.objects.get()
        self.assertEqual((household.poverty_status, household.exit_year), ("not_out", None))


@override_settings(MEDIA_ROOT=MEDIA)
class RegistryChangedSinceCheckTest(PipelineCase):
    def test_a_person_edited_after_the_check_keeps_the_edit(self):
        from beneficiaries.services import person_update

        self.commit(self.read(workbook([person_row(0)])))
        person = Person.objects.get()
        job = self.read(workbook([person_row(0, 姓名="刘改名")]))
        self.assertEqual(job.counts, {"update": 1})
        fields = ("name", "id_number", "certificate_number", "disability_category", "disability_level",
                  "county_code", "township_code", "village_code", "relation_to_head")  # fmt: skip
        data = {f: getattr(person, f) for f in fields} | {
            "household": person.household_id,
            "phone": "13800000000",
        }
        person_update(actor=self.cast["ruijin_supervisor"], person=person, data=data, expected_version=1)
        job = self.commit(job)
        person.refresh_from_db()
        self.assertEqual((person.name, person.phone), (person_row(0)["姓名"], "13800000000"))
        self.assertEqual(job.counts["written_stale"], 1)
        self.assertIn("1 行", job.message)

    def test_an_id_registered_after_the_check_refuses_the_commit_and_writes_nothing(self):
        job = self.read(workbook([person_row(n) for n in range(3)]))
        row = person_row(2)
        data = {**person_data(), "id_number": row["身份证号"], "certificate_number": row["残疾证号"]}
        person_register(actor=self.cast["ruijin_supervisor"], data=data)
        job = self.commit(job)
        self.assertEqual(job.status, ImportStatus.REFUSED)
        self.assertIn("重新上传", job.message)
        self.assertEqual(Person.objects.count(), 1)

    def test_cells_that_once_broke_the_check_are_explained(self):
        rows = [
            person_row(0, 姓名="刘" * 51),
            person_row(1, 家庭人口="፩"),
            person_row(2, 脱贫年度=2019, 脱贫状态=""),
            person_row(3, 姓名="刘_x0000_四"),  # Excel's escape of a NUL character
            person_row(4, 与户主关系=""),
        ]
        job = self.read(workbook(rows))
        self.assertEqual(job.status, ImportStatus.REVIEW, job.message)
        errors = {r.row_number: set(r.errors) for r in ImportRow.objects.filter(job=job, outcome="rejected")}
        self.assertEqual(
            errors, {4: {"name"}, 5: {"household_size"}, 6: {"exit_year"}, 8: {"relation_to_head"}}
        )


@override_settings(MEDIA_ROOT=MEDIA)
class WholeNumbersTest(PipelineCase):
    def test_reviewers_above_the_county_see_no_whole_number_of_an_upload(self):
        import re

        self.commit(self.read(workbook([person_row(0)])))
        number = person_row(0)["身份证号"]
        job = self.read(workbook([person_row(0, 残疾证号=f"{number}12", 残疾类别="视力")]))
        self.assertEqual(job.counts, {"update": 1})
        for role, status in (("ganzhou_reviewer", 403), ("province_officer", 403), ("ruijin_clerk", 200)):
            self.client.force_login(self.cast[role])
            page = self.client.get(f"/imports/{job.pk}/").content.decode()
            whole = re.findall(r"(?<!\d)\d{17}[\dX]", page)
            with self.subTest(role=role):
                self.assertEqual(bool(whole), role == "ruijin_clerk")
                self.assertEqual(self.client.get(f"/imports/{job.pk}/errors.xlsx").status_code, status)
