"""The standard amounts page: one table per year, benefit types by disability level, saved in one form."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from areas.models import PROVINCE_CODE

from ..models import BenefitType, Standard
from ..standards import (
    LEVELS,
    StandardError,
    cell_label,
    level_label,
    levels_of,
    parse_amount,
    standard_years,
    standards_for_year,
    standards_save,
)

EDIT = ("programs.add_standard", "programs.change_standard")
DEFAULT_YEAR = 2018


def _field(code: str, level: int | None) -> str:
    return f"a_{code}_{level or 0}"


def _year(raw: str | None) -> int:
    years = standard_years()
    if raw and raw.isdigit() and int(raw) in years:
        return int(raw)
    latest = Standard.objects.order_by("-year").values_list("year", flat=True).first()
    return latest if latest in years else DEFAULT_YEAR


def _types():
    return list(
        BenefitType.objects.filter(is_active=True).select_related("measure").order_by("measure_id", "code")
    )


def _rows(types, stored, data=None, errors=None) -> list[dict]:
    """Each benefit type with its cells: the value shown, the value as opened, and the cell's errors."""
    errors = errors or {}
    rows = []
    for benefit_type in types:
        cells = []
        for level in LEVELS:
            cell = (benefit_type.code, level)
            if level not in levels_of(benefit_type):
                cells.append({"applicable": False})
                continue
            saved = stored.get(cell)
            name = _field(benefit_type.code, level)
            saved_text = f"{saved.amount:.2f}" if saved else ""
            cells.append(
                {
                    "applicable": True,
                    "name": name,
                    "label": cell_label(benefit_type, level),
                    "value": data.get(name, "") if data is not None else saved_text,
                    "opened": data.get(f"o_{name}", saved_text) if data is not None else saved_text,
                    "saved": saved,
                    "errors": errors.get(cell, []),
                }
            )
        rows.append({"type": benefit_type, "cells": cells})
    return rows


def _context(request, year, types, stored, **extra) -> dict:
    return {
        "year": year,
        "years": standard_years(),
        "years_with_amounts": sorted(set(Standard.objects.values_list("year", flat=True))),
        "levels": [level_label(level) for level in LEVELS],
        "can_edit": _can_edit(request.user),
        "rows": _rows(types, stored, extra.pop("data", None), extra.pop("cell_errors", None)),
        **extra,
    }


def _can_edit(user) -> bool:
    return user.has_perms(EDIT) and getattr(user.area, "code", None) == PROVINCE_CODE


@login_required
@permission_required("programs.view_standard", raise_exception=True)
@require_http_methods(["GET", "POST"])
def standard_table(request):
    year = _year(request.POST.get("year") if request.method == "POST" else request.GET.get("year"))
    types = _types()
    stored = standards_for_year(year)
    if request.method == "GET":
        return render(request, "programs/standards/table.html", _context(request, year, types, stored))
    if not _can_edit(request.user):
        raise PermissionDenied
    amounts, opened, cell_errors = {}, {}, {}
    labels = {}
    for benefit_type in types:
        for level in levels_of(benefit_type):
            cell, name = (benefit_type.code, level), _field(benefit_type.code, level)
            labels[cell] = cell_label(benefit_type, level)
            if name not in request.POST:
                continue  # a cell the form did not send stays as it is
            try:
                amounts[cell] = parse_amount(request.POST[name])
            except ValueError:
                cell_errors[cell] = [
                    _("%(cell)s: enter an amount in yuan, such as 80 or 80.50, or leave it blank.")
                    % {"cell": labels[cell]}
                ]
            try:
                if f"o_{name}" in request.POST:
                    opened[cell] = parse_amount(request.POST[f"o_{name}"])
            except ValueError:
                pass  # a tampered "as opened" value: no conflict check for that cell
    page = {"data": request.POST, "cell_errors": cell_errors}
    if cell_errors:
        return _refused(request, year, types, stored, cell_errors, page)
    removals = [cell for cell, amount in amounts.items() if amount is None and cell in stored]
    decision = request.POST.get("blank")
    if removals and decision not in ("remove", "keep"):
        # Emptying a saved amount removes it: say which, and let the office decide before anything is written.
        confirm = [(labels[cell], stored[cell].amount) for cell in removals]
        return render(
            request,
            "programs/standards/table.html",
            _context(request, year, types, stored, confirm=confirm, **page),
        )
    if decision == "keep":
        for cell in removals:
            del amounts[cell]
    try:
        changes = standards_save(actor=request.user, year=year, amounts=amounts, opened=opened)
    except StandardError as error:
        return _refused(request, year, types, stored, error.errors, page)
    _report(request, year, changes, kept=len(removals) if decision == "keep" else 0)
    return redirect(f"{reverse('programs:standard-table')}?year={year}")


def _refused(request, year, types, stored, errors, page):
    page["cell_errors"] = {cell: messages_ for cell, messages_ in errors.items() if cell is not None}
    problems = [message for messages_ in errors.values() for message in messages_]
    return render(
        request,
        "programs/standards/table.html",
        _context(request, year, types, stored, problems=problems, **page),
        status=200,
    )


def _report(request, year, changes, kept: int) -> None:
    if not changes and not kept:
        messages.info(request, _("Nothing changed: the amounts are as they were."))
        return
    entered = [c for c in changes if c.before is None and c.after is not None]
    changed = [c for c in changes if c.before is not None and c.after is not None]
    removed = [c for c in changes if c.removed]
    messages.success(
        request,
        _("%(year)s standard amounts saved: %(entered)s entered, %(changed)s changed, %(removed)s removed.")
        % {"year": year, "entered": len(entered), "changed": len(changed), "removed": len(removed)},
    )
    for change in removed:
        messages.warning(
            request,
            _("Removed: %(cell)s (was %(before)s yuan).")
            % {"cell": cell_label(change.benefit_type, change.level), "before": change.before},
        )
    if kept:
        messages.info(
            request,
            ngettext(
                "%(count)s emptied amount was kept as saved.",
                "%(count)s emptied amounts were kept as saved.",
                kept,
            )
            % {"count": kept},
        )


urlpatterns = [path("standards/", standard_table, name="standard-table")]
