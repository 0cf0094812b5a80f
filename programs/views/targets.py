from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import F, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from areas.scoping import get_visible_or_404

from ..models import Target
from ..services import TargetError, split_children, target_split

YEARS = range(2018, 2021)


@login_required
@permission_required("programs.view_target", raise_exception=True)
@require_GET
def target_list(request):
    raw = request.GET.get("year", "")
    year = int(raw) if raw.isdigit() and int(raw) in YEARS else YEARS[0]
    targets = (
        Target.objects.visible_to(request.user)
        .filter(year=year, area_id=request.user.area.code)
        .select_related("benefit_type__measure", "area")
        .annotate(allocated=Coalesce(Sum("children__quantity"), 0))
        .annotate(remaining=F("quantity") - F("allocated"))
        .order_by("benefit_type_id")
    )
    can_split = request.user.has_perm("programs.change_target") and bool(split_children(request.user.area))
    context = {"targets": targets, "year": year, "years": YEARS, "can_split": can_split}
    return render(request, "programs/target_list.html", context)


def _splittable(request, pk: int) -> Target:
    target = get_visible_or_404(Target, request.user, pk=pk)
    if target.area_id != request.user.area.code:
        raise Http404  # a target is split by the office of its own area
    return target


def _rows(target: Target, data=None) -> list[dict]:
    current = {t.area_id: t for t in target.children.annotate(below=Coalesce(Sum("children__quantity"), 0))}
    rows = []
    for area in split_children(target.area):
        child = current.get(area.code)
        value = data.get(f"q_{area.code}", "") if data is not None else (child.quantity if child else "")
        rows.append({"area": area, "value": value, "below": child.below if child else 0})
    return rows


def _requested(target: Target, data) -> dict[str, int]:
    """The quantities typed in; a blank or a non-number is left out (the form says so)."""
    allocations = {}
    for area in split_children(target.area):
        raw = (data.get(f"q_{area.code}") or "").strip()
        if raw.isdigit():
            allocations[area.code] = int(raw)
    return allocations


@login_required
@permission_required("programs.change_target", raise_exception=True)
@require_http_methods(["GET", "POST"])
def target_split_page(request, pk: int):
    target = _splittable(request, pk)
    if request.method == "POST":
        try:
            target_split(actor=request.user, target=target, allocations=_requested(target, request.POST))
        except TargetError as error:
            messages.error(request, error.message)
            return render(request, "programs/target_split.html", _split_context(target, request.POST))
        messages.success(request, _("The split is saved."))
        return redirect("programs:target-split", pk=target.pk)
    return render(request, "programs/target_split.html", _split_context(target))


def _split_context(target: Target, data=None) -> dict:
    rows = _rows(target, data)
    given = sum(int(r["value"]) for r in rows if str(r["value"]).isdigit())
    remaining = target.quantity - given
    return {"target": target, "rows": rows, "given": given, "remaining": remaining, "over": -remaining}


@login_required
@permission_required("programs.change_target", raise_exception=True)
@require_POST
def target_split_remainder(request, pk: int):
    """The running remainder while the office types (htmx)."""
    target = _splittable(request, pk)
    return render(request, "programs/_remainder.html", _split_context(target, request.POST))


urlpatterns = [
    path("targets/", target_list, name="target-list"),
    path("targets/<int:pk>/split/", target_split_page, name="target-split"),
    path("targets/<int:pk>/split/remainder/", target_split_remainder, name="target-remainder"),
]
