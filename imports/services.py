"""Uploads, commits and discards of import jobs; the work itself runs in imports.tasks."""

import hashlib
import logging
from datetime import datetime, timedelta

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from areas.models import AreaLevel
from poverty_relief.queueing import enqueue

from .kinds import KINDS
from .models import ImportJob, ImportStatus

MAX_UPLOAD_BYTES = 30 * 1024 * 1024
# An uploaded file and its staged rows carry whole ID numbers: they are kept this long after the job ends
# (saved, refused, discarded), or after the upload for a job never reviewed, then deleted. The job itself
# stays, with its counts and errors by column.
UPLOAD_KEEP = timedelta(days=30)

logger = logging.getLogger(__name__)


class UploadRefused(Exception):
    """An upload or commit that cannot go ahead; the message is for the clerk."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class QueueUnavailable(UploadRefused):
    """The task queue does not answer: nothing was queued, the clerk should try again later."""


class UploadNotAllowed(UploadRefused):
    """The actor may not upload this kind of sheet."""


def unknown_kind_message(kind: str) -> str:
    kinds = "、".join(f"{key}（{sheet.label}）" for key, sheet in KINDS.items())
    message = _("Unknown kind of sheet “%(kind)s”: choose one of %(kinds)s.")
    return message % {"kind": kind[:40], "kinds": kinds}


def check_upload_kind(actor, kind: str):
    """The sheet kind, if the actor may upload it."""
    if kind not in KINDS:
        raise UploadRefused(unknown_kind_message(kind), field="kind")
    sheet_kind = KINDS[kind]
    if not actor.has_perm(sheet_kind.upload_permission):
        raise UploadNotAllowed(
            _("You may not upload a sheet of this kind (%(label)s).") % {"label": sheet_kind.label},
            field="kind",
        )
    return sheet_kind


def import_create(*, actor, kind: str, upload: UploadedFile) -> ImportJob:
    from .tasks import read_import

    if actor.area is None or actor.area.level != AreaLevel.COUNTY:
        raise UploadRefused(_("Only a county uploads sheets: the file must belong to one county."))
    check_upload_kind(actor, kind)
    if upload.size > MAX_UPLOAD_BYTES:
        raise UploadRefused(
            _("The file is %(size)s MB; the limit is %(limit)s MB. Split it by township.")
            % {"size": round(upload.size / 1048576, 1), "limit": MAX_UPLOAD_BYTES // 1048576},
            field="file",
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind,
            county_code=actor.area.code,
            file=upload,
            original_name=upload.name[:200],
            size=upload.size,
            sha256=digest.hexdigest(),
            uploaded_by=actor,
        )
    # After the commit, so the worker finds the row; a broker that is down is said at once.
    try:
        enqueue(read_import, job.pk, refused=QueueUnavailable)
    except QueueUnavailable as refusal:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.REFUSED, message=refusal.message)
        raise
    return job


def import_commit(*, actor, job: ImportJob, all_or_nothing: bool) -> ImportJob:
    from .tasks import commit_import

    if job.status != ImportStatus.REVIEW:
        raise UploadRefused(
            _("This upload cannot be saved now (it is: %(status)s).") % {"status": job.get_status_display()}
        )
    if all_or_nothing and job.counts.get("rejected"):
        message = _(
            "%(count)s rows have errors: with “all or nothing” nothing can be saved. "
            "Fix them and upload again, or save only the good rows."
        )
        raise UploadRefused(message % {"count": job.counts["rejected"]})
    moved = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.REVIEW).update(
        status=ImportStatus.COMMITTING, all_or_nothing=all_or_nothing
    )
    if not moved:
        raise UploadRefused(_("Someone else is already saving or has discarded this upload."))
    try:
        enqueue(commit_import, job.pk, actor.pk, refused=QueueUnavailable)
    except QueueUnavailable:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.REVIEW)
        raise
    job.refresh_from_db()
    return job


def import_discard(*, actor, job: ImportJob) -> ImportJob:
    moved = ImportJob.objects.filter(
        pk=job.pk, status__in=[ImportStatus.REVIEW, ImportStatus.REFUSED]
    ).update(status=ImportStatus.DISCARDED)
    if not moved:
        raise UploadRefused(_("Only an upload that is not saved can be discarded."))
    job.rows.all().delete()
    job.refresh_from_db()
    return job


def import_files_purge(now: datetime | None = None) -> int:
    """Delete the files and staged rows of jobs older than UPLOAD_KEEP; returns how many jobs lost them.

    A job still waiting for review that long is discarded first: nobody will save it now."""
    cutoff = (now or timezone.now()) - UPLOAD_KEEP
    ImportJob.objects.filter(status=ImportStatus.REVIEW, created_at__lt=cutoff).update(
        status=ImportStatus.DISCARDED
    )
    ended = [ImportStatus.COMMITTED, ImportStatus.REFUSED, ImportStatus.DISCARDED]
    old = (
        ImportJob.objects.filter(status__in=ended)
        .filter(Q(committed_at__lt=cutoff) | Q(committed_at__isnull=True, created_at__lt=cutoff))
        .exclude(file="")
    )
    purged = 0
    for job in old.iterator(chunk_size=100):
        with transaction.atomic():
            job.rows.all().delete()
            ImportJob.objects.filter(pk=job.pk).update(file="")
            name = job.file.name
            # The file goes once the row no longer names it: a failure here leaves an orphan file, never a
            # job that names a missing one without saying so.
            transaction.on_commit(lambda name=name, storage=job.file.storage: storage.delete(name))
        purged += 1
    if purged:
        logger.info("deleted the uploaded files and staged rows of %s import jobs", purged)
    return purged
