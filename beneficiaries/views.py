from io import BytesIO

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from areas.models import Area, AreaLevel
from areas.scoping import get_visible_or_404
from poverty_relief.responses import xlsx_response

from .choices import DisabilityCategory, DisabilityLevel, Gender
from .errors import DuplicatePerson, RecordInvalid, RegistryError, StaleRecord
from .forms import DeactivateForm, HouseholdForm, PersonForm, StatusForm, TransferForm, apply_errors
from .models import (
    Household,
    IdNumberView,
    LifeStatus,
    Person,
    PovertyStatus,
    TransferRequest,
    TransferStatus,
)
from .roster_workbooks import person_export_rows, roster_title, write_roster
from .selectors import PERSON_FILTERS, household_search, keyset_page, mask_id_number, person_search
from .services import (
    household_deactivate,
    household_register,
    household_update,
    person_check,
    person_register,
    person_set_life_status,
    person_update,
    transfer_decide,
    transfer_request,
)
from .validation import IdValidationError, parse_id_number

FULL_ID = "beneficiaries.view_full_id_number"


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _county_of(user) -> str:
    """Writing pages work inside one county: the user's own."""
    if user.area is None or user.area.level != AreaLevel.COUNTY:
        raise PermissionDenied
    return user.area.code


def _township_choices(user):
    return Area.objects.visible_to(user).filter(level=AreaLevel.TOWNSHIP).order_by("code")


@login_required
@permission_required("beneficiaries.view_person", raise_exception=True)
@require_GET
def person_list(request):
    filters = {key: request.GET.get(key, "") for key in PERSON_FILTERS}
    q = request.GET.get("q", "")
    people = person_search(user=request.user, q=q, filters=filters).select_related("household")
    page = keyset_page(
        people, after=_int_or_none(request.GET.get("after")), before=_int_or_none(request.GET.get("before"))
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


def _labels(choices) -> dict:
    # Resolved once per request: a lazy label per cell costs more than the query of the page.
    return {value: str(label) for value, label in choices}


def _person_rows(people) -> list[dict]:
    names = _area_names(p.village_code for p in people)
    gender, category, level = (
        _labels(Gender.choices),
        _labels(DisabilityCategory.choices),
        _labels(DisabilityLevel.choices),
    )
    life, poverty = _labels(LifeStatus.choices), _labels(PovertyStatus.choices)
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


def _area_names(codes) -> dict[str, str]:
    codes = set(codes)
    names = dict(Area.objects.filter(code__in=codes | {c[:9] for c in codes}).values_list("code", "name"))
    return {code: f"{names.get(code[:9], '')} {names.get(code, '')}".strip() for code in codes}


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
        "area_name": _area_names([person.village_code])[person.village_code],
        "household": person.household,
        "members": person.household.members.exclude(pk=person.pk).order_by("pk") if person.household else [],
        "status_changes": person.status_changes.select_related("recorded_by").order_by(
            "-effective_date", "-id"
        ),
        "transfers": person.transfers.order_by("-requested_at")[:5],
        "history": _history(person)[:5],
        "can_edit": request.user.has_perm("beneficiaries.change_person")
        and person.county_code == getattr(request.user.area, "code", None),
    }
    return render(request, "beneficiaries/person_detail.html", context)


HISTORY_SKIP = {
    "pgh_id",
    "pgh_created_at",
    "pgh_label",
    "pgh_obj",
    "pgh_obj_id",
    "pgh_context",
    "pgh_context_id",
    "id",
    "version",
    "created_at",
    "updated_at",
}


def _history(record) -> list[dict]:
    """Each saved version of the record, newest first, with what it changed and who saved it."""
    from accounts.models import User

    events = list(record.events.select_related("pgh_context").order_by("pgh_id"))
    user_ids = {e.pgh_context.metadata.get("user") for e in events if e.pgh_context}
    users = {u.pk: u for u in User.objects.filter(pk__in=[u for u in user_ids if u])}
    fields = [f for f in record._meta.concrete_fields if f.name not in HISTORY_SKIP]
    rows, previous = [], None
    for event in events:
        changes = []
        for f in fields:
            after = getattr(event, f.attname)
            before = getattr(previous, f.attname) if previous else None
            if previous is None or before != after:
                changes.append((f.verbose_name, _display(f, before), _display(f, after)))
        context = event.pgh_context.metadata if event.pgh_context else {}
        rows.append(
            {
                "when": event.pgh_created_at,
                "label": event.pgh_label,
                "actor": users.get(context.get("user")),
                "url": context.get("url", ""),
                "version": event.version,
                "changes": changes,
            }
        )
        previous = event
    return rows[::-1]


def _display(field, value) -> str:
    if value is None or value == "":
        return "—"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field.name in ("id_number", "certificate_number"):
        return mask_id_number(value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


@login_required
@permission_required("beneficiaries.view_person", raise_exception=True)
@require_GET
def person_history(request, pk: int):
    person = get_visible_or_404(Person, request.user, pk=pk)
    return render(
        request,
        "beneficiaries/history.html",
        {"record": person, "history": _history(person), "back": reverse("registry:person-detail", args=[pk])},
    )


@login_required
@permission_required("beneficiaries.add_person", raise_exception=True)
@require_http_methods(["GET", "POST"])
def person_create(request):
    county = _county_of(request.user)
    household = None
    if household_id := _int_or_none(request.GET.get("household") or request.POST.get("household")):
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
    county = _county_of(request.user)
    if person.county_code != county:
        raise Http404
    initial = {name: getattr(person, name) for name in (
        "name", "id_number", "certificate_number", "disability_category", "disability_level",
        "township_code", "village_code", "relation_to_head", "phone", "version")}  # fmt: skip
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
            conflict = _conflict_rows(Person, stale)
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


def _conflict_rows(model, stale: StaleRecord) -> list[tuple[str, str, str]]:
    rows = []
    for name, (opened, current) in stale.changes.items():
        field = model._meta.get_field(name)
        rows.append((field.verbose_name, _display(field, opened), _display(field, current)))
    return rows


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
    pk = _int_or_none(request.POST.get("person"))
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
@permission_required("beneficiaries.view_household", raise_exception=True)
@require_GET
def household_list(request):
    filters = {key: request.GET.get(key, "") for key in ("township", "village", "poverty_status")}
    q = request.GET.get("q", "")
    households = household_search(user=request.user, q=q, filters=filters)
    page = keyset_page(
        households,
        after=_int_or_none(request.GET.get("after")),
        before=_int_or_none(request.GET.get("before")),
    )
    query = {k: v for k, v in {"q": q, **filters}.items() if v}
    context = {
        "page": page,
        "q": q,
        "filters": filters,
        "next_url": f"?{urlencode({**query, 'after': page.next_after})}" if page.next_after else None,
        "prev_url": f"?{urlencode({**query, 'before': page.prev_before})}" if page.prev_before else None,
        "townships": _township_choices(request.user),
        "poverty_statuses": PovertyStatus.choices,
        "rows": _household_rows(page.items),
    }
    return render(request, "beneficiaries/household_list.html", context)


def _household_rows(households) -> list[tuple[Household, str, int]]:
    """Each household with its township and village names and how many active members it has."""
    names = _area_names(h.village_code for h in households)
    counts = dict(
        Person.objects.filter(household__in=households, life_status=LifeStatus.ACTIVE)
        .values("household")
        .annotate(n=Count("id"))
        .values_list("household", "n")
    )
    return [(h, names[h.village_code], counts.get(h.pk, 0)) for h in households]


@login_required
@permission_required("beneficiaries.view_household", raise_exception=True)
@require_GET
def household_detail(request, pk: int):
    household = get_visible_or_404(Household, request.user, pk=pk)
    members = [(m, mask_id_number(m.id_number)) for m in household.members.order_by("pk")]
    context = {
        "household": household,
        "members": members,
        "area_name": _area_names([household.village_code])[household.village_code],
        "statuses": household.statuses.select_related("recorded_by").order_by("-effective_date", "-id"),
        "history": _history(household)[:5],
        "can_edit": request.user.has_perm("beneficiaries.change_household")
        and household.county_code == getattr(request.user.area, "code", None),
    }
    return render(request, "beneficiaries/household_detail.html", context)


@login_required
@permission_required("beneficiaries.view_household", raise_exception=True)
@require_GET
def household_history(request, pk: int):
    household = get_visible_or_404(Household, request.user, pk=pk)
    return render(
        request,
        "beneficiaries/history.html",
        {
            "record": household,
            "history": _history(household),
            "back": reverse("registry:household-detail", args=[pk]),
        },
    )


@login_required
@permission_required("beneficiaries.add_household", raise_exception=True)
@require_http_methods(["GET", "POST"])
def household_create(request):
    form = HouseholdForm(request.POST or None, county_code=_county_of(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            household = household_register(
                actor=request.user,
                data=form.service_data(),
                effective_date=form.cleaned_data["effective_date"],
            )
        except RegistryError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The household is registered. Now add its disabled members."))
            return redirect("registry:household-detail", pk=household.pk)
    return render(request, "beneficiaries/household_form.html", {"form": form, "creating": True})


@login_required
@permission_required("beneficiaries.change_household", raise_exception=True)
@require_http_methods(["GET", "POST"])
def household_edit(request, pk: int):
    household = get_visible_or_404(Household, request.user, pk=pk)
    county = _county_of(request.user)
    if household.county_code != county:
        raise Http404
    initial = {name: getattr(household, name) for name in (
        "head_name", "size", "township_code", "village_code", "poverty_status", "exit_year", "is_dibao",
        "is_tekun", "main_cause", "version")}  # fmt: skip
    form = HouseholdForm(request.POST or None, county_code=county, initial=initial)
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            household_update(
                actor=request.user,
                household=household,
                data=form.service_data(),
                expected_version=form.cleaned_data["version"] or 0,
                effective_date=form.cleaned_data["effective_date"],
            )
        except StaleRecord as stale:
            conflict = _conflict_rows(Household, stale)
            form.add_error(None, stale.message)
        except RegistryError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("registry:household-detail", pk=household.pk)
    return render(
        request,
        "beneficiaries/household_form.html",
        {"form": form, "household": household, "conflict": conflict},
    )


@login_required
@permission_required("beneficiaries.change_household", raise_exception=True)
@require_http_methods(["GET", "POST"])
def household_deactivate_page(request, pk: int):
    household = get_visible_or_404(Household, request.user, pk=pk)
    form = DeactivateForm(request.POST or None, initial={"version": household.version})
    if request.method == "POST" and form.is_valid():
        try:
            household_deactivate(
                actor=request.user,
                household=household,
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data["version"],
            )
        except RegistryError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The household is deactivated."))
            return redirect("registry:household-detail", pk=household.pk)
    return render(request, "beneficiaries/household_deactivate.html", {"form": form, "household": household})


@login_required
@permission_required("beneficiaries.view_transferrequest", raise_exception=True)
@require_GET
def transfer_list(request):
    transfers = (
        TransferRequest.objects.visible_to(request.user)
        .select_related("person")
        .order_by("-requested_at")[:200]
    )
    prefix = request.user.area.prefix
    names = dict(
        Area.objects.filter(
            code__in={t.from_county_code for t in transfers} | {t.to_county_code for t in transfers}
        ).values_list("code", "name")
    )
    rows = [
        {
            "transfer": t,
            "incoming": t.to_county_code.startswith(prefix) and not t.from_county_code.startswith(prefix),
            "from_name": names.get(t.from_county_code, t.from_county_code),
            "to_name": names.get(t.to_county_code, t.to_county_code),
            "masked": mask_id_number(t.person.id_number),
        }
        for t in transfers
    ]
    return render(
        request,
        "beneficiaries/transfer_list.html",
        {"rows": rows, "can_decide": request.user.has_perm("beneficiaries.change_transferrequest")},
    )


@login_required
@permission_required("beneficiaries.change_transferrequest", raise_exception=True)
@require_POST
def transfer_answer(request, pk: int):
    transfer = TransferRequest.objects.visible_to(request.user).filter(pk=pk).first()
    if transfer is None:
        raise Http404
    try:
        transfer_decide(
            actor=request.user, transfer=transfer, accept=request.POST.get("decision") == "accept"
        )
    except RegistryError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Accepted: the person is now registered in your county.")
            if transfer.status == TransferStatus.ACCEPTED
            else _("Refused."),
        )
    return redirect("registry:transfer-list")


@login_required
@permission_required(FULL_ID, raise_exception=True)
@require_GET
def registry_export(request):
    """The county's registry in the roster layout: edit it in Excel and upload it again."""
    county = _county_of(request.user)
    people = Person.objects.visible_to(request.user).filter(life_status=LifeStatus.ACTIVE)
    out = BytesIO()
    title = roster_title(request.user.area.name)
    write_roster(person_export_rows(people), out, title=title, subtitle=timezone.localdate().isoformat())
    return xlsx_response(out.getvalue(), f"{title}-{county}.xlsx")


@login_required
@require_GET
def registry_home(request):
    return redirect("registry:person-list")
