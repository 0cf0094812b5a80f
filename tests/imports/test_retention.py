"""Uploaded files and staged rows (whole ID numbers) are deleted 30 days after the job ends; the job stays
with its counts and errors by column, and says so."""

from datetime import timedelta
from pathlib import Path

from django.test import override_settings
from django.utils import timezone

from imports.models import ImportJob, ImportRow, ImportStatus
from imports.services import UPLOAD_KEEP, import_files_purge
from imports.tasks import purge_import_files

from .rosters import person_row, workbook
from .test_pipeline import MEDIA, PipelineCase


@override_settings(MEDIA_ROOT=MEDIA)
class RetentionTest(PipelineCase):
    def saved_job(self, rows: int = 3) -> ImportJob:
        bad = person_row(rows, 残疾等级="五级")
        return self.commit(self.read(workbook([person_row(n) for n in range(rows)] + [bad])))

    def age(self, job: ImportJob, days: int) -> None:
        then = timezone.now() - timedelta(days=days)
        ImportJob.objects.filter(pk=job.pk).update(created_at=then, committed_at=then)

    def purge(self) -> int:
        with self.captureOnCommitCallbacks(execute=True):
            return import_files_purge()

    def test_a_job_saved_31_days_ago_loses_its_file_and_rows_and_keeps_its_figures(self):
        job = self.saved_job()
        path = Path(job.file.path)
        self.assertTrue(path.is_file())
        self.age(job, UPLOAD_KEEP.days + 1)
        self.assertEqual(self.purge(), 1)
        job.refresh_from_db()
        self.assertFalse(path.exists())
        self.assertEqual(job.file.name, "")
        self.assertFalse(ImportRow.objects.filter(job=job).exists())
        self.assertEqual((job.status, job.counts["new"], job.counts["rejected"]), ("committed", 3, 1))
        self.assertIn("残疾等级", job.column_errors)

        self.client.force_login(self.clerk)
        page = self.client.get(f"/imports/{job.pk}/")
        self.assertContains(page, "上传的文件及其各行已不再保存")
        self.assertNotContains(page, f"/imports/{job.pk}/errors.xlsx")
        self.assertEqual(self.client.get(f"/imports/{job.pk}/errors.xlsx").status_code, 404)
        self.assertEqual(self.purge(), 0)  # nothing more to do

    def test_a_job_saved_29_days_ago_keeps_everything(self):
        job = self.saved_job()
        self.age(job, UPLOAD_KEEP.days - 1)
        self.assertEqual(self.purge(), 0)
        job.refresh_from_db()
        self.assertTrue(Path(job.file.path).is_file())
        self.assertEqual(ImportRow.objects.filter(job=job).count(), 4)

    def test_a_job_left_in_review_is_discarded_after_30_days_then_purged(self):
        job = self.read(workbook([person_row(0)]))
        self.assertEqual(job.status, ImportStatus.REVIEW)
        ImportJob.objects.filter(pk=job.pk).update(
            created_at=timezone.now() - UPLOAD_KEEP - timedelta(hours=1)
        )
        path = Path(job.file.path)
        self.assertEqual(self.purge(), 1)
        job.refresh_from_db()
        self.assertEqual((job.status, job.file.name, path.exists()), ("discarded", "", False))

    def test_the_scheduled_task_runs_the_purge(self):
        job = self.saved_job(rows=1)
        self.age(job, 40)
        with self.captureOnCommitCallbacks(execute=True):
            purge_import_files()
        job.refresh_from_db()
        self.assertEqual(job.file.name, "")
