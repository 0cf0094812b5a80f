"""Pages of people: list, detail, forms, live checks, export."""

from io import BytesIO

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from areas.models import Area, AreaLevel
from areas.scoping import get_visible_or_404
from exports.registry import registry_file_name, registry_people, registry_title, registry_write
from poverty_relief.responses import xlsx_response

from ..choices import DisabilityCategory, DisabilityLevel, Gender
from ..errors import DuplicatePerson, RecordInvalid, RegistryError, StaleRecord
from ..forms import PersonForm, StatusForm, TransferForm, apply_errors
from ..models import (
    Household,
    IdNumberView,
    LifeStatus,
    Person,
    PovertyStatus,
    RegistryExport,
)
from ..selectors import PERSON_FILTERS, keyset_page, mask_id_number, person_search
from ..services import (
    person_check,
    person_register,
    person_set_life_status,
    person_update,
    transfer_request,
)
from ..validation import IdValidationError, parse_id_number
from .common import FULL_ID, area_names, conflict_rows, county_of, history, int_or_none, labels


@login_required
@permission_required("beneficiaries.view_person", raise_exception=True)
@require_GET
def person_list(request):
    filters = {key: request.GET.get(key, "") for key in PERSON_FILTERS}
    q = request.GET.get("q", "")
    people = person_search(user=request.user, q=q, filters=filters).select_related("household")
    page = keyset_page(
        people, after=int_or_none(request.GET.get("after")), before=int_or_none(request.GET.get("before"))
    )
    query = {k: v for k, v in {"q": q, **filters}.items() if v}
    context = {
        "rows": _person_rows(page.items),
        "page": page,
        "q": q,
        "filters": filters,
        "next_url": f"?{urlencode({**query, 'after': page.next_after})}" if page.next_after else None,
        "prev_url": f"?{urlencode({**query, 'before': page.prev_before})}" if page.prev_before else None,
        **_place_filters(request.user, filters),
        "categories": DisabilityCategory.choices,
        "levels": DisabilityLevel.choices,
        "life_statuses": LifeStatus.choices,
        "poverty_statuses": PovertyStatus.choices,
    }
    return render(request, "beneficiaries/person_list.html", context)


def _person_rows(people) -> list[dict]:
    names = area_names(p.village_code for p in people)
    gender, category, level = (
        labels(Gender.choices),
        labels(DisabilityCategory.choices),
        labels(DisabilityLevel.choices),
    )
    life, poverty = labels(LifeStatus.choices), labels(PovertyStatus.choices)
    return [
        {
            "pk": p.pk,
            "name": p.name,
            "masked": mask_id_number(p.id_number),
            "gender": gender[p.gender],
            "born": p.birth_date,
            "category": category[p.disability_category],
            "level": level[p.disability_level],
            "place": names[p.village_code],
            "poverty": poverty[p.household.poverty_status] if p.household else None,
            "active": p.life_status == LifeStatus.ACTIVE,
            "life_status": life[p.life_status],
        }
        for p in people
    ]


def _place_filters(user, filters) -> dict:
    """A county user filters by township and village; above a county, by county first."""
    context = {"counties": [], "townships": [], "villages": []}
    county = user.area.code if user.area.level == AreaLevel.COUNTY else filters.get("county")
    if user.area.level != AreaLevel.COUNTY:
        context["counties"] = Area.objects.visible_to(user).counties().order_by("code")
    if county:
        context["townships"] = Area.objects.visible_to(user).filter(
            parent_id=county, level=AreaLevel.TOWNSHIP
        )
    if filters.get("township"):
        context["villages"] = Area.objects.filter(parent_id=filters["township"], level=AreaLevel.VILLAGE)
    return context


@login_required
@permission_required("beneficiaries.view_person", raise_exception=True)
@require_GET
def person_detail(request, pk: int):
    person = get_visible_or_404(Person, request.user, pk=pk)
    show_full = request.user.has_perm(FULL_ID)
    if show_full:
        IdNumberView.objects.create(person=person, viewer=request.user, path=request.path[:200])
    context = {
        "person": person,
        "show_full": show_full,
        "id_number": person.id_number if show_full else mask_id_number(person.id_number),
        "certificate_number": person.certificate_number
        if show_full
        else mask_id_number(person.certificate_number),
        "area_name": area_names([person.village_code])[person.village_code],
        "household": person.household,
        "members": person.household.members.exclude(pk=person.pk).order_by("pk") if person.household else [],
        "status_changes": person.status_changes.select_related("recorded_by").order_by(
            "-effective_date", "-id"
        ),
        "transfers": person.transfers.order_by("-requested_at")[:5],
        "history": history(person, whole_numbers=show_full)[:5],
        "can_edit": request.user.has_perm("beneficiaries.change_person")
        and person.county_code == getattr(request.user.area, "code", None),
    }
    return render(request, "beneficiaries/person_detail.html", context)


@login_required
@permission_required("beneficiaries.view_person", raise_exception=True)
@require_GET
def person_history(request, pk: int):
    person = get_visible_or_404(Person, request.user, pk=pk)
    return render(
        request,
        "beneficiaries/history.html",
        {
            "record": person,
            "history": history(person, whole_numbers=request.user.has_perm(FULL_ID)),
            "back": reverse("registry:person-detail", args=[pk]),
        },
    )


@login_required
@permission_required("beneficiaries.add_person", raise_exception=True)
@require_http_methods(["GET", "POST"])
def person_create(request):
    county = county_of(request.user)
    household = None
    if household_id := int_or_none(request.GET.get("household") or request.POST.get("household")):
        household = get_visible_or_404(Household, request.user, pk=household_id)
    initial = (
        {
            "household": household.pk,
            "township_code": household.township_code,
            "village_code": household.village_code,
        }
        if household
        else {}
    )
    form = PersonForm(request.POST or None, county_code=county, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            person = person_register(actor=request.user, data=form.service_data())
        except RegistryError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("%(name)s is registered.") % {"name": person.name})
            for warning in parse_id_number(person.id_number).warnings:
                messages.warning(request, warning)
            if household is not None:
                return redirect("registry:household-detail", pk=household.pk)
            return redirect("registry:person-detail", pk=person.pk)
    return render(
        request, "beneficiaries/person_form.html", {"form": form, "household": household, "creating": True}
    )


@login_required
@permission_required("beneficiaries.change_person", raise_exception=True)
@require_http_methods(["GET", "POST"])
def person_edit(request, pk: int):
    person = get_visible_or_404(Person, request.user, pk=pk)
    county = county_of(request.user)
    if person.county_code != county:
        raise Http404
    initial = {name: getattr(person, name) for name in (
        "name", "id_number", "certificate_number", "disability_category", "disability_level",
        "township_code", "village_code", "relation_to_head", "phone", "is_employed", "work_injury_nursing",
        "version")}  # fmt: skip
    initial["household"] = person.household_id
    form = PersonForm(request.POST or None, county_code=county, initial=initial)
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            person_update(
                actor=request.user,
                person=person,
                data=form.service_data(),
                expected_version=form.cleaned_data["version"] or 0,
            )
        except StaleRecord as stale:
            conflict = conflict_rows(Person, stale)
            form.add_error(None, stale.message)
        except RegistryError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("registry:person-detail", pk=person.pk)
    return render(
        request,
        "beneficiaries/person_form.html",
        {"form": form, "person": person, "conflict": conflict, "household": person.household},
    )


@login_required
@permission_required("beneficiaries.change_person", raise_exception=True)
@require_http_methods(["GET", "POST"])
def person_status(request, pk: int):
    person = get_visible_or_404(Person, request.user, pk=pk)
    form = StatusForm(
        request.POST or None, initial={"version": person.version, "life_status": person.life_status}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person_set_life_status(
                actor=request.user,
                person=person,
                status=LifeStatus(data["life_status"]),
                effective_date=data["effective_date"],
                reason=data["reason"],
                expected_version=data["version"],
            )
        except RegistryError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The status is saved."))
            return redirect("registry:person-detail", pk=person.pk)
    return render(request, "beneficiaries/person_status.html", {"form": form, "person": person})


@login_required
@permission_required("beneficiaries.add_transferrequest", raise_exception=True)
@require_http_methods(["GET", "POST"])
def person_transfer(request, pk: int):
    person = get_visible_or_404(Person, request.user, pk=pk)
    form = TransferForm(request.POST or None, exclude_county=person.county_code)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            transfer_request(actor=request.user, person=person, data=data, reason=data["reason"])
        except RegistryError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The transfer request is sent; the receiving county decides."))
            return redirect("registry:person-detail", pk=person.pk)
    return render(request, "beneficiaries/person_transfer.html", {"form": form, "person": person})


@login_required
@permission_required("beneficiaries.add_person", raise_exception=True)
@require_POST
def person_live_check(request):
    """The form's live check: derived gender and birth date, the ID's problems, and who holds it."""
    context = {}
    raw = request.POST.get("id_number", "").strip()
    if raw:
        try:
            identity = parse_id_number(raw)
            context["identity"] = identity
        except IdValidationError as error:
            context["id_error"] = str(error)
    if "identity" in context:
        try:
            data = {**request.POST.dict(), "county_code": getattr(request.user.area, "code", "")}
            person_check(actor=request.user, data=data, instance=_editing(request))
        except DuplicatePerson as duplicate:
            context["duplicate"] = duplicate.message
        except RecordInvalid as invalid:
            context["certificate_error"] = (invalid.errors.get("certificate_number") or [None])[0]
    return render(request, "beneficiaries/_live_check.html", context)


def _editing(request) -> Person | None:
    pk = int_or_none(request.POST.get("person"))
    return Person.objects.visible_to(request.user).filter(pk=pk).first() if pk else None


@login_required
@require_GET
def area_options(request):
    """<option>s of the next level down, for the chained selects of the forms (the changed select sends
    its own value only)."""
    parent = request.GET.get("township_code") or request.GET.get("county_code") or ""
    levels = [AreaLevel.TOWNSHIP, AreaLevel.VILLAGE]
    areas = Area.objects.filter(parent_id=parent, level__in=levels).order_by("code") if parent else []
    return render(request, "beneficiaries/_area_options.html", {"areas": areas})


@login_required
@permission_required(FULL_ID, raise_exception=True)
@require_GET
def registry_export(request):
    """The county's registry in the roster layout: edit it in Excel and upload it again.

    Written while the request waits; the list's export button starts a background export instead (the
    exports app), which writes the same file through the same code."""
    county = county_of(request.user)
    people = registry_people(request.user, {})
    out = BytesIO()
    rows = registry_write(people, out, title=registry_title(request.user.area), whole_numbers=True)
    RegistryExport.objects.create(exported_by=request.user, county_code=county, rows=rows)
    return xlsx_response(out.getvalue(), registry_file_name(request.user.area))


@login_required
@require_GET
def registry_home(request):
    return redirect("registry:person-list")
