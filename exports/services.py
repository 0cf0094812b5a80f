"""Starting, writing, handing out and expiring exports. The work itself runs in exports.tasks."""

import logging
import os
import uuid
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from areas.models import Area
from beneficiaries.models import RegistryExport
from poverty_relief.queueing import enqueue

from .kinds import KINDS, Kind
from .models import EXPORT_DIR, EXPORT_KEEP, ExportJob, ExportStatus

logger = logging.getLogger(__name__)

#: The job's row count is written after this many rows: a few writes per 10,000 people.
PROGRESS_EVERY = 2000


class ExportRefused(Exception):
    """An export that cannot be started or handed out; the message is for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ExportNotAllowed(ExportRefused):
    """The user may not export this kind (403)."""


class AreaNotVisible(ExportRefused):
    """The request names an area outside the user's own (404, as any other area's record)."""


class QueueUnavailable(ExportRefused):
    """The task queue does not answer: nothing was created, the user should try again later (503)."""


class Superseded(Exception):
    """Another run of the same job took it over, or the job left `running`: this run stops."""


def get_kind(key: str) -> Kind:
    try:
        return KINDS[key]
    except KeyError:
        labels = "、".join(str(kind.label) for kind in KINDS.values())
        message = _("Unknown kind of export “%(kind)s”: choose one of %(kinds)s.")
        raise ExportRefused(message % {"kind": str(key)[:40], "kinds": labels}) from None


def export_create(*, actor, kind: str, data: Mapping[str, Any]) -> ExportJob:
    """The job row of an export the actor may make, from the request's data; nothing is queued."""
    export_kind = get_kind(kind)
    if not actor.has_perm(export_kind.permission):
        raise ExportNotAllowed(_("You may not export this (%(label)s).") % {"label": export_kind.label})
    parameters = export_kind.parameters(actor, data)
    area = export_kind.area(actor, parameters)
    if area is None:
        raise AreaNotVisible(_("The area chosen is not in your area."))
    return ExportJob.objects.create(
        kind=export_kind.key,
        parameters=parameters,
        area_code=area.code,
        requested_by=actor,
        file_name=export_kind.file_name(area),
    )


def export_start(*, actor, kind: str, data: Mapping[str, Any]) -> ExportJob:
    """Create the job and queue its task. Call it outside a transaction: the worker must find the row.

    If the broker cannot be reached the row is deleted again, so a refused start leaves nothing behind.
    """
    from .tasks import build_export

    job = export_create(actor=actor, kind=kind, data=data)
    try:
        enqueue(build_export, job.pk, refused=QueueUnavailable)
    except QueueUnavailable:
        job.delete()
        raise
    return job


# -- the worker's side ------------------------------------------------------------------------------


def export_run(job_id: int, *, progress_every: int = PROGRESS_EVERY) -> None:
    """Write the job's file. Safe to run again for the same job (a redelivered task after a lost worker):
    each run claims the job with the next attempt number and starts over; a finished job is left alone,
    and a run that another has overtaken stops without touching the job."""
    attempt = _claim(job_id)
    if attempt is None:
        return
    job = ExportJob.objects.select_related("requested_by__area").get(pk=job_id)
    kind = KINDS[job.kind]
    user = job.requested_by
    if not _still_allowed(user, job, kind):
        _finish(job_id, attempt, status=ExportStatus.FAILED, message=_not_allowed_message())
        return

    directory = Path(settings.MEDIA_ROOT) / EXPORT_DIR
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{EXPORT_DIR}/{job.key}-{attempt}.xlsx"
    final = Path(settings.MEDIA_ROOT) / name
    partial = final.with_suffix(".part")
    try:
        queryset = kind.rows(user, job.parameters)
        total = queryset.count()
        _progress(job_id, attempt, rows_done=0, rows_total=total)

        def on_row(number: int) -> None:
            if number % progress_every == 0:
                _progress(job_id, attempt, rows_done=number)

        title = kind.title(Area.objects.get(code=job.area_code))
        with partial.open("wb") as out:
            rows = kind.write(queryset, job.parameters, out, title=title, on_row=on_row)
        os.replace(partial, final)
    except Superseded:
        partial.unlink(missing_ok=True)
        return
    except Exception:
        logger.exception("export %s (attempt %s) failed", job_id, attempt)
        partial.unlink(missing_ok=True)
        _finish(job_id, attempt, status=ExportStatus.FAILED, message=_failed_message())
        return
    if _finish(job_id, attempt, status=ExportStatus.DONE, file=name, rows_done=rows, rows_total=rows):
        _remove_files(job.key, keep=final)
    else:
        final.unlink(missing_ok=True)


def _claim(job_id: int) -> int | None:
    """Take the job for this run: queued, or running (its worker was lost), moves to running with the
    next attempt number. None when the job is finished or gone."""
    claimed = ExportJob.objects.filter(
        pk=job_id, status__in=(ExportStatus.QUEUED, ExportStatus.RUNNING)
    ).update(status=ExportStatus.RUNNING, attempt=F("attempt") + 1, rows_done=0, started_at=timezone.now())
    if not claimed:
        return None
    return ExportJob.objects.values_list("attempt", flat=True).get(pk=job_id)


def _still_allowed(user, job: ExportJob, kind: Kind) -> bool:
    """The requester may still export this kind, for this area (their role or area may have changed)."""
    if not user.is_active or not user.has_perm(kind.permission):
        return False
    extra = kind.extra_permission(job.parameters)
    if extra and not user.has_perm(extra):
        return False
    return ExportJob.objects.visible_to(user).filter(pk=job.pk).exists()


def _progress(job_id: int, attempt: int, **fields) -> None:
    moved = ExportJob.objects.filter(pk=job_id, attempt=attempt, status=ExportStatus.RUNNING).update(**fields)
    if not moved:
        raise Superseded


def _finish(job_id: int, attempt: int, *, status: ExportStatus, **fields) -> bool:
    return bool(
        ExportJob.objects.filter(pk=job_id, attempt=attempt, status=ExportStatus.RUNNING).update(
            status=status, finished_at=timezone.now(), **fields
        )
    )


def _remove_files(key: uuid.UUID, *, keep: Path | None = None) -> int:
    """Delete the job's files (earlier attempts' leftovers, or all of them), except `keep`."""
    removed = 0
    for path in (Path(settings.MEDIA_ROOT) / EXPORT_DIR).glob(f"{key}-*"):
        if path != keep:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _failed_message() -> str:
    return _("The export could not be written. Start it again; if it fails again, tell the administrator.")


def _not_allowed_message() -> str:
    return _("You may no longer export this area's data, so the export was not written.")


# -- handing out and expiring -----------------------------------------------------------------------


def export_may_download(*, actor, job: ExportJob) -> bool:
    """The requester, while their role still allows the kind (and whole numbers, if the file has them).
    The area is checked by the caller's lookup (`visible_to`)."""
    kind = KINDS[job.kind]
    extra = kind.extra_permission(job.parameters)
    return (
        actor.pk == job.requested_by_id
        and actor.has_perm(kind.permission)
        and (not extra or actor.has_perm(extra))
    )


def export_download(*, actor, job: ExportJob) -> Path:
    """The file to hand out, recorded in the audit trail as the direct registry download is."""
    if job.status != ExportStatus.DONE or not job.file:
        raise ExportRefused(_("This export has no file to download."))
    path = Path(job.file.path)
    if not path.is_file():
        raise ExportRefused(_("This export has no file to download."))
    whole = bool(job.parameters.get("whole_numbers"))
    RegistryExport.objects.create(
        exported_by=actor,
        what=f"{job.kind}:export-{job.pk}" if whole else f"{job.kind}:masked:export-{job.pk}",
        county_code=job.area_code[:6],
        rows=job.rows_done,
    )
    logger.info(
        "export %s downloaded by user %s: %s rows of %s", job.pk, actor.pk, job.rows_done, job.area_code
    )
    return path


def export_expire(*, now: datetime | None = None) -> int:
    """Delete the files of exports older than EXPORT_KEEP and mark the jobs expired. Returns how many.

    Age counts from when the file was written, or from the request for a job that never finished (its
    task was lost with the broker): such a job is closed too, with any file a run left behind."""
    cutoff = (now or timezone.now()) - EXPORT_KEEP
    old = (
        ExportJob.objects.exclude(status=ExportStatus.EXPIRED)
        .alias(age_from=Coalesce("finished_at", "created_at"))
        .filter(age_from__lt=cutoff)
    )
    expired = 0
    for job_id, key in old.values_list("pk", "key"):
        _remove_files(key)
        expired += (
            ExportJob.objects.filter(pk=job_id)
            .exclude(status=ExportStatus.EXPIRED)
            .update(status=ExportStatus.EXPIRED, file="", attempt=F("attempt") + 1)
        )
    return expired
