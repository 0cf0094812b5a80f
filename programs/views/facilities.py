"""Pages of facilities: list, detail (the people it serves, its recognitions), create and edit."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from areas.models import Area, AreaLevel
from areas.scoping import get_visible_or_404
from beneficiaries.errors import RegistryError, StaleRecord
from beneficiaries.forms import BLANK, LocatedForm, apply_errors
from beneficiaries.selectors import keyset_page, mask_id_number
from beneficiaries.views.common import area_names, county_of, display, int_or_none, labels

from ..facilities import (
    facility_create,
    facility_people,
    facility_recognitions,
    facility_search,
    facility_update,
)
from ..models import EnrollmentStatus, Facility, FacilityKind
from .standards import urlpatterns as standard_urls

FILTERS = ("county", "township", "kind", "active")
PEOPLE_SHOWN = 500


class FacilityForm(LocatedForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100, required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=BLANK + FacilityKind.choices, required=False)
    capacity = forms.IntegerField(
        label=gettext_lazy("Capacity"),
        required=False,
        min_value=0,
        help_text=gettext_lazy("How many people it can take; leave empty if not fixed."),
    )
    address = forms.CharField(label=gettext_lazy("Address"), max_length=200, required=False)
    operator = forms.CharField(label=gettext_lazy("Operated by"), max_length=100, required=False)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=20, required=False)
    is_active = forms.BooleanField(label=gettext_lazy("In operation"), required=False, initial=True)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    field_order = [
        "name",
        "kind",
        "capacity",
        "township_code",
        "village_code",
        "address",
        "operator",
        "phone",
    ]


def _filter_context(user, filters: dict) -> dict:
    """A county user filters by township; above a county, by county first."""
    context = {"counties": [], "townships": []}
    county = user.area.code if user.area.level == AreaLevel.COUNTY else filters.get("county")
    if user.area.level != AreaLevel.COUNTY:
        context["counties"] = Area.objects.visible_to(user).counties().order_by("code")
    if county:
        context["townships"] = Area.objects.visible_to(user).filter(
            parent_id=county, level=AreaLevel.TOWNSHIP
        )
    return context


@login_required
@permission_required("programs.view_facility", raise_exception=True)
@require_GET
def facility_list(request):
    filters = {key: request.GET.get(key, "") for key in FILTERS}
    q = request.GET.get("q", "")
    facilities = facility_search(user=request.user, q=q, filters=filters)
    page = keyset_page(
        facilities, after=int_or_none(request.GET.get("after")), before=int_or_none(request.GET.get("before"))
    )
    query = {k: v for k, v in {"q": q, **filters}.items() if v}
    names = area_names(f.village_code for f in page.items)
    counties = dict(
        Area.objects.filter(code__in={f.county_code for f in page.items}).values_list("code", "name")
    )
    kinds = labels(FacilityKind.choices)
    rows = [
        {
            "facility": f,
            "kind": kinds[f.kind],
            "place": names[f.village_code],
            "county": counties.get(f.county_code, f.county_code),
        }
        for f in page.items
    ]
    context = {
        "rows": rows,
        "q": q,
        "filters": filters,
        "kinds": FacilityKind.choices,
        "next_url": f"?{urlencode({**query, 'after': page.next_after})}" if page.next_after else None,
        "prev_url": f"?{urlencode({**query, 'before': page.prev_before})}" if page.prev_before else None,
        "can_add": request.user.has_perm("programs.add_facility")
        and request.user.area.level == AreaLevel.COUNTY,
        **_filter_context(request.user, filters),
    }
    return render(request, "programs/facilities/list.html", context)


@login_required
@permission_required("programs.view_facility", raise_exception=True)
@require_GET
def facility_detail(request, pk: int):
    facility = get_visible_or_404(Facility, request.user, pk=pk)
    statuses = labels(EnrollmentStatus.choices)
    enrolments = list(facility_people(user=request.user, facility=facility)[: PEOPLE_SHOWN + 1])
    people = [
        {
            "enrolment": e,
            "person": e.person,
            "masked": mask_id_number(e.person.id_number),
            "status": statuses[e.status],
        }
        for e in enrolments[:PEOPLE_SHOWN]
    ]
    recognitions = [
        {"enrolment": e, "status": statuses[e.status]}
        for e in facility_recognitions(user=request.user, facility=facility)
    ]
    county = Area.objects.filter(code=facility.county_code).values_list("name", flat=True).first()
    context = {
        "facility": facility,
        "county_name": county or facility.county_code,
        "area_name": area_names([facility.village_code])[facility.village_code],
        "people": people,
        "more_people": len(enrolments) > PEOPLE_SHOWN,
        "people_shown": PEOPLE_SHOWN,
        "recognitions": recognitions,
        "can_edit": request.user.has_perm("programs.change_facility")
        and facility.county_code == getattr(request.user.area, "code", None),
    }
    return render(request, "programs/facilities/detail.html", context)


@login_required
@permission_required("programs.add_facility", raise_exception=True)
@require_http_methods(["GET", "POST"])
def facility_new(request):
    form = FacilityForm(request.POST or None, county_code=county_of(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            facility = facility_create(actor=request.user, data=form.service_data())
        except RegistryError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("%(name)s is recorded.") % {"name": facility.name})
            return redirect("programs:facility-detail", pk=facility.pk)
    return render(request, "programs/facilities/form.html", {"form": form, "creating": True})


@login_required
@permission_required("programs.change_facility", raise_exception=True)
@require_http_methods(["GET", "POST"])
def facility_edit(request, pk: int):
    facility = get_visible_or_404(Facility, request.user, pk=pk)
    county = county_of(request.user)
    if facility.county_code != county:
        raise Http404  # a city or another county's office does not keep this county's facilities
    initial = {name: getattr(facility, name) for name in (
        "name", "kind", "capacity", "township_code", "village_code", "address", "operator", "phone",
        "is_active", "version")}  # fmt: skip
    form = FacilityForm(request.POST or None, county_code=county, initial=initial)
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            facility_update(
                actor=request.user,
                facility=facility,
                data=form.service_data(),
                expected_version=form.cleaned_data["version"] or 0,
            )
        except StaleRecord as stale:
            conflict = _conflict_rows(stale)
            form.add_error(None, stale.message)
        except RegistryError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("programs:facility-detail", pk=facility.pk)
    return render(
        request, "programs/facilities/form.html", {"form": form, "facility": facility, "conflict": conflict}
    )


def _conflict_rows(stale: StaleRecord) -> list[tuple[str, str, str]]:
    """Field, as opened, as stored now; townships and villages by name."""
    codes = {
        code for name in ("township_code", "village_code") for code in stale.changes.get(name, ()) if code
    }
    places = dict(Area.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}
    rows = []
    for name, (opened, current) in stale.changes.items():
        field = Facility._meta.get_field(name)
        if name in ("township_code", "village_code"):
            rows.append((field.verbose_name, places.get(opened, opened), places.get(current, current)))
        else:
            rows.append((field.verbose_name, display(field, opened), display(field, current)))
    return rows


urlpatterns = [
    path("facilities/", facility_list, name="facility-list"),
    path("facilities/new/", facility_new, name="facility-create"),
    path("facilities/<int:pk>/", facility_detail, name="facility-detail"),
    path("facilities/<int:pk>/edit/", facility_edit, name="facility-edit"),
    *standard_urls,
]
