"""Export jobs without a worker: the task's body run in this process, on the real database and files.

Progress, redelivery, scoping of what is written and who may have it, expiry, and a broker that does not
answer when an export is started."""

import tempfile
from datetime import timedelta
from pathlib import Path
from unittest import mock

from django.test import override_settings
from django.utils import timezone

from accounts.models import Role
from areas.models import Area, AreaLevel
from beneficiaries.models import LifeStatus, RegistryExport
from beneficiaries.services import person_register, person_set_life_status
from exports import services
from exports.models import EXPORT_DIR, ExportJob, ExportKind, ExportStatus
from exports.services import AreaNotVisible, export_create, export_expire, export_run
from poverty_relief.celery import app
from tests.beneficiaries.factories import person_data
from tests.cast import NINGDU, RUIJIN, CastTestCase

from .helpers import FORMULA_NAME, broker_down, content_of, formula_person, sheet_of

MEDIA = tempfile.mkdtemp(prefix="exports-media-")


def files_of(job: ExportJob) -> list[Path]:
    return sorted((Path(MEDIA) / EXPORT_DIR).glob(f"{job.key}-*"))


@override_settings(MEDIA_ROOT=MEDIA)
class ExportCase(CastTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        clerk, other = cls.cast["ruijin_clerk"], cls.cast["ningdu_clerk"]
        cls.ruijin = [
            person_register(actor=clerk, data=person_data(RUIJIN, sequence=11 + 2 * n, name=f"瑞金{n:02d}"))
            for n in range(7)
        ]
        cls.special = formula_person(clerk, RUIJIN)
        cls.ningdu = [
            person_register(actor=other, data=person_data(NINGDU, sequence=11 + 2 * n, name=f"宁都{n:02d}"))
            for n in range(3)
        ]
        cls.deceased = cls.ruijin[0]
        person_set_life_status(
            actor=clerk, person=cls.deceased, status=LifeStatus.DECEASED,
            effective_date=timezone.localdate(), reason="病故", expected_version=cls.deceased.version,
        )  # fmt: skip

    def export(self, user: str, **data) -> ExportJob:
        job = export_create(actor=self.cast[user], kind=ExportKind.REGISTRY, data=data)
        export_run(job.pk)
        job.refresh_from_db()
        return job

    def names_in(self, job: ExportJob) -> list[str]:
        sheet = sheet_of(Path(job.file.path).read_bytes())
        return [row[3] for row in sheet.iter_rows(min_row=4, values_only=True)]


class ProgressTest(ExportCase):
    def test_progress_is_written_every_few_rows_and_the_totals_at_the_end(self):
        job = export_create(actor=self.cast["ruijin_clerk"], kind=ExportKind.REGISTRY, data={})
        seen: list[tuple[int, int, int]] = []
        write = services._progress

        def observed(job_id, attempt, **fields):
            write(job_id, attempt, **fields)
            stored = ExportJob.objects.get(pk=job_id)  # what the polling page reads at that moment
            seen.append((stored.rows_done, stored.rows_total, stored.percent))

        self.enterContext(mock.patch.object(services, "_progress", observed))
        export_run(job.pk, progress_every=3)
        job.refresh_from_db()
        self.assertEqual(seen, [(0, 7, 0), (3, 7, 42), (6, 7, 85)])
        self.assertEqual((job.status, job.rows_done, job.rows_total, job.percent), ("done", 7, 7, 100))
        self.assertEqual(job.attempt, 1)
        self.assertIsNotNone(job.started_at)
        self.assertGreaterEqual(job.finished_at, job.started_at)

    def test_the_page_polls_while_the_worker_writes_and_stops_when_it_is_done(self):
        job = export_create(actor=self.cast["ruijin_clerk"], kind=ExportKind.REGISTRY, data={})
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.RUNNING, rows_done=2000, rows_total=8000
        )
        self.login("ruijin_clerk")
        fragment = self.client.get(f"/exports/{job.pk}/progress/")
        body = fragment.content.decode()
        self.assertNotIn("HX-Refresh", fragment)
        self.assertIn(f'hx-get="/exports/{job.pk}/progress/"', body)
        self.assertIn('<progress max="100" value="25">', body)
        self.assertIn("2000", body)
        self.assertIn("8000", body)
        page = self.client.get(f"/exports/{job.pk}/").content.decode()
        self.assertIn('hx-trigger="every 1s"', page)
        self.assertNotIn("<script>", page)  # the policy allows no inline script: htmx polls from attributes
        self.assertNotIn("/download/", page)


class FileTest(ExportCase):
    def test_a_county_clerk_gets_the_county_roster_with_whole_numbers_and_formulas_as_text(self):
        job = self.export("ruijin_clerk")
        self.assertEqual(job.rows_done, 7)  # 8 registered, one deceased
        sheet = sheet_of(Path(job.file.path).read_bytes())
        self.assertEqual(sheet["A1"].value, "瑞金市贫困残疾人花名册")
        self.assertEqual(sheet["A2"].value, timezone.localdate().isoformat())
        rows = list(sheet.iter_rows(min_row=4))
        names = [row[3].value for row in rows]
        self.assertEqual(sorted(names), sorted([p.name for p in self.ruijin[1:]] + [FORMULA_NAME]))
        self.assertEqual([row[0].value for row in rows], list(range(1, 8)))
        (row,) = [row for row in rows if row[3].value == FORMULA_NAME]
        self.assertEqual(row[3].data_type, "s")
        self.assertTrue(row[3].quotePrefix)
        self.assertEqual(row[3].number_format, "@")
        self.assertEqual(row[5].value, self.special.id_number)
        self.assertEqual(row[6].value, self.special.id_number + "42")
        self.assertEqual((row[9].value, row[9].data_type, row[9].quotePrefix), ("-2+3", "s", True))
        plain = next(r for r in rows if r[3].value == self.ruijin[1].name)
        self.assertFalse(plain[3].quotePrefix)

    def test_the_list_filters_are_kept(self):
        person = self.ruijin[3]
        job = self.export("ruijin_clerk", q="瑞金03", township=person.township_code, category="4")
        self.assertEqual(self.names_in(job), ["瑞金03"])
        self.assertEqual(job.area_code, person.township_code)
        self.assertEqual(job.parameters["filters"], {"township": person.township_code, "category": "4"})
        deceased = self.export("ruijin_clerk", life_status="deceased")
        self.assertEqual(self.names_in(deceased), [self.deceased.name])

    def test_above_a_county_the_numbers_are_masked(self):
        job = self.export("province_officer")
        self.assertEqual((job.area_code, job.parameters["whole_numbers"]), ("360000", False))
        sheet = sheet_of(Path(job.file.path).read_bytes())
        rows = list(sheet.iter_rows(min_row=4, values_only=True))
        self.assertEqual(len(rows), 10)  # both counties, the deceased left out
        for row in rows:
            self.assertRegex(row[5], r"^\d{6}\*{8}\d{3}[\dX]$")
            self.assertRegex(row[6], r"^\d{6}\*{8}\d{3}[\dX]\*\*$")
        self.assertEqual(sheet["A1"].value, "江西省贫困残疾人花名册")

    def test_a_redelivered_task_does_not_write_twice(self):
        job = self.export("ruijin_clerk")
        first = files_of(job)
        export_run(job.pk)  # the same message again after the job is done
        job.refresh_from_db()
        self.assertEqual((job.attempt, files_of(job)), (1, first))

    def test_a_run_after_a_lost_worker_starts_over_and_removes_what_the_lost_one_left(self):
        job = export_create(actor=self.cast["ruijin_clerk"], kind=ExportKind.REGISTRY, data={})
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, attempt=1, rows_done=4000)
        leftover = Path(MEDIA) / EXPORT_DIR / f"{job.key}-1.part"
        leftover.parent.mkdir(parents=True, exist_ok=True)
        leftover.write_bytes(b"half a workbook")
        export_run(job.pk)
        job.refresh_from_db()
        self.assertEqual((job.status, job.attempt, job.rows_done), (ExportStatus.DONE, 2, 7))
        self.assertEqual(files_of(job), [Path(job.file.path)])
        self.assertEqual(job.file.name, f"{EXPORT_DIR}/{job.key}-2.xlsx")
        # The lost run, were it still going, could no longer finish the job.
        self.assertFalse(services._finish(job.pk, 1, status=ExportStatus.FAILED))
        with self.assertRaises(services.Superseded):
            services._progress(job.pk, 1, rows_done=1)

    def test_a_requester_who_lost_the_right_before_the_run_gets_no_file(self):
        job = export_create(actor=self.cast["ruijin_clerk"], kind=ExportKind.REGISTRY, data={})
        clerk = self.cast["ruijin_clerk"]
        clerk.role = Role.CITY_REVIEWER
        clerk.area = Area.objects.get(code="360700")
        clerk.save()
        export_run(job.pk)
        job.refresh_from_db()
        self.assertEqual((job.status, job.file.name), (ExportStatus.FAILED, ""))
        self.assertTrue(job.message)
        self.assertEqual(files_of(job), [])


class ScopeTest(ExportCase):
    def test_only_the_requester_sees_and_downloads_a_job(self):
        job = self.export("ruijin_clerk")
        for role in ("ruijin_supervisor", "ningdu_clerk", "ganzhou_reviewer", "province_officer"):
            self.login(role)
            for url in (
                f"/exports/{job.pk}/",
                f"/exports/{job.pk}/progress/",
                f"/exports/{job.pk}/download/",
            ):
                with self.subTest(role=role, url=url):
                    self.assertEqual(self.client.get(url).status_code, 404)
            self.assertNotContains(self.client.get("/exports/"), f"/exports/{job.pk}/")
        self.assertFalse(RegistryExport.objects.exists())

    def test_a_filter_naming_another_county_is_refused_and_nothing_is_made(self):
        township = Area.objects.filter(parent_id=NINGDU, level=AreaLevel.TOWNSHIP).first()
        self.login("ruijin_clerk")
        for data in ({"county": NINGDU}, {"township": township.code}, {"village": "360730100200"}):
            with self.subTest(data=data):
                response = self.client.post("/exports/", {"kind": "registry", **data})
                self.assertEqual(response.status_code, 404)
        with self.assertRaises(AreaNotVisible):
            export_create(actor=self.cast["ruijin_clerk"], kind=ExportKind.REGISTRY, data={"county": NINGDU})
        self.assertFalse(ExportJob.objects.exists())

    def test_a_ruijin_export_never_holds_ningdu_people(self):
        for data in ({}, {"q": "宁都"}, {"q": self.ningdu[0].id_number}):
            job = self.export("ruijin_clerk", **data)
            with self.subTest(data=data):
                self.assertFalse(set(self.names_in(job)) & {p.name for p in self.ningdu})
        city = self.export("ganzhou_reviewer", county=RUIJIN)
        self.assertEqual(len(self.names_in(city)), 7)

    def test_the_download_is_recorded_and_stops_when_the_area_or_role_no_longer_allows_it(self):
        job = self.export("ruijin_clerk")
        self.login("ruijin_clerk")
        response = self.client.get(f"/exports/{job.pk}/download/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response["Content-Disposition"],
            "attachment; filename*=UTF-8''"
            "%E7%91%9E%E9%87%91%E5%B8%82%E8%B4%AB%E5%9B%B0%E6%AE%8B%E7%96%BE%E4%BA%BA%E8%8A%B1%E5%90%8D%E5%86%8C"
            "-360781.xlsx",  # 瑞金市贫困残疾人花名册-360781.xlsx
        )
        self.assertEqual(response["Content-Length"], str(Path(job.file.path).stat().st_size))
        self.assertEqual(content_of(response), Path(job.file.path).read_bytes())
        record = RegistryExport.objects.get()
        self.assertEqual(
            (record.exported_by, record.county_code, record.rows, record.what),
            (self.cast["ruijin_clerk"], RUIJIN, 7, f"registry:export-{job.pk}"),
        )

        clerk = self.cast["ruijin_clerk"]
        clerk.role = ""  # a role taken away: no permission to export at all
        clerk.save()
        self.assertEqual(self.client.get(f"/exports/{job.pk}/download/").status_code, 403)
        clerk.role, clerk.area = Role.COUNTY_CLERK, Area.objects.get(code=NINGDU)  # moved to 宁都县
        clerk.save()
        self.assertEqual(self.client.get(f"/exports/{job.pk}/download/").status_code, 404)
        self.assertEqual(RegistryExport.objects.count(), 1)

    def test_a_masked_download_is_recorded_as_masked(self):
        job = self.export("province_officer", county=NINGDU)
        self.login("province_officer")
        self.assertEqual(self.client.get(f"/exports/{job.pk}/download/").status_code, 200)
        record = RegistryExport.objects.get()
        self.assertEqual((record.county_code, record.rows), (NINGDU, 3))
        self.assertEqual(record.what, f"registry:masked:export-{job.pk}")


class ExpiryTest(ExportCase):
    def test_files_older_than_seven_days_are_deleted(self):
        old, recent = self.export("ruijin_clerk"), self.export("ruijin_clerk", category="4")
        stuck = export_create(actor=self.cast["ningdu_clerk"], kind=ExportKind.REGISTRY, data={})
        now = timezone.now()
        ExportJob.objects.filter(pk=old.pk).update(finished_at=now - timedelta(days=7, seconds=1))
        ExportJob.objects.filter(pk=recent.pk).update(finished_at=now - timedelta(days=6, hours=23))
        ExportJob.objects.filter(pk=stuck.pk).update(created_at=now - timedelta(days=8))
        old_path = Path(old.file.path)

        self.assertEqual(export_expire(now=now), 2)
        old.refresh_from_db()
        recent.refresh_from_db()
        self.assertEqual((old.status, old.file.name), (ExportStatus.EXPIRED, ""))
        self.assertFalse(old_path.exists())
        self.assertEqual(ExportJob.objects.get(pk=stuck.pk).status, ExportStatus.EXPIRED)
        self.assertEqual(recent.status, ExportStatus.DONE)
        self.assertTrue(Path(recent.file.path).is_file())
        self.assertEqual(export_expire(now=now), 0)  # run again: nothing more

        self.login("ruijin_clerk")
        self.assertEqual(self.client.get(f"/exports/{old.pk}/download/").status_code, 404)


class QueueDownTest(ExportCase):
    def test_with_the_broker_down_the_page_says_try_later_with_503_and_nothing_is_left(self):
        self.login("ruijin_clerk")
        before = sorted(Path(MEDIA).rglob("*"))
        with broker_down():
            response = self.client.post("/exports/", {"kind": "registry", "category": "4"})
        self.assertEqual(response.status_code, 503)
        self.assertContains(response, "后台服务暂时不可用，请过几分钟再试。", status_code=503)
        self.assertFalse(ExportJob.objects.exists())
        self.assertEqual(sorted(Path(MEDIA).rglob("*")), before)
        with app.connection_for_write() as connection:  # the broker is back for the tests that follow
            connection.ensure_connection(max_retries=1)


class PagesTest(ExportCase):
    def test_the_registry_list_button_carries_the_filters(self):
        person = self.ruijin[2]
        self.login("ruijin_clerk")
        page = self.client.get(f"/registry/people/?q=瑞金&township={person.township_code}&level=2")
        body = page.content.decode()
        self.assertIn('action="/exports/"', body)
        for name, value in (
            ("kind", "registry"),
            ("q", "瑞金"),
            ("township", person.township_code),
            ("level", "2"),
        ):
            self.assertIn(f'<input type="hidden" name="{name}" value="{value}">', body)
        self.assertNotIn('name="category"', body.split('action="/exports/"')[1].split("</form>")[0])

    def test_the_job_page_names_what_the_export_holds(self):
        person = self.ruijin[2]
        job = self.export("ruijin_clerk", township=person.township_code, level="2")
        self.login("ruijin_clerk")
        page = self.client.get(f"/exports/{job.pk}/").content.decode()
        self.assertIn(Area.objects.get(code=person.township_code).name, page)
        self.assertIn("二级", page)
        listing = self.client.get("/exports/").content.decode()
        self.assertIn(f'href="/exports/{job.pk}/"', listing)

    def test_the_exports_pages_sit_under_the_registry_in_the_menu(self):
        self.login("ruijin_clerk")
        listing = self.client.get("/exports/").content.decode()
        self.assertIn('<a href="/registry/people/" class="active" aria-current="page">', listing)

    def test_an_unknown_kind_is_a_400_saying_what_can_be_exported(self):
        self.login("ruijin_clerk")
        response = self.client.post("/exports/", {"kind": "payroll"})
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "payroll", status_code=400)
        self.assertFalse(ExportJob.objects.exists())

    def test_the_direct_download_is_the_same_roster(self):
        self.login("ruijin_clerk")
        direct = sheet_of(self.client.get("/registry/export.xlsx").content)
        job = self.export("ruijin_clerk")
        background = sheet_of(Path(job.file.path).read_bytes())
        self.assertEqual(
            [[c.value for c in row] for row in direct.iter_rows()],
            [[c.value for c in row] for row in background.iter_rows()],
        )
