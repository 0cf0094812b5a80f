"""Writes of the measures' data: the plan's fixtures, province targets, and their split down."""

import json
from dataclasses import dataclass
from pathlib import Path

import pghistory
from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from areas.models import PROVINCE_CODE, Area, AreaLevel

from .models import BenefitType, Measure, Target

PLAN = Path(settings.BASE_DIR) / "fixtures" / "programs" / "plan_2018.json"


class TargetError(Exception):
    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@transaction.atomic
def plan_load(*, path: Path = PLAN) -> dict[str, int]:
    """The eleven measures, their benefit types and the province's 2018 targets (idempotent)."""
    plan = json.loads(path.read_text(encoding="utf-8"))
    for row in plan["measures"]:
        Measure.objects.update_or_create(
            code=row["code"], defaults={"name": row["name"], "short_name": row["short_name"]}
        )
    for row in plan["benefit_types"]:
        fields = {k: row[k] for k in ("name", "unit", "frequency")}
        BenefitType.objects.update_or_create(
            code=row["code"], defaults={**fields, "measure_id": row["measure"]}
        )
    targets = 0
    if Area.objects.filter(code=PROVINCE_CODE).exists():
        for row in plan["province_targets_2018"]:
            Target.objects.get_or_create(
                year=2018, benefit_type_id=row["benefit_type"], area_id=PROVINCE_CODE,
                defaults={"quantity": row["quantity"]},
            )  # fmt: skip
            targets += 1
    return {
        "measures": len(plan["measures"]),
        "benefit_types": len(plan["benefit_types"]),
        "targets": targets,
    }


def split_children(area: Area) -> list[Area]:
    """Where an area's targets go: the province splits to the cities and to the province-managed
    counties; a city splits to its other counties."""
    if area.level == AreaLevel.PROVINCE:
        return list(Area.objects.filter(level=AreaLevel.CITY).order_by("code")) + list(
            Area.objects.filter(level=AreaLevel.COUNTY, is_province_managed=True).order_by("code")
        )
    if area.level == AreaLevel.CITY:
        return list(Area.objects.filter(parent=area, is_province_managed=False).order_by("code"))
    return []


@dataclass(frozen=True)
class Remainder:
    allocated: int
    remaining: int


def target_remainder(target: Target) -> Remainder:
    allocated = target.children.aggregate(total=Sum("quantity"))["total"] or 0
    return Remainder(allocated, target.quantity - allocated)


@transaction.atomic
def target_set(*, actor, year: int, benefit_type: BenefitType | None, quantity: int) -> Target:
    """The province's own target for a year and benefit type (or people out of poverty)."""
    if actor.area is None or actor.area.code != PROVINCE_CODE:
        raise TargetError(_("Only the provincial office sets the province's targets."))
    if quantity < 0:
        raise TargetError(_("Quantity: it cannot be negative."), field="quantity")
    target = (
        Target.objects.select_for_update()
        .filter(year=year, benefit_type=benefit_type, area_id=PROVINCE_CODE)
        .first()
    )
    if target is not None:
        allocated = target_remainder(target).allocated
        if quantity < allocated:
            raise TargetError(
                _(
                    "Quantity: %(allocated)s are already split to cities and counties; "
                    "the target cannot be less."
                )
                % {"allocated": allocated},
                field="quantity",
            )
    with pghistory.context(user=actor.pk):
        if target is None:
            return Target.objects.create(
                year=year, benefit_type=benefit_type, area_id=PROVINCE_CODE, quantity=quantity
            )
        target.quantity = quantity
        target.save(update_fields=["quantity", "updated_at"])
    return target


@transaction.atomic
def target_split(*, actor, target: Target, allocations: dict[str, int]) -> list[Target]:
    """Give parts of `target` to the areas below it. Areas left out keep what they have.

    The parent row is locked while the split is checked and written, so two splits at once cannot
    together hand out more than it holds.
    """
    target = Target.objects.select_for_update().select_related("area").get(pk=target.pk)
    if actor.area is None or actor.area.code != target.area_id:
        raise TargetError(_("Only the office of %(area)s splits its targets.") % {"area": target.area.name})
    allowed = {area.code: area for area in split_children(target.area)}
    unknown = sorted(set(allocations) - set(allowed))
    if unknown:
        raise TargetError(
            _("%(codes)s: not an area this target splits to.") % {"codes": ", ".join(unknown)},
            field="children",
        )
    if any(not isinstance(q, int) or q < 0 for q in allocations.values()):
        raise TargetError(_("Each quantity must be a whole number, zero or more."), field="children")
    current = {child.area_id: child for child in Target.objects.select_for_update().filter(parent=target)}
    for code, quantity in allocations.items():
        child = current.get(code)
        below = target_remainder(child).allocated if child else 0
        if quantity < below:
            raise TargetError(
                _("%(area)s: %(below)s are already split further down; its target cannot be less.")
                % {"area": allowed[code].name, "below": below},
                field="children",
            )
    kept = sum(child.quantity for code, child in current.items() if code not in allocations)
    requested, available = sum(allocations.values()), target.quantity - kept
    if requested > available:
        raise TargetError(
            _(
                "These parts add up to %(requested)s, but only %(available)s of the %(quantity)s "
                "remain to give out."
            )
            % {"requested": requested, "available": available, "quantity": target.quantity},
            field="children",
        )
    written = []
    with pghistory.context(user=actor.pk):
        for code, quantity in allocations.items():
            child = current.get(code)
            if child is None:
                child = Target.objects.create(
                    year=target.year,
                    benefit_type_id=target.benefit_type_id,
                    area_id=code,
                    quantity=quantity,
                    parent=target,
                )
            elif child.quantity != quantity:
                child.quantity = quantity
                child.save(update_fields=["quantity", "updated_at"])
            written.append(child)
    return written
