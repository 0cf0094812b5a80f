"""An upload is an `ImportJob`: the file, where it stands, how far the worker got, and what it found.
Each data row of the sheet is staged as an `ImportRow` with its outcome and errors until the clerk
commits (or drops) the job."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from areas.scoping import scoped_queryset_class


class ImportStatus(models.TextChoices):
    RECEIVED = "received", _("Waiting to be read")
    READING = "reading", _("Reading and checking")
    REVIEW = "review", _("Ready for review")
    COMMITTING = "committing", _("Saving")
    COMMITTED = "committed", _("Saved")
    REFUSED = "refused", _("File refused")
    DISCARDED = "discarded", _("Discarded")


class ImportJob(models.Model):
    kind = models.CharField(_("kind"), max_length=20)
    county_code = models.CharField(_("county"), max_length=6)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    sha256 = models.CharField(max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.RECEIVED
    )
    message = models.TextField(_("message"), blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    sheet_name = models.CharField(max_length=100, blank=True)  # the worksheet that was checked and read
    header_row = models.PositiveIntegerField(null=True, blank=True)
    header = models.JSONField(default=list, blank=True)  # the sheet's own header cells, in order
    mapping = models.JSONField(default=dict, blank=True)  # field key -> column index
    counts = models.JSONField(default=dict, blank=True)  # outcome -> rows
    column_errors = models.JSONField(default=dict, blank=True)  # column label -> {message: [rows]}
    all_or_nothing = models.BooleanField(_("all or nothing"), default=False)
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    committed_at = models.DateTimeField(null=True, blank=True)

    objects = scoped_queryset_class("county_code").as_manager()

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["county_code", "-created_at"], name="import_county_created_idx")]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        if self.status in (ImportStatus.REVIEW, ImportStatus.COMMITTED):
            return 100
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0

    @property
    def rows_per_second(self) -> int | None:
        if not self.started_at or not self.rows_done:
            return None
        from django.utils import timezone

        end = self.checked_at or timezone.now()
        seconds = (end - self.started_at).total_seconds()
        return int(self.rows_done / seconds) if seconds > 0 else None


class RowOutcome(models.TextChoices):
    NEW = "new", _("New")
    UPDATE = "update", _("Changed")
    UNCHANGED = "unchanged", _("Unchanged")
    REJECTED = "rejected", _("Rejected")
    TRANSFER = "transfer", _("Held by another county")


class ImportRow(models.Model):
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField()  # the Excel row number, as the clerk sees it
    outcome = models.CharField(max_length=10, choices=RowOutcome.choices)
    values = models.JSONField(default=dict)  # cleaned values ready to write
    errors = models.JSONField(default=dict)  # column index -> message
    changes = models.JSONField(default=dict)  # field -> [stored, uploaded], for updates
    target_id = models.BigIntegerField(null=True)  # the record an update or transfer concerns
    note = models.CharField(max_length=200, blank=True)  # e.g. the county that holds the person

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "row_number"], name="import_row_unique")]
        indexes = [models.Index(fields=["job", "outcome", "row_number"], name="import_row_outcome_idx")]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.row_number} {self.outcome}"
