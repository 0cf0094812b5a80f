from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from areas.models import AreaLevel
from areas.scoping import get_visible_or_404
from poverty_relief.responses import xlsx_response

from .kinds import KINDS, get_kind
from .models import ImportJob, ImportStatus
from .reading import iter_rows
from .selectors import import_preview, rejected_cells
from .services import (
    QueueUnavailable,
    UploadNotAllowed,
    UploadRefused,
    check_upload_kind,
    import_commit,
    import_create,
    import_discard,
)


@login_required
@permission_required("imports.view_importjob", raise_exception=True)
@require_http_methods(["GET", "POST"])
def import_list(request):
    chosen = request.GET.get("kind", "")
    status = 200
    if request.method == "POST":
        if not request.user.has_perm("imports.add_importjob"):
            raise PermissionDenied
        chosen = request.POST.get("kind") or "roster"
        upload = request.FILES.get("file")
        try:
            check_upload_kind(request.user, chosen)
            if upload is None:
                raise UploadRefused(_("Choose a file to upload."), field="file")
            job = import_create(actor=request.user, kind=chosen, upload=upload)
        except UploadNotAllowed as refusal:
            raise PermissionDenied(refusal.message) from refusal
        except UploadRefused as refusal:
            messages.error(request, refusal.message)
            if isinstance(refusal, QueueUnavailable):
                status = 503  # nothing is queued: the clerk uploads again later
        else:
            return redirect("imports:detail", pk=job.pk)
    jobs = (
        ImportJob.objects.visible_to(request.user).select_related("uploaded_by").order_by("-created_at")[:50]
    )
    kinds = _uploadable_kinds(request.user)
    if chosen not in {kind.key for kind in kinds}:
        chosen = kinds[0].key if kinds else ""
    labels = {key: kind.label for key, kind in KINDS.items()}
    for job in jobs:
        job.kind_label = labels.get(job.kind, job.kind)
    context = {"jobs": jobs, "kinds": kinds, "chosen": chosen, "can_upload": bool(kinds)}
    return render(request, "imports/import_list.html", context, status=status)


def _uploadable_kinds(user) -> list:
    """The kinds of sheet the user may upload: only a county uploads, each kind asks its own permission."""
    if not user.has_perm("imports.add_importjob") or user.area.level != AreaLevel.COUNTY:
        return []
    return [kind for kind in KINDS.values() if user.has_perm(kind.upload_permission)]


@login_required
@permission_required("imports.add_importjob", raise_exception=True)
@require_GET
def template_download(request, kind: str):
    if request.user.area.level != AreaLevel.COUNTY:
        raise Http404
    try:
        sheet_kind = get_kind(kind)
    except KeyError as exc:
        raise Http404 from exc
    if not request.user.has_perm(sheet_kind.upload_permission):
        raise PermissionDenied
    return xlsx_response(
        sheet_kind.template(request.user.area.code), f"{request.user.area.name}{sheet_kind.label}模板.xlsx"
    )


@login_required
@permission_required("imports.view_importjob", raise_exception=True)
@require_GET
def import_detail(request, pk: int):
    return _detail(request, get_visible_or_404(ImportJob, request.user, pk=pk))


def _detail(request, job: ImportJob, status: int = 200):
    kind = get_kind(job.kind)
    whole = request.user.has_perm(kind.whole_numbers_permission)
    context = {"job": job, "kind": kind, "finished": _finished(job), "whole_numbers": whole}
    if job.status in (ImportStatus.REVIEW, ImportStatus.COMMITTING, ImportStatus.COMMITTED):
        context.update(import_preview(job, whole_numbers=whole))
        context["stats"] = [
            (label, context["counts"].get(outcome, 0), style) for outcome, label, style in kind.outcomes
        ]
    return render(request, "imports/import_detail.html", context, status=status)


def _finished(job: ImportJob) -> bool:
    return job.status not in (ImportStatus.RECEIVED, ImportStatus.READING, ImportStatus.COMMITTING)


@login_required
@permission_required("imports.view_importjob", raise_exception=True)
@require_GET
def import_progress(request, pk: int):
    """Polled by the page while the worker reads; when the job moves on, the page reloads itself."""
    job = get_visible_or_404(ImportJob, request.user, pk=pk)
    response = render(request, "imports/_progress.html", {"job": job})
    if _finished(job):
        response["HX-Refresh"] = "true"
    return response


@login_required
@permission_required("imports.change_importjob", raise_exception=True)
@require_POST
def import_commit_view(request, pk: int):
    job = get_visible_or_404(ImportJob, request.user, pk=pk)
    try:
        import_commit(actor=request.user, job=job, all_or_nothing=request.POST.get("all_or_nothing") == "on")
    except QueueUnavailable as refusal:
        # Nothing was queued and the upload is as it was: the same page, with "try later", as a 503.
        messages.error(request, refusal.message)
        job.refresh_from_db()
        return _detail(request, job, status=503)
    except UploadRefused as refusal:
        messages.error(request, refusal.message)
    return redirect("imports:detail", pk=job.pk)


@login_required
@permission_required("imports.change_importjob", raise_exception=True)
@require_POST
def import_discard_view(request, pk: int):
    job = get_visible_or_404(ImportJob, request.user, pk=pk)
    try:
        import_discard(actor=request.user, job=job)
    except UploadRefused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("The upload is discarded; nothing was saved."))
    return redirect("imports:list")


@login_required
@permission_required("imports.view_importjob", raise_exception=True)
@require_GET
def import_errors_workbook(request, pk: int):
    job = get_visible_or_404(ImportJob, request.user, pk=pk)
    if not request.user.has_perm(get_kind(job.kind).whole_numbers_permission):
        raise PermissionDenied  # the rows as uploaded carry whole ID numbers
    if job.status not in (ImportStatus.REVIEW, ImportStatus.COMMITTING, ImportStatus.COMMITTED):
        raise Http404
    return xlsx_response(build_error_workbook(job), f"{Path(job.original_name).stem}-错误.xlsx")


def build_error_workbook(job: ImportJob) -> bytes:
    errors = rejected_cells(job)
    summary = [
        (column, sum(len(rows) for rows in messages.values()))
        for column, messages in job.column_errors.items()
    ]
    sheet = job.sheet_name or 0
    path = Path(job.file.path) if job.file else None
    if path is None or not path.is_file():
        raise Http404  # the uploaded file is no longer kept: the rows as uploaded cannot be shown
    source = iter_rows(path, sheet=sheet)
    try:
        rows = ((number, cells) for number, cells in source if number in errors)
        return get_kind(job.kind).error_workbook(
            header=job.header, header_row_number=job.header_row, rows=rows, errors=errors, summary=summary
        )
    finally:
        source.close()
