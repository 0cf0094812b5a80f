"""Pages of exports: start one (from the registry list's button), follow it, download it, list one's own.

Only the user who asked sees a job, and only while their area still holds its data (404 otherwise); a
role that may no longer export it is refused the download (403)."""

from collections.abc import Iterator
from functools import wraps
from pathlib import Path
from urllib.parse import quote

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from areas.models import Area
from beneficiaries.choices import DisabilityCategory, DisabilityLevel
from beneficiaries.models import LifeStatus, PovertyStatus
from poverty_relief.responses import XLSX

from .kinds import KINDS, kinds_for
from .models import EXPORT_KEEP, ExportJob
from .selectors import exports_of, own_export_or_404
from .services import (
    AreaNotVisible,
    ExportNotAllowed,
    ExportRefused,
    QueueUnavailable,
    export_download,
    export_may_download,
    export_start,
)

KEEP_DAYS = EXPORT_KEEP.days


def export_permission_required(view):
    """Login first (to the login page), then a role that may export something (403)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not kinds_for(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@export_permission_required
@require_http_methods(["GET", "POST"])
def export_list(request):
    """The user's exports; a POST (the registry list's button, with its search and filters) starts one."""
    if request.method == "POST":
        try:
            job = export_start(actor=request.user, kind=request.POST.get("kind", ""), data=request.POST)
        except ExportNotAllowed as refusal:
            raise PermissionDenied(refusal.message) from refusal
        except AreaNotVisible as refusal:
            raise Http404 from refusal
        except QueueUnavailable as refusal:
            return _list(request, error=refusal.message, status=503)
        except ExportRefused as refusal:
            return _list(request, error=refusal.message, status=400)
        return redirect("exports:detail", pk=job.pk)
    return _list(request)


def _list(request, *, error: str = "", status: int = 200):
    jobs = list(exports_of(request.user).order_by("-created_at")[:50])
    names = dict(Area.objects.filter(code__in={job.area_code for job in jobs}).values_list("code", "name"))
    for job in jobs:
        job.area_name = names.get(job.area_code, job.area_code)
        job.kind_label = KINDS[job.kind].label
    context = {"jobs": jobs, "error": error, "keep_days": KEEP_DAYS}
    return render(request, "exports/export_list.html", context, status=status)


@export_permission_required
@require_GET
def export_detail(request, pk: int):
    job = own_export_or_404(request.user, pk)
    area = Area.objects.filter(code=job.area_code).first()
    context = {
        "job": job,
        "kind_label": KINDS[job.kind].label,
        "area_name": area.name if area else job.area_code,
        "whole_numbers": bool(job.parameters.get("whole_numbers")),
        "criteria": describe_parameters(job),
        "keep_days": KEEP_DAYS,
        "may_download": export_may_download(actor=request.user, job=job),
    }
    return render(request, "exports/export_detail.html", context)


@export_permission_required
@require_GET
def export_progress(request, pk: int):
    """Polled by the job page while the worker writes; when the job is finished, the page reloads."""
    job = own_export_or_404(request.user, pk)
    response = render(request, "exports/_progress.html", {"job": job})
    if not job.in_progress:
        response["HX-Refresh"] = "true"
    return response


@export_permission_required
@require_GET
def export_file(request, pk: int):
    job = own_export_or_404(request.user, pk)
    if not export_may_download(actor=request.user, job=job):
        raise PermissionDenied
    try:
        path = export_download(actor=request.user, job=job)
    except ExportRefused as refusal:
        raise Http404 from refusal
    response = StreamingHttpResponse(_chunks(path), content_type=XLSX)
    response["Content-Length"] = str(path.stat().st_size)
    # As poverty_relief.responses.xlsx_response: a Chinese file name that survives every browser.
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(job.file_name)}"
    return response


def _chunks(path: Path, size: int = 64 * 1024) -> Iterator[bytes]:
    """The file, opened only when the response is read and closed however the reading ends."""
    with path.open("rb") as file:
        while chunk := file.read(size):
            yield chunk


def describe_parameters(job: ExportJob) -> list[tuple[str, str]]:
    """The search and filters the export was made with, as (label, value) for the page."""
    parameters = job.parameters
    filters = parameters.get("filters", {})
    codes = [filters[key] for key in ("county", "township", "village") if filters.get(key)]
    names = dict(Area.objects.filter(code__in=codes).values_list("code", "name"))
    choices = {
        "category": dict(DisabilityCategory.choices),
        "level": dict(DisabilityLevel.choices),
        "life_status": dict(LifeStatus.choices),
        "poverty_status": dict(PovertyStatus.choices),
    }
    labels = {
        "county": _("County"),
        "township": _("Township"),
        "village": _("Village"),
        "category": _("Category"),
        "level": _("Level"),
        "poverty_status": _("Poverty status"),
        "life_status": _("Status"),
    }
    described = [(_("Search"), parameters["q"])] if parameters.get("q") else []
    for key, label in labels.items():
        value = filters.get(key)
        if not value:
            continue
        shown = names.get(value) or choices.get(key, {}).get(_number(value), choices.get(key, {}).get(value))
        described.append((label, str(shown or value)))
    if not filters.get("life_status"):
        described.append((_("Status"), _("only people on the registry")))
    return described


def _number(value: str) -> int | str:
    return int(value) if value.isdigit() else value
