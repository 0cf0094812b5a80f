"""An export is an `ExportJob`: what was asked for, by whom, for which area, how far the worker got and
the file it wrote. The job row is the record of truth: the task updates it, the page polls it."""

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from areas.scoping import scoped_queryset_class

#: How long a written file is kept; beat's `expire_exports` deletes it afterwards.
EXPORT_KEEP = timedelta(days=7)
#: Where the files live, under MEDIA_ROOT. Nothing serves MEDIA_ROOT: a file leaves only through the
#: download view, which checks who asks.
EXPORT_DIR = "private/exports"


class ExportKind(models.TextChoices):
    REGISTRY = "registry", _("Registry roster")


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting for a worker")
    RUNNING = "running", _("Being written")
    DONE = "done", _("Ready to download")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Deleted")


class ExportJob(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=ExportKind.choices)
    # What the export holds, as the kind reads it (for the registry: the search text, the list's filters
    # and whether whole ID numbers are written).
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    # The area whose data the file holds: the user's own, or the county, township or village filtered on.
    area_code = models.CharField(_("area"), max_length=12)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    file = models.FileField(_("file"), upload_to=EXPORT_DIR, max_length=200, blank=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)  # the name a download carries
    message = models.TextField(_("message"), blank=True)
    # Names the job's files: unguessable, and distinct across databases that share one MEDIA_ROOT.
    key = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    # Each run of the task takes the next number; a run whose number is no longer the job's stops.
    attempt = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = scoped_queryset_class("area_code").as_manager()

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        indexes = [
            models.Index(fields=["requested_by", "-created_at"], name="export_requester_created_idx"),
            models.Index(fields=["status", "created_at"], name="export_status_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.area_code} ({self.status})"

    @property
    def in_progress(self) -> bool:
        return self.status in (ExportStatus.QUEUED, ExportStatus.RUNNING)

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        return min(100, int(100 * self.rows_done / self.rows_total)) if self.rows_total else 0

    @property
    def expires_at(self) -> datetime | None:
        return self.finished_at + EXPORT_KEEP if self.finished_at else None
