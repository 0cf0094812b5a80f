"""Pages of the inspection ledger (M01): inspections with their findings and items, the rectification
ledger, an item with its progress, evidence and closing. Rules are in programs/inspections.py."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from areas.models import Area, AreaLevel
from areas.scoping import get_visible_or_404
from beneficiaries.errors import RegistryError, StaleRecord
from beneficiaries.forms import apply_errors
from beneficiaries.views.common import conflict_rows
from poverty_relief.responses import xlsx_response

from ..inspection_ledger import ledger_title, ledger_workbook
from ..inspections import (
    area_label,
    evidence_add,
    evidence_download_name,
    finding_add,
    inspectable_areas,
    inspection_create,
    inspection_kinds,
    inspection_search,
    is_overdue,
    item_areas,
    may_close,
    may_manage,
    rectification_add,
    rectification_close,
    rectification_counts,
    rectification_search,
    rectification_update,
)
from ..models import Evidence, Finding, Inspection, InspectionKind, Rectification, RectificationStatus

PAGE_SIZE = 50
FIRST_YEAR = 2018
TEXTAREA = forms.Textarea(attrs={"rows": 3})
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# -- forms: they render and coerce; the rules and their messages are the services' -------------------


class InspectionForm(forms.Form):
    area = forms.ChoiceField(label=gettext_lazy("Area inspected"))
    kind = forms.ChoiceField(label=gettext_lazy("Inspection type"))
    date = forms.DateField(label=gettext_lazy("Inspection date"), required=False, widget=DATE_INPUT)
    team = forms.CharField(
        label=gettext_lazy("Inspection team"),
        required=False,
        help_text=gettext_lazy("Who inspected, e.g. 市残联第二督查组."),
    )
    subject = forms.CharField(label=gettext_lazy("Subject"), required=False)
    summary = forms.CharField(label=gettext_lazy("Summary"), required=False, widget=TEXTAREA)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [(a.code, a.name) for a in inspectable_areas(actor)]
        self.fields["kind"].choices = [(k.value, k.label) for k in inspection_kinds(actor)]


class FindingForm(forms.Form):
    description = forms.CharField(label=gettext_lazy("Problem found"), required=False, widget=TEXTAREA)


class ItemForm(forms.Form):
    finding = forms.TypedChoiceField(label=gettext_lazy("Problem found"), coerce=int)
    area = forms.ChoiceField(label=gettext_lazy("Area"))
    issue = forms.CharField(label=gettext_lazy("Rectification item"), required=False, widget=TEXTAREA)
    responsible_unit = forms.CharField(label=gettext_lazy("Responsible unit"), required=False)
    deadline = forms.DateField(label=gettext_lazy("Deadline"), required=False, widget=DATE_INPUT)

    def __init__(self, *args, inspection: Inspection, findings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["finding"].choices = [
            (f.pk, f"{number}. {f.description[:40]}") for number, f in enumerate(findings, start=1)
        ]
        self.fields["area"].choices = [(a.code, a.name) for a in item_areas(inspection)]
        if findings and not self.is_bound:
            self.initial.setdefault("finding", findings[-1].pk)


class ProgressForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        choices=[
            (RectificationStatus.OPEN.value, RectificationStatus.OPEN.label),
            (RectificationStatus.IN_PROGRESS.value, RectificationStatus.IN_PROGRESS.label),
        ],
    )
    progress_note = forms.CharField(
        label=gettext_lazy("Progress"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("What has been done so far, and what remains."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class EvidenceForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Evidence file"),
        help_text=gettext_lazy("PDF, JPEG or PNG photo, Excel (.xlsx) or Word (.docx); at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.xlsx,.docx"}),
    )


class CloseForm(forms.Form):
    closing_note = forms.CharField(
        label=gettext_lazy("How it was rectified"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


# -- helpers ---------------------------------------------------------------------------------------------


def _filters(request, keys) -> dict[str, str]:
    return {key: request.GET.get(key, "").strip() for key in keys}


def _years() -> list[int]:
    return list(range(timezone.localdate().year, FIRST_YEAR - 1, -1))


def filter_areas(user) -> list[Area]:
    """The areas a ledger can be narrowed to: the cities and counties for the province, the counties for
    a city, the townships for a county."""
    below = {
        AreaLevel.PROVINCE: (AreaLevel.CITY, AreaLevel.COUNTY),
        AreaLevel.CITY: (AreaLevel.COUNTY,),
        AreaLevel.COUNTY: (AreaLevel.TOWNSHIP,),
    }.get(getattr(user.area, "level", None), ())
    return list(Area.objects.visible_to(user).filter(level__in=below).order_by("code"))


def _page(request, queryset):
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    return page, urlencode(query)


# -- inspections -----------------------------------------------------------------------------------------


@login_required
@permission_required("programs.view_inspection", raise_exception=True)
@require_GET
def inspection_list(request):
    filters = _filters(request, ("kind", "year", "status"))
    page, query = _page(request, inspection_search(user=request.user, filters=filters))
    context = {
        "page": page,
        "query": query,
        "filters": filters,
        "kinds": InspectionKind.choices,
        "years": _years(),
        "statuses": [
            ("open", _("With items not closed")),
            ("overdue", _("With overdue items")),
            ("closed", _("All items closed")),
        ],
        "can_create": request.user.has_perm("programs.add_inspection")
        and inspectable_areas(request.user).exists(),
    }
    return render(request, "programs/inspections/inspection_list.html", context)


@login_required
@permission_required("programs.add_inspection", raise_exception=True)
@require_http_methods(["GET", "POST"])
def inspection_create_page(request):
    if not inspectable_areas(request.user).exists():
        raise PermissionDenied
    kinds = inspection_kinds(request.user)
    kind = InspectionKind.SPOT_CHECK if InspectionKind.SPOT_CHECK in kinds else kinds[0]
    initial = {"area": request.user.area.code, "kind": kind, "date": timezone.localdate()}
    form = InspectionForm(request.POST or None, actor=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            inspection = inspection_create(actor=request.user, data=form.cleaned_data)
        except RegistryError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The inspection is recorded. Now add what it found."))
            return redirect("programs:inspection-detail", pk=inspection.pk)
    return render(request, "programs/inspections/inspection_form.html", {"form": form})


def _inspection_context(request, inspection: Inspection, *, finding_form=None, item_form=None) -> dict:
    findings = list(inspection.findings.order_by("id"))
    items = (
        Rectification.objects.visible_to(request.user)
        .filter(finding__inspection=inspection)
        .select_related("area")
        .order_by("id")
    )
    today = timezone.localdate()
    by_finding: dict[int, list] = {}
    for item in items:
        item.overdue = is_overdue(item, today)
        by_finding.setdefault(item.finding_id, []).append(item)
    for finding in findings:
        finding.items = by_finding.get(finding.pk, [])
    user = request.user
    can_add_finding = may_manage(user, inspection, "programs.add_finding")
    can_add_item = may_manage(user, inspection, "programs.add_rectification") and bool(findings)
    return {
        "inspection": inspection,
        "findings": findings,
        "item_count": sum(len(f.items) for f in findings),
        "overdue_count": sum(1 for f in findings for i in f.items if i.overdue),
        "can_add_finding": can_add_finding,
        "can_add_item": can_add_item,
        "finding_form": finding_form or (FindingForm() if can_add_finding else None),
        "item_form": item_form
        or (ItemForm(inspection=inspection, findings=findings) if can_add_item else None),
    }


def _visible_inspection(request, pk: int) -> Inspection:
    queryset = Inspection.objects.select_related("area", "created_by").visible_to(request.user)
    try:
        return queryset.get(pk=pk)
    except Inspection.DoesNotExist as exc:
        raise Http404 from exc


@login_required
@permission_required("programs.view_inspection", raise_exception=True)
@require_GET
def inspection_detail(request, pk: int):
    inspection = _visible_inspection(request, pk)
    return render(
        request, "programs/inspections/inspection_detail.html", _inspection_context(request, inspection)
    )


@login_required
@permission_required("programs.add_finding", raise_exception=True)
@require_POST
def finding_add_page(request, pk: int):
    inspection = _visible_inspection(request, pk)
    if not may_manage(request.user, inspection, "programs.add_finding"):
        raise PermissionDenied
    form = FindingForm(request.POST)
    if form.is_valid():
        try:
            finding_add(actor=request.user, inspection=inspection, data=form.cleaned_data)
        except RegistryError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The problem is added. Add the items that rectify it."))
            return redirect(f"{_detail_url(inspection)}#add-item")
    context = _inspection_context(request, inspection, finding_form=form)
    return render(request, "programs/inspections/inspection_detail.html", context)


def _detail_url(inspection: Inspection) -> str:
    return reverse("programs:inspection-detail", args=[inspection.pk])


@login_required
@permission_required("programs.add_rectification", raise_exception=True)
@require_POST
def item_add_page(request, pk: int):
    inspection = _visible_inspection(request, pk)
    if not may_manage(request.user, inspection, "programs.add_rectification"):
        raise PermissionDenied
    findings = list(inspection.findings.order_by("id"))
    form = ItemForm(request.POST, inspection=inspection, findings=findings)
    if form.is_valid():
        finding = Finding.objects.get(pk=form.cleaned_data["finding"])
        try:
            rectification_add(actor=request.user, finding=finding, data=form.cleaned_data)
        except RegistryError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The rectification item is added to the ledger."))
            return redirect(_detail_url(inspection))
    context = _inspection_context(request, inspection, item_form=form)
    return render(request, "programs/inspections/inspection_detail.html", context)


# -- the ledger ------------------------------------------------------------------------------------------

LEDGER_FILTERS = ("status", "overdue", "area", "year", "kind", "inspection")


@login_required
@permission_required("programs.view_rectification", raise_exception=True)
@require_GET
def rectification_list(request):
    filters = _filters(request, LEDGER_FILTERS)
    items = rectification_search(user=request.user, filters=filters)
    page, query = _page(request, items)
    for item in page:
        item.place = area_label(item.area)
    export_query = urlencode({k: v for k, v in filters.items() if v})
    context = {
        "page": page,
        "query": query,
        "export_query": export_query,
        "filters": filters,
        "counts": rectification_counts(items),
        "statuses": RectificationStatus.choices,
        "kinds": InspectionKind.choices,
        "years": _years(),
        "areas": filter_areas(request.user),
        "start": page.start_index(),
    }
    return render(request, "programs/inspections/rectification_list.html", context)


@login_required
@permission_required("programs.view_rectification", raise_exception=True)
@require_GET
def ledger_export(request):
    """The ledger of what the list shows (the same filters), every row, not one page."""
    filters = _filters(request, LEDGER_FILTERS)
    items = rectification_search(user=request.user, filters=filters).order_by(
        "finding__inspection__date", "finding__inspection_id", "finding_id", "id"
    )
    chosen = (
        Area.objects.visible_to(request.user).filter(code=filters["area"]).first()
        if filters["area"]
        else None
    )
    area = chosen or request.user.area
    subtitle = _describe(filters, chosen)
    content = ledger_workbook(items, area_name=area.name, subtitle=subtitle)
    return xlsx_response(content, f"{ledger_title(area.name)}-{timezone.localdate():%Y%m%d}.xlsx")


def _describe(filters: dict, area: Area | None) -> str:
    """The filters in words, for the workbook's second row."""
    parts = []
    if filters["year"]:
        parts.append(_("Year: %(year)s.") % {"year": filters["year"]})
    if filters["kind"] in InspectionKind.values:
        parts.append(_("Inspection type: %(kind)s.") % {"kind": InspectionKind(filters["kind"]).label})
    if filters["status"] in RectificationStatus.values:
        parts.append(_("Status: %(status)s.") % {"status": RectificationStatus(filters["status"]).label})
    if filters["overdue"]:
        parts.append(_("Overdue items only."))
    if area is not None:
        parts.append(_("Area: %(area)s.") % {"area": area.name})
    return " ".join(parts)


# -- an item ---------------------------------------------------------------------------------------------


def _visible_item(request, pk: int) -> Rectification:
    queryset = Rectification.objects.select_related(
        "area__parent__parent", "finding__inspection__area", "created_by", "closed_by"
    )
    try:
        return queryset.visible_to(request.user).get(pk=pk)
    except Rectification.DoesNotExist as exc:
        raise Http404 from exc


def _item_context(request, item: Rectification, **forms_) -> dict:
    user = request.user
    is_closed = item.status == RectificationStatus.CLOSED
    evidence = list(item.evidence.select_related("uploaded_by").order_by("id"))
    inspection = item.finding.inspection
    can_progress = user.has_perm("programs.change_rectification") and not is_closed
    can_upload = user.has_perm("programs.add_evidence") and not is_closed
    can_close = not is_closed and may_close(user, item)
    initial_status = (
        RectificationStatus.IN_PROGRESS if item.status == RectificationStatus.OPEN else item.status
    )
    return {
        "item": item,
        "inspection": inspection,
        "inspection_visible": Inspection.objects.visible_to(user).filter(pk=inspection.pk).exists(),
        "overdue": is_overdue(item),
        "due_today": not is_closed and item.deadline == timezone.localdate(),
        "days_overdue": (timezone.localdate() - item.deadline).days,
        "evidence": evidence,
        "can_progress": can_progress,
        "can_upload": can_upload,
        "can_close": can_close,
        "close_blocked_by_county": not is_closed
        and user.has_perm("programs.close_rectification")
        and not can_close,
        "progress_form": (
            forms_.get("progress_form")
            or ProgressForm(
                initial={
                    "status": initial_status,
                    "progress_note": item.progress_note,
                    "version": item.version,
                }
            )
        )
        if can_progress
        else None,
        "evidence_form": (forms_.get("evidence_form") or EvidenceForm()) if can_upload else None,
        "close_form": (forms_.get("close_form") or CloseForm(initial={"version": item.version}))
        if can_close
        else None,
        "conflict": forms_.get("conflict"),
        "conflict_in": forms_.get("conflict_in"),
        "area_label": area_label(item.area),
    }


def _item_page(request, item, status=200, **forms_):
    return render(
        request,
        "programs/inspections/rectification_detail.html",
        _item_context(request, item, **forms_),
        status=status,
    )


@login_required
@permission_required("programs.view_rectification", raise_exception=True)
@require_GET
def rectification_detail(request, pk: int):
    return _item_page(request, _visible_item(request, pk))


@login_required
@permission_required("programs.change_rectification", raise_exception=True)
@require_POST
def progress_page(request, pk: int):
    item = _visible_item(request, pk)
    form = ProgressForm(request.POST)
    conflict = None
    if form.is_valid():
        try:
            rectification_update(
                actor=request.user,
                item=item,
                data=form.cleaned_data,
                expected_version=form.cleaned_data["version"],
            )
        except StaleRecord as stale:
            conflict = conflict_rows(Rectification, stale)
            form.add_error(None, stale.message)
        except RegistryError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The progress is saved."))
            return redirect("programs:rectification-detail", pk=item.pk)
    item.refresh_from_db()  # what is stored now, whatever went wrong
    return _item_page(request, item, progress_form=form, conflict=conflict, conflict_in="progress")


@login_required
@permission_required("programs.add_evidence", raise_exception=True)
@require_POST
def evidence_upload(request, pk: int):
    item = _visible_item(request, pk)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            evidence_add(actor=request.user, item=item, upload=form.cleaned_data["file"])
        except RegistryError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The file is attached."))
            return redirect("programs:rectification-detail", pk=item.pk)
    return _item_page(request, item, evidence_form=form)


@login_required
@permission_required("programs.close_rectification", raise_exception=True)
@require_POST
def close_page(request, pk: int):
    item = _visible_item(request, pk)
    if not may_close(request.user, item):
        raise PermissionDenied
    form = CloseForm(request.POST)
    conflict = None
    if form.is_valid():
        try:
            rectification_close(
                actor=request.user,
                item=item,
                closing_note=form.cleaned_data["closing_note"],
                expected_version=form.cleaned_data["version"],
            )
        except StaleRecord as stale:
            conflict = conflict_rows(Rectification, stale)
            form.add_error(None, stale.message)
        except RegistryError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The item is closed."))
            return redirect("programs:rectification-detail", pk=item.pk)
    item.refresh_from_db()
    return _item_page(request, item, close_form=form, conflict=conflict, conflict_in="close")


@login_required
@permission_required("programs.view_evidence", raise_exception=True)
@require_GET
def evidence_download(request, pk: int, evidence_pk: int):
    """A file as an attachment of its checked type, never rendered by the browser in this site."""
    evidence = get_visible_or_404(Evidence, request.user, pk=evidence_pk, rectification_id=pk)
    try:
        # At most 10 MB: read whole, so no file handle outlives the response.
        with evidence.file.open("rb") as handle:
            content = handle.read()
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    response = HttpResponse(content, content_type=evidence.content_type)
    response["Content-Disposition"] = content_disposition_header(True, evidence_download_name(evidence))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


urlpatterns = [
    path("inspections/", inspection_list, name="inspection-list"),
    path("inspections/new/", inspection_create_page, name="inspection-create"),
    path("inspections/<int:pk>/", inspection_detail, name="inspection-detail"),
    path("inspections/<int:pk>/findings/", finding_add_page, name="finding-add"),
    path("inspections/<int:pk>/items/", item_add_page, name="rectification-add"),
    path("rectifications/", rectification_list, name="rectification-list"),
    path("rectifications/ledger.xlsx", ledger_export, name="rectification-ledger"),
    path("rectifications/<int:pk>/", rectification_detail, name="rectification-detail"),
    path("rectifications/<int:pk>/progress/", progress_page, name="rectification-progress"),
    path("rectifications/<int:pk>/evidence/", evidence_upload, name="evidence-upload"),
    path("rectifications/<int:pk>/evidence/<int:evidence_pk>/", evidence_download, name="evidence-download"),
    path("rectifications/<int:pk>/close/", close_page, name="rectification-close"),
]
