"""Pages of households."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from areas.scoping import get_visible_or_404

from ..errors import RegistryError, StaleRecord
from ..forms import DeactivateForm, HouseholdForm, apply_errors
from ..models import (
    Household,
    LifeStatus,
    Person,
    PovertyStatus,
)
from ..selectors import household_search, keyset_page, mask_id_number
from ..services import (
    household_deactivate,
    household_register,
    household_update,
)
from .common import area_names, conflict_rows, county_of, history, int_or_none, township_choices


@login_required
@permission_required("beneficiaries.view_household", raise_exception=True)
@require_GET
def household_list(request):
    filters = {key: request.GET.get(key, "") for key in ("township", "village", "poverty_status")}
    q = request.GET.get("q", "")
    households = household_search(user=request.user, q=q, filters=filters)
    page = keyset_page(
        households,
        after=int_or_none(request.GET.get("after")),
        before=int_or_none(request.GET.get("before")),
    )
    query = {k: v for k, v in {"q": q, **filters}.items() if v}
    context = {
        "page": page,
        "q": q,
        "filters": filters,
        "next_url": f"?{urlencode({**query, 'after': page.next_after})}" if page.next_after else None,
        "prev_url": f"?{urlencode({**query, 'before': page.prev_before})}" if page.prev_before else None,
        "townships": township_choices(request.user),
        "poverty_statuses": PovertyStatus.choices,
        "rows": _household_rows(page.items),
    }
    return render(request, "beneficiaries/household_list.html", context)


def _household_rows(households) -> list[tuple[Household, str, int]]:
    """Each household with its township and village names and how many active members it has."""
    names = area_names(h.village_code for h in households)
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
        "area_name": area_names([household.village_code])[household.village_code],
        "statuses": household.statuses.select_related("recorded_by").order_by("-effective_date", "-id"),
        "history": history(household)[:5],
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
            "history": history(household),
            "back": reverse("registry:household-detail", args=[pk]),
        },
    )


@login_required
@permission_required("beneficiaries.add_household", raise_exception=True)
@require_http_methods(["GET", "POST"])
def household_create(request):
    form = HouseholdForm(request.POST or None, county_code=county_of(request.user))
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
    county = county_of(request.user)
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
            conflict = conflict_rows(Household, stale)
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
